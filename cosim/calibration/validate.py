"""Held-out validation: fit on part of a measurement table, predict the rest, and compare with the preset as
published. K-fold (every measurement held out once) or a split the user names (``COLUMN=VALUE`` held out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cosim.calibration.extrapolation import extrapolations
from cosim.calibration.fit import fit, informed_parameters
from cosim.calibration.overlay import Overlay
from cosim.calibration.predict import Predictor
from cosim.calibration.uncertainty import delta_stderr, parameter_step
from cosim.errors import CosimInputError


@dataclass
class Validation:
    """Held-out predictions (one row per measurement), MAPE per group, and the files written."""

    hardware: str
    parameters: list[str]
    scheme: str
    predictions: Any  # DataFrame
    summary: Any  # DataFrame
    skipped: list[dict[str, str]] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)

    def worst(self, n: int = 10):
        """The ``n`` held-out points the calibrated model predicts worst (time), worst first."""
        return self.predictions.sort_values("time_ape_calibrated", ascending=False).head(n)


def _folds(frame, usable: np.ndarray, folds: int | None, split: str | None, source: str) -> tuple[np.ndarray, str]:
    """Fold number of each row (-1: not evaluated) and a description of the scheme."""
    assign = np.full(len(frame), -1)
    if split is not None:
        if "=" not in split:
            raise CosimInputError(f"--split {split!r} must look like COLUMN=VALUE (rows with that value are held out)")
        column, value = (part.strip() for part in split.split("=", 1))
        if column not in frame.columns:
            raise CosimInputError(f"--split: no column {column!r}; columns: {', '.join(frame.columns)}", source)
        held = (frame[column].astype(str) == value).to_numpy()
        if not (held & usable).any() or not (~held & usable).any():
            raise CosimInputError(f"--split {column}={value}: holds out {int((held & usable).sum())} of "
                                  f"{int(usable.sum())} usable measurements; both parts must be non-empty (values: "
                                  f"{', '.join(sorted(frame[column].astype(str).unique()))})", source)
        assign[usable] = np.where(held[usable], 0, -2)  # -2: training only
        return assign, f"split {column}={value} held out"
    k = 5 if folds is None else folds
    if not 2 <= k <= int(usable.sum()):
        raise CosimInputError(f"--folds {k}: must be between 2 and the {int(usable.sum())} usable measurements")
    order = np.random.default_rng(0).permutation(np.flatnonzero(usable))
    assign[order] = np.arange(len(order)) % k
    return assign, f"{k}-fold cross-validation"


def _held_out(overlay: Overlay, hardware: str, workloads: list) -> tuple[np.ndarray, ...]:
    """Predicted time and energy of ``workloads`` at the fitted values, with their standard errors."""
    paths = overlay.paths
    values = np.array([overlay.parameters[p]["value"] for p in paths])
    steps = np.array([parameter_step(overlay.parameters[p], v) for p, v in zip(paths, values)])
    latency, energy, _ = Predictor(hardware, {}, paths, workloads).predict(np.vstack([values, values + np.diag(steps)]))
    out = []
    for metric in (latency, energy):
        grad = ((metric[1:] - metric[0]) / steps[:, None]).T
        out += [metric[0], delta_stderr(grad, overlay.covariance)]
    return tuple(out)


def _ape(predicted, measured) -> np.ndarray:
    return np.abs(np.asarray(predicted, float) - measured) / measured * 100.0


def _summary(table, n_parameters: int):
    import pandas as pd

    groups = [("per-op", table["scope"] == "op"), ("end-to-end", table["scope"] == "end_to_end")]
    groups += [(f"op: {kind}", (table["scope"] == "op") & (table["op_kind"] == kind))
               for kind in sorted(table.loc[table["scope"] == "op", "op_kind"].unique())]
    rows = []
    for name, mask in groups:
        for quantity in ("time", "energy"):
            sub = table[mask & table[f"{quantity}_ape_calibrated"].notna()]
            if sub.empty:
                continue
            row = {"group": name, "quantity": quantity, "points": len(sub),
                   "mape_preset": sub[f"{quantity}_ape_preset"].mean(),
                   "mape_calibrated": sub[f"{quantity}_ape_calibrated"].mean(),
                   "fitted_parameters": n_parameters}
            if f"{quantity}_ape_overlay" in sub:
                row["mape_overlay_in_sample"] = sub[f"{quantity}_ape_overlay"].mean()
            rows.append(row)
    return pd.DataFrame(rows)


def validate(frame, source: str, hardware: str, parameters: list[str] | None = None, folds: int | None = None,
             split: str | None = None, overlay: Overlay | None = None, force: bool = False) -> Validation:
    """Fit on the training part of each fold, predict its held-out part; see the module docstring. With ``overlay``
    its own (in-sample) predictions are reported beside, marked as such."""
    import pandas as pd

    from cosim.calibration.schema import measured_workload
    from cosim.calibration.parameters import fit_parameters
    from hw_models.hardware import load_hardware

    workloads = [measured_workload(row, source) for _, row in frame.iterrows()]
    params = fit_parameters(load_hardware(hardware), parameters)
    paths = [p.path for p in params]
    preset_latency, preset_energy, reasons = Predictor(hardware, {}, paths, workloads).predict(
        np.array([[p.preset for p in params]]))
    usable = np.array([not why for why in reasons])
    skipped = [{"measurement_id": str(m), "label": str(label), "reason": why}
               for m, label, why in zip(frame["measurement_id"], frame["label"], reasons) if why]
    assign, scheme = _folds(frame, usable, folds, split, source)
    if parameters is None and overlay is None:  # the kind's defaults: those the measurements inform (as a fit picks)
        params = informed_parameters(hardware, params, frame[usable], [w for w, u in zip(workloads, usable) if u])
        paths = [p.path for p in params]
    table = frame.loc[assign >= 0, ["measurement_id", "label", "scope", "op_kind", "median_s", "energy_j"]].copy()
    table = table.rename(columns={"median_s": "time_measured_s", "energy_j": "energy_measured_j"})
    table["fold"] = assign[assign >= 0]
    table["time_preset_s"], table["energy_preset_j"] = preset_latency[0, assign >= 0], preset_energy[0, assign >= 0]
    for column in ("time_calibrated_s", "time_stderr_s", "energy_calibrated_j", "energy_stderr_j"):
        table[column] = np.nan
    table["extrapolated"] = ""
    for fold in sorted(set(assign[assign >= 0])):
        train = (assign >= 0) & (assign != fold) | (assign == -2)
        test = np.flatnonzero(assign == fold)
        fitted = fit(frame[train], source, hardware, paths, [w for w, t in zip(workloads, train) if t], force=force)
        held = [workloads[i] for i in test]
        rows = table.index[table["fold"] == fold]
        columns = ["time_calibrated_s", "time_stderr_s", "energy_calibrated_j", "energy_stderr_j"]
        table.loc[rows, columns] = np.column_stack(_held_out(fitted, hardware, held))
        table.loc[rows, "extrapolated"] = ["; ".join(extrapolations(w, fitted.ranges)) for w in held]
    if overlay is not None:
        evaluated = [workloads[i] for i in np.flatnonzero(assign >= 0)]
        latency, energy, *_ = _held_out(overlay, hardware, evaluated)
        table["time_overlay_s"], table["energy_overlay_j"] = latency, energy
    for quantity, unit in (("time", "s"), ("energy", "j")):
        measured = table[f"{quantity}_measured_{unit}"].to_numpy(float)
        for which in ("preset", "calibrated", "overlay"):
            if f"{quantity}_{which}_{unit}" in table:
                table[f"{quantity}_ape_{which}"] = _ape(table[f"{quantity}_{which}_{unit}"], measured)
    table = table.reset_index(drop=True)
    return Validation(hardware, paths, scheme, table, _summary(table, len(paths)), skipped)


def plot(validation: Validation, path: Path) -> Path:
    """Predicted vs measured, log-log: the preset (grey) and the held-out calibrated predictions with error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = validation.predictions
    panels = [("time", "s", "time")] + ([("energy", "j", "energy")] if t["energy_measured_j"].notna().any() else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 5.5), squeeze=False)
    for ax, (q, unit, title) in zip(axes[0], panels):
        sub = t[t[f"{q}_measured_{unit}"].notna()]
        measured = sub[f"{q}_measured_{unit}"]
        ax.scatter(measured, sub[f"{q}_preset_{unit}"], marker="x", color="0.6", label="preset (uncalibrated)")
        for scope, marker in (("op", "o"), ("end_to_end", "s")):
            part = sub[sub["scope"] == scope]
            if part.empty:
                continue
            ax.errorbar(part[f"{q}_measured_{unit}"], part[f"{q}_calibrated_{unit}"],
                        yerr=part[f"{q}_stderr_{unit}"], fmt=marker, ms=4, capsize=2,
                        label=f"calibrated, held out ({scope.replace('_', '-')})")
        lo = float(np.nanmin([measured.min(), sub[f"{q}_preset_{unit}"].min(), sub[f"{q}_calibrated_{unit}"].min()]))
        hi = float(np.nanmax([measured.max(), sub[f"{q}_preset_{unit}"].max(), sub[f"{q}_calibrated_{unit}"].max()]))
        line = np.array([lo / 1.5, hi * 1.5])
        ax.plot(line, line, "k-", lw=0.8)
        ax.plot(line, line * 1.1, "k:", lw=0.6)
        ax.plot(line, line / 1.1, "k:", lw=0.6, label="±10%")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(f"measured {title} ({unit.upper() if unit == 'j' else unit})")
        ax.set_ylabel(f"predicted {title} ({unit.upper() if unit == 'j' else unit})")
        ax.set_title(f"{validation.hardware}: {title}, {len(validation.parameters)} fitted parameters")
        ax.legend(fontsize=7)
    fig.suptitle(validation.scheme)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write(validation: Validation, output: Path) -> dict[str, Path]:
    """Write the predictions (Parquet), the MAPE summary (CSV), the plot and a markdown report to ``output``."""
    from cosim.report import _markdown

    output.mkdir(parents=True, exist_ok=True)
    files = {"predictions": output / "predictions.parquet", "summary": output / "summary.csv",
             "plot": output / "predicted_vs_measured.png", "report": output / "validation.md"}
    validation.predictions.to_parquet(files["predictions"])
    validation.summary.to_csv(files["summary"], index=False)
    plot(validation, files["plot"])
    worst = validation.worst()[["label", "scope", "time_measured_s", "time_calibrated_s", "time_stderr_s",
                                "time_ape_preset", "time_ape_calibrated", "extrapolated"]]
    lines = [f"# Validation of {validation.hardware}", "", f"{validation.scheme}; fitted parameters "
             f"({len(validation.parameters)}): {', '.join(validation.parameters)}", "",
             _markdown(validation.summary) if len(validation.summary) else "(no rows)", "",
             "## Worst held-out points (time)", "", _markdown(worst), ""]
    if validation.skipped:
        lines += ["## Skipped (the preset has no model for them)", ""]
        lines += [f"- {s['measurement_id']} {s['label']}: {s['reason']}" for s in validation.skipped] + [""]
    files["report"].write_text("\n".join(lines))
    validation.files = files
    return files
