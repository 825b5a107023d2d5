"""Disk-hygiene arithmetic and summaries, on fake data."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from helpers.lessons import hygiene


class FakeDfClient:
    def df(self):
        return {
            "LayersSize": 1000,
            "Images": [
                {"Size": 600, "SharedSize": 100, "Containers": 1},
                {"Size": 400, "SharedSize": 0, "Containers": 0},
            ],
            "Containers": [{"State": "running", "SizeRw": 5}, {"State": "exited", "SizeRw": 7}],
            "Volumes": [{"UsageData": {"Size": 50, "RefCount": 1}}, {"UsageData": {"Size": 20, "RefCount": 0}}],
            "BuildCache": [
                {"Size": 30, "InUse": True, "Shared": False},
                {"Size": 40, "InUse": False, "Shared": False},
                {"Size": 99, "InUse": False, "Shared": True},
            ],
        }


def test_system_df_arithmetic(monkeypatch):
    """Does system_df apply the CLI's arithmetic (active, size, reclaimable) to /system/df?"""
    df = hygiene.system_df(FakeDfClient()).set_index("type")
    assert df.loc["Images", "total"] == 2 and df.loc["Images", "active"] == 1
    assert df.loc["Images", "reclaimable_mb"] == round(500 / 1e6, 1)
    assert df.loc["Containers", "active"] == 1
    assert df.loc["Local Volumes", "active"] == 1
    assert df.loc["Build Cache", "active"] == 1


def test_prune_summary_counts_foreign_resources():
    """Does the summary count what each cleanup would remove that the kit did not create?"""
    preview = pd.DataFrame(
        [
            {
                "kind": "image",
                "name": "course-base/python",
                "kit": False,
                "prune": False,
                "prune -a --volumes": True,
                "kit cleanup": False,
            },
            {
                "kind": "container",
                "name": "job",
                "kit": True,
                "prune": True,
                "prune -a --volumes": True,
                "kit cleanup": True,
            },
        ]
    )
    s = hygiene.prune_summary(preview).set_index("cleanup")
    assert s.loc["prune -a --volumes", "would remove"] == 2
    assert s.loc["prune -a --volumes", "of which not the kit's"] == 1
    assert s.loc["kit cleanup", "of which not the kit's"] == 0


class _Volume:
    def __init__(self, name, labels=None):
        self.name, self.attrs = name, {"Labels": labels}


class _VolumeClient:
    def __init__(self, api):
        self._api = api
        self.volumes = SimpleNamespace(
            list=lambda: [_Volume("named"), _Volume("anon", {"com.docker.volume.anonymous": ""}), _Volume("mounted")]
        )

    def version(self):
        return {"ApiVersion": self._api}


def test_volume_prune_keeps_named_volumes_from_engine_23():
    """`prune --volumes` removes every unused volume on API 1.41 (Engine 20.10), only anonymous ones from 1.42."""
    mounted = [SimpleNamespace(attrs={"Mounts": [{"Name": "mounted"}]})]
    for api, removed in (("1.41", {"named", "anon"}), ("1.42", {"anon"}), ("1.52", {"anon"})):
        rows = hygiene._volume_rows(_VolumeClient(api), mounted)
        assert {r["name"] for r in rows if r["prune -a --volumes"]} == removed, api
        assert not any(r["prune"] for r in rows)
