"""Totals every evaluation reports, and the arithmetic that derives them from time and energy (single devices and
heterogeneous ones alike)."""

from __future__ import annotations

from hw_models.cost import ENERGY_FIELDS
from workloads.ir import Workload

ENERGY_COMPONENTS = ("compute", "onchip", "dram", "interconnect", "static")
ENERGY_SLOTS = ENERGY_FIELDS  # the cost-record slot of each component, in ENERGY_COMPONENTS order
DYNAMIC_SLOTS = ENERGY_FIELDS[:-1]  # every component but static
TOTAL_COLUMNS = ("feasible", "reason", "latency_s", "period_s", "throughput", "energy_j", "energy_per_item_j",
                 "power_w", "edp_js", "memory_per_device_bytes", "memory_capacity_bytes", "devices") + tuple(
    f"energy_{c}_j" for c in ENERGY_COMPONENTS)


def plural(unit: str) -> str:
    """English plural of an item unit (token → tokens, query → queries)."""
    return unit[:-1] + "ies" if unit.endswith("y") and unit[-2:-1] not in "aeiou" else unit + "s"


def finish_totals(out: dict, dynamic, idle_w, workload: Workload, latency, period) -> dict:
    """Add to ``out`` the idle energy of every device over the period and the totals derived from energy and time
    (floats or arrays over points)."""
    static = idle_w * workload.devices * period
    energy = dynamic + static
    out.update(energy_static_j=static, energy_j=energy, throughput=workload.items / period,
               energy_per_item_j=energy / workload.items, power_w=energy / period, edp_js=energy * latency)
    return out
