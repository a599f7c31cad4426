"""Fitting preset parameters to measurements: bounded least squares (scipy) on the log of predicted over measured
time (and energy where a power sensor measured it), standard errors and covariance from the Jacobian at the
solution. Every Jacobian is one batched evaluation per measurement (the point and one perturbation per parameter)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cosim.calibration.extrapolation import measured_ranges
from cosim.calibration.overlay import Overlay
from cosim.calibration.parameters import FitParameter, fit_parameters
from cosim.calibration.predict import Predictor
from cosim.errors import CosimInputError

# Which device kinds a board's measurements can calibrate (boards not listed are not checked).
BOARD_KINDS = {"host-cpu": ("cpu",), "cuda": ("gpu",), "jetson": ("gpu",), "gap8": ("iot",),
               "cortex-m": ("iot",), "fpga": ("fpga",)}
_STEP = 1e-4  # forward-difference step, relative to each scaled variable (order one)


def board_identity(frame, source: str) -> dict[str, Any]:
    """The one board a table measured (its board, device name, host, date range); several boards are an error."""
    boards = frame[["board", "device_name"]].drop_duplicates()
    if len(boards) > 1:
        listed = ", ".join(f"{b} / {d}" for b, d in boards.itertuples(index=False))
        raise CosimInputError(f"columns board, device_name: the table mixes {len(boards)} boards ({listed}); fit "
                              f"one board at a time", source)
    out = {"board": str(boards.iloc[0, 0]), "device_name": str(boards.iloc[0, 1])}
    for column in ("host", "date", "library_versions"):
        if column in frame.columns:
            values = sorted({str(v) for v in frame[column]})
            if column == "date" and len(values) > 1:  # a run's rows carry their own times: keep its first and last
                values = [values[0], values[-1]]
            out[column] = values[0] if len(values) == 1 else values
    return out


def check_board(board: str, hardware, source: str) -> None:
    """A board whose measurements cannot describe ``hardware``'s device kind is an error naming both."""
    kinds = BOARD_KINDS.get(board)
    if kinds is not None and hardware.kind not in kinds:
        raise CosimInputError(f"column board: {board!r} measurements cannot calibrate {hardware.name!r}, a "
                              f"{hardware.kind} preset (a {board!r} board calibrates kind "
                              f"{' or '.join(kinds)})", source)


def _bound_step(z: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """A forward step per variable, turned backwards where it would leave its upper bound."""
    step = _STEP * np.maximum(np.abs(z), 1e-3)
    return np.where(z + step > upper, -step, step)


class _Problem:
    """Residuals and Jacobian of the scaled variables z = value / scale, sharing one batched evaluation."""

    def __init__(self, predictor: Predictor, params: list[FitParameter], time: np.ndarray, energy: np.ndarray):
        self.predictor, self.params = predictor, params
        self.scale = np.array([p.scale for p in params])
        self.lower = np.array([p.lower for p in params]) / self.scale
        self.upper = np.array([p.upper for p in params]) / self.scale
        self.log_time, self.energy_mask = np.log(time), np.isfinite(energy)
        self.log_energy = np.log(energy[self.energy_mask])
        self._cache: tuple[bytes, np.ndarray, np.ndarray] | None = None

    def _residuals(self, latency: np.ndarray, energy: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.concatenate([np.log(latency) - self.log_time,
                                np.log(energy[..., self.energy_mask]) - self.log_energy], axis=-1)
        return np.where(np.isfinite(r), r, 10.0)  # a point the model cannot run is far from every measurement

    def _evaluate(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        key = z.tobytes()
        if self._cache is None or self._cache[0] != key:
            step = _bound_step(z, self.lower, self.upper)
            points = np.vstack([z, z + np.diag(step)])
            latency, energy, _ = self.predictor.predict(points * self.scale)
            r = self._residuals(latency, energy)
            self._cache = (key, r[0], (r[1:] - r[0]).T / step)
        return self._cache[1], self._cache[2]

    def fun(self, z: np.ndarray) -> np.ndarray:
        return self._evaluate(z)[0]

    def jac(self, z: np.ndarray) -> np.ndarray:
        return self._evaluate(z)[1]


def _problem(hardware: str, base: dict[str, Any], params: list[FitParameter], frame, workloads: list):
    """The least-squares problem of ``params`` over the measured rows ``frame`` (their ``workloads``), and the
    preset's values as its start point (scaled, within the bounds)."""
    problem = _Problem(Predictor(hardware, base, [p.path for p in params], workloads), params,
                       frame["median_s"].to_numpy(float), frame["energy_j"].to_numpy(float))
    return problem, np.clip(np.array([p.preset for p in params]) / problem.scale, problem.lower, problem.upper)


def _uninformed(problem: _Problem, z0: np.ndarray) -> list[str]:
    """Paths of the problem's parameters that change none of its predictions at ``z0``."""
    return [p.path for p, col in zip(problem.params, problem.jac(z0).T) if not np.any(col)]


def informed_parameters(hardware: str, params: list[FitParameter], frame, workloads: list,
                        base_overrides: dict[str, Any] | None = None) -> list[FitParameter]:
    """Of ``params``, those some prediction of the measured rows ``frame`` (their ``workloads``, all runnable)
    depends on: what a fit of the kind's default parameters fits (no power sensor: no energy parameter)."""
    dead = _uninformed(*_problem(hardware, dict(base_overrides or {}), params, frame, workloads))
    return [p for p in params if p.path not in dead]


def fit(frame, source: str, hardware: str, parameters: list[str] | None = None, workloads: list | None = None,
        base_overrides: dict[str, Any] | None = None, force: bool = False) -> Overlay:
    """Fit ``parameters`` (default: the kind's fittable ones) of preset ``hardware`` to the measurement table
    ``frame`` (read from ``source``); returns the overlay. Measurements the preset cannot run are skipped and listed
    in ``Overlay.skipped``. ``workloads``: the measured workloads, if the caller already rebuilt them."""
    from scipy.optimize import least_squares

    from cosim.calibration.schema import measured_workload
    from hw_models.hardware import load_hardware

    base = dict(base_overrides or {})
    hw = load_hardware(hardware, base)
    board = board_identity(frame, source)
    if not force:
        check_board(board["board"], hw, source)
    params = fit_parameters(hw, parameters)
    paths = [p.path for p in params]
    if workloads is None:
        workloads = [measured_workload(row, source) for _, row in frame.iterrows()]
    _, _, reasons = Predictor(hw.name, base, paths, workloads).predict(np.array([[p.preset for p in params]]))
    skipped = [{"measurement_id": str(mid), "label": str(label), "reason": why}
               for mid, label, why in zip(frame["measurement_id"], frame["label"], reasons) if why]
    keep = np.array([not why for why in reasons])
    if not keep.any():
        raise CosimInputError(f"{hw.name!r} can run none of the {len(frame)} measurements (first: "
                              f"{skipped[0]['label']}: {skipped[0]['reason']})", source)
    used = frame[keep]
    used_workloads = [w for w, k in zip(workloads, keep) if k]
    problem, z0 = _problem(hw.name, base, params, used, used_workloads)
    dead = _uninformed(problem, z0)
    if dead and parameters is not None:  # asked for by name: say so rather than drop it
        raise CosimInputError(f"parameter(s) {', '.join(dead)} change none of the {len(used)} predictions the "
                              f"measurements check; fit fewer with --parameters", source)
    if dead:  # the kind's defaults: fit those the measurements inform (no energy data: no energy parameter)
        params = [p for p in params if p.path not in dead]
        if not params:
            raise CosimInputError(f"none of {hw.name!r}'s fittable parameters changes a prediction the "
                                  f"{len(used)} measurements check", source)
        paths = [p.path for p in params]
        problem, z0 = _problem(hw.name, base, params, used, used_workloads)
    n_residuals = len(problem.log_time) + len(problem.log_energy)
    if n_residuals <= len(params):
        raise CosimInputError(f"{n_residuals} usable measured values cannot determine {len(params)} parameters "
                              f"({', '.join(paths)}); measure more, or fit fewer with --parameters", source)
    solution = least_squares(problem.fun, z0, jac=problem.jac, bounds=(problem.lower, problem.upper),
                             x_scale="jac", method="trf")
    residuals, jac = problem.fun(solution.x), problem.jac(solution.x)
    dof = n_residuals - len(params)
    variance = float(residuals @ residuals) / dof
    cov = variance * np.linalg.pinv(jac.T @ jac) * np.outer(problem.scale, problem.scale)
    values = solution.x * problem.scale
    from hw_models.preset import unit_of

    entries = {}
    for i, p in enumerate(params):
        entries[p.path] = {"value": float(values[i]), "stderr": float(math.sqrt(max(cov[i, i], 0.0))),
                           "preset": p.preset, "unit": unit_of(p.path),
                           "bounds": [p.lower if math.isfinite(p.lower) else None,
                                      p.upper if math.isfinite(p.upper) else None]}
    fit_info = {"method": "least_squares", "residual": "log", "points": int(n_residuals),
                "parameters": len(params), "rmse_log": float(math.sqrt(residuals @ residuals / n_residuals)),
                "energy_points": int(len(problem.log_energy)), "status": solution.message,
                "not_informed": dead}
    return Overlay(hw.name, entries, cov, board, [str(m) for m in used["measurement_id"]], fit_info,
                   measured_ranges(used_workloads), skipped)
