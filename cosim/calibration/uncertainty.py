"""Error bars: the fit's covariance propagated to a prediction's latency and energy by the delta method, with the
gradient taken by forward differences (every perturbed point of every hardware variant in one batched engine call),
and the extrapolation flag of the workload against the fit's measured range."""

from __future__ import annotations

import numpy as np

from cosim.calibration.extrapolation import extrapolations
from cosim.calibration.overlay import CalibratedHardware
from cosim.engine import evaluate_points

METRICS = ("latency_s", "period_s", "throughput", "energy_j", "energy_per_item_j", "power_w")
_STEP = 1e-3  # relative forward-difference step


def parameter_step(entry: dict, value: float) -> float:
    """A forward-difference step for a fitted value, turned backwards where it would pass the upper bound."""
    step = _STEP * (abs(value) if value else 1.0)
    upper = (entry.get("bounds") or [None, None])[1]
    return -step if upper is not None and value + step > upper else step


def delta_stderr(gradient: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    """Standard error of each prediction (rows of ``gradient``: its derivative by each fitted parameter) under the
    fit's ``covariance``: sqrt(g Σ gᵀ)."""
    return np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", gradient, covariance, gradient), 0.0))


def calibration_columns(points: list[CalibratedHardware], workload, objective: str = "latency", table=None,
                        totals: dict | None = None) -> dict[str, np.ndarray]:
    """For hardware variants sharing one overlay: ``<metric>_stderr`` per point for each of :data:`METRICS`, and
    ``extrapolated`` (text naming each op outside the measured range; '' when none)."""
    from hw_models.hardware import load_hardware

    overlay = points[0].calibration
    paths = overlay.paths
    base = np.stack([hw.params for hw in points])
    if totals is None:
        totals = evaluate_points(points[0], workload, base, objective, table)
    rows, where = [], []  # where: (point, parameter, step) of each perturbed row
    for i, hw in enumerate(points):
        for j, path in enumerate(paths):
            if path in hw.fixed:
                continue
            value = overlay.parameters[path]["value"]
            step = parameter_step(overlay.parameters[path], value)
            rows.append(load_hardware(hw.name, {**hw.overrides, path: value + step}).params)
            where.append((i, j, step))
    out: dict[str, np.ndarray] = {}
    perturbed = evaluate_points(points[0], workload, np.stack(rows), objective, table) if rows else None
    for metric in METRICS:
        grad = np.zeros((len(points), len(paths)))
        for r, (i, j, step) in enumerate(where):
            grad[i, j] = (perturbed[metric][r] - totals[metric][i]) / step
        out[f"{metric}_stderr"] = delta_stderr(grad, overlay.covariance)
    note = "; ".join(extrapolations(workload, overlay.ranges))
    out["extrapolated"] = np.array([note] * len(points), dtype=object)
    return out
