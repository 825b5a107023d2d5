"""Unit tests for helpers.vm.cost: the cost model is pure arithmetic on its parameters."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.vm.cost import (
    HOURS_PER_MONTH,
    CostParams,
    InstanceType,
    density,
    figure,
    monthly_cost,
    replicas_per_host,
    smallest_instance,
)

HOST = InstanceType("big", 4, 16, 0.16)
SIZES = (InstanceType("s", 2, 1, 0.01), InstanceType("m", 2, 2, 0.02), HOST)


def test_replicas_per_host_counts_reserved_memory_and_headroom():
    """Does a 16 GiB host with 1 GiB reserved and 25 % headroom hold 11520 MiB worth of replicas?"""
    assert replicas_per_host(100, HOST, reserved_mib=1024, headroom=0.25) == 115
    assert replicas_per_host(100, HOST, reserved_mib=0, headroom=0) == 163
    with pytest.raises(ValueError):
        replicas_per_host(0, HOST)


def test_smallest_instance_is_the_cheapest_that_fits():
    """Is a 900 MiB VM put on the 2 GiB size when 20 % headroom rules out the 1 GiB one?"""
    assert smallest_instance(700, SIZES, headroom=0.2).name == "s"
    assert smallest_instance(900, SIZES, headroom=0.2).name == "m"
    with pytest.raises(ValueError):
        smallest_instance(64 * 1024, SIZES)


def test_monthly_cost_containers_share_hosts_vms_do_not():
    """Do containers pay per host (in steps) while VMs pay per replica?"""
    params = CostParams(host=HOST, vm_sizes=SIZES, host_reserved_mib=0, headroom=0)
    df = monthly_cost([1, 163, 164], container_mib=100, vm_mib=900, params=params)
    ctr = df[df.platform == "containers"].set_index("replicas")
    vms = df[df.platform == "VMs"].set_index("replicas")
    assert list(ctr["machines"]) == [1, 1, 2]
    assert ctr.loc[164, "monthly_usd"] == pytest.approx(2 * 0.16 * HOURS_PER_MONTH)
    assert list(vms["machine_type"].unique()) == ["s"]
    assert vms.loc[163, "monthly_usd"] == pytest.approx(163 * 0.01 * HOURS_PER_MONTH)


def test_monthly_cost_refuses_a_container_bigger_than_the_host():
    """Is a replica that fits on no host an error rather than a zero bill?"""
    with pytest.raises(ValueError):
        monthly_cost([1], container_mib=20000, vm_mib=100, params=CostParams(host=HOST, vm_sizes=SIZES))


def test_density_and_figure():
    """Does density divide the budget by each platform's memory, and figure() pick measured rows only?"""
    d = density(1024, 32, 1100).set_index("platform")
    assert d.loc["containers", "replicas"] == 32 and d.loc["VMs", "replicas"] == 0
    m = pd.DataFrame(
        [
            {"platform": "vm", "metric": "start-up", "value": 12.0, "unit": "s", "source": "measured", "note": ""},
            {"platform": "vm", "metric": "start-up", "value": 0.125, "unit": "s", "source": "published", "note": ""},
        ]
    )
    assert figure(m, "vm", "start-up") == 12.0
    assert figure(m, "vm", "start-up", "published") == 0.125
    with pytest.raises(KeyError):
        figure(m, "container", "start-up")
