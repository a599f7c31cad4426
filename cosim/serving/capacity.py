"""Capacity: the highest request rate at which a system still meets an SLO, by bisection on the rate.

The search first checks its bracket: the low rate must meet the SLO and the high rate must miss it. A low rate that
misses is halved (up to ``EXPANSIONS`` times) and a high rate that meets is doubled likewise; when the bracket still
does not hold, the result says so (``found`` False, with the reason) instead of guessing. Inside a valid bracket it
bisects until ``(high - low) / high <= spec.tolerance`` and reports ``low``, the highest rate seen to meet the SLO.
Bisection assumes that meeting the SLO is monotone in the rate (true up to the sampling noise of finite runs).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from cosim.errors import CosimInputError
from cosim.serving.run import ServingRun
from cosim.serving.spec import CapacitySpec

EXPANSIONS = 6


@dataclass
class CapacityResult:
    """``rate_per_s``: the highest rate found to meet the SLO (nan when even the lowest tried misses it);
    ``bracket``: (highest rate meeting, lowest rate missing) — ``inf`` as the upper end when no rate tried missed;
    ``runs``: every run, in the order made."""

    rate_per_s: float
    bracket: tuple[float, float]
    runs: list[ServingRun] = field(default_factory=list)
    found: bool = True
    reason: str = ""


def capacity_search(run_at_rate: Callable[[float], ServingRun], slo_name: str, spec: CapacitySpec
                    ) -> CapacityResult:
    """Bisect the request rate between ``spec.low`` and ``spec.high`` for the highest one whose run meets
    ``slo_name`` (``run.goodput[slo_name]["meets"]``); ``run_at_rate(rate)`` simulates one run."""
    runs: list[ServingRun] = []

    def meets(rate: float) -> bool:
        run = run_at_rate(rate)
        runs.append(run)
        if slo_name not in run.goodput:
            raise KeyError(f"the run at {rate} req/s was not judged by SLO {slo_name!r}: {sorted(run.goodput)}")
        return bool(run.goodput[slo_name]["meets"])

    low, high = spec.low, spec.high
    if not low < high:
        raise CosimInputError(f"capacity: low ({low:g} req/s) must be below high ({high:g} req/s)")
    high_missed = False
    for tries in range(EXPANSIONS + 1):
        if meets(low):
            break
        high, high_missed = low, True
        if tries == EXPANSIONS:
            return CapacityResult(math.nan, (0.0, high), runs, False,
                                  f"even {high:g} req/s misses SLO {slo_name!r}")
        low /= 2
    for tries in range(EXPANSIONS + 1):
        if high_missed or not meets(high):
            break
        low = high
        if tries == EXPANSIONS:
            return CapacityResult(low, (low, math.inf), runs, False,
                                  f"{low:g} req/s still meets SLO {slo_name!r}: no rate tried missed it")
        high *= 2
    while (high - low) / high > spec.tolerance:
        mid = 0.5 * (low + high)
        if meets(mid):
            low = mid
        else:
            high = mid
    return CapacityResult(low, (low, high), runs)
