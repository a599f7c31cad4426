"""Predictions of measured workloads at many values of the fitted parameters at once: each value vector becomes a
preset load with overrides (so derived parameters and units follow), and each workload is evaluated at all of them
in one batched engine call."""

from __future__ import annotations

from typing import Any

import numpy as np

from cosim.engine import evaluate_points
from workloads.table import op_table


def parameter_rows(preset: str, base: dict[str, Any], paths: list[str], values: np.ndarray) -> np.ndarray:
    """The packed parameter matrix of ``preset`` with ``base`` overrides and ``paths`` set to each row of
    ``values`` (points × paths)."""
    from hw_models.hardware import load_hardware

    return np.stack([load_hardware(preset, {**base, **dict(zip(paths, map(float, row)))}).params
                     for row in np.atleast_2d(values)])


class Predictor:
    """Latency and energy of fixed workloads on one preset, as functions of the fitted parameters' values."""

    def __init__(self, preset: str, base: dict[str, Any], paths: list[str], workloads: list,
                 objective: str = "latency"):
        from hw_models.hardware import load_hardware

        self.preset, self.base, self.paths, self.objective = preset, dict(base), list(paths), objective
        self.hardware = load_hardware(preset, base)
        self.workloads = list(workloads)
        self.tables = [op_table(w) for w in self.workloads]

    def predict(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(latency (points × workloads), energy (points × workloads), why each workload is infeasible at the
        first point, '' when feasible). Infeasible predictions are NaN."""
        rows = parameter_rows(self.preset, self.base, self.paths, values)
        latency = np.full((len(rows), len(self.workloads)), np.nan)
        energy = np.full_like(latency, np.nan)
        reasons = []
        for j, (workload, table) in enumerate(zip(self.workloads, self.tables)):
            totals = evaluate_points(self.hardware, workload, rows, self.objective, table)
            latency[:, j], energy[:, j] = totals["latency_s"], totals["energy_j"]
            reasons.append(str(totals["reason"][0]) if not totals["feasible"][0] else "")
        return latency, energy, reasons
