"""Widgets for the cost exercise: change prices and sizes, see the monthly bill move."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from helpers.vm.cost import CostParams, InstanceType, monthly_cost
from helpers.vm.plots import plot_cost

__all__ = ["cost_explorer"]


def cost_explorer(container_mib: float, vm_mib: float, max_replicas: int = 50, params: CostParams | None = None) -> Any:
    """Sliders and boxes over :func:`helpers.monthly_cost`, with the cost plot underneath.

    Args:
        container_mib: Measured memory of one container replica.
        vm_mib: Measured memory of one VM replica.
        max_replicas: Largest replica count on the slider.
        params: Starting assumptions (default :class:`helpers.vm.CostParams`).

    Returns:
        An ipywidgets VBox (display it as the last expression of a cell).
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    base = params or CostParams()
    names = [i.name for i in base.vm_sizes]
    replicas = w.IntSlider(value=min(20, max_replicas), min=1, max=max_replicas, description="replicas")
    host = w.Dropdown(
        options=names, value=base.host.name if base.host.name in names else names[-1], description="host type"
    )
    host_price = w.FloatText(value=base.host.hourly_usd, step=0.01, description="host $/h")
    headroom = w.FloatSlider(value=base.headroom, min=0.0, max=0.6, step=0.05, description="headroom")
    c_mib = w.FloatText(value=round(container_mib, 1), description="ctr MiB")
    v_mib = w.FloatText(value=round(vm_mib, 1), description="VM MiB")
    out = w.Output()

    def on_host(_: Any) -> None:
        host_price.value = next(i.hourly_usd for i in base.vm_sizes if i.name == host.value)

    def redraw(_: Any = None) -> None:
        chosen = next(i for i in base.vm_sizes if i.name == host.value)
        p = replace(
            base,
            host=InstanceType(chosen.name, chosen.vcpus, chosen.memory_gib, host_price.value),
            headroom=headroom.value,
        )
        with out:
            out.clear_output(wait=True)
            try:
                df = monthly_cost(range(1, replicas.value + 1), c_mib.value, v_mib.value, p)
            except ValueError as e:
                print(f"{e}: choose a bigger machine or less headroom.")
                return
            plot_cost(df)
            plt.show()
            last = df[df["replicas"] == replicas.value].set_index("platform")["monthly_usd"]
            print(
                f"{replicas.value} replicas: containers ${last['containers']:.0f}/month, VMs ${last['VMs']:.0f}/month"
            )

    host.observe(on_host, names="value")
    for widget in (replicas, host, host_price, headroom, c_mib, v_mib):
        widget.observe(redraw, names="value")
    redraw()
    return w.VBox([w.HBox([replicas, headroom]), w.HBox([host, host_price]), w.HBox([c_mib, v_mib]), out])
