"""The sweep runner: expand a config into design points, evaluate them in batches, store results as they finish.

Points sharing a workload variant and a hardware entry are evaluated in one batched kernel call (one row of
parameters per hardware variant). Finished batches are appended to ``partial/`` so an interrupted sweep loses nothing;
``--resume`` evaluates only the points missing from ``results.parquet``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from cosim.config import HardwarePoint, SweepConfig, hardware_points, point_id, workload_points
from cosim.errors import CosimInputError

RESULT_FILES = ("results.parquet", "ops.parquet", "pareto.png", "summary.md", "serving.parquet")


@dataclass
class SweepOutcome:
    """What a sweep produced: the results table, where it was written, and how long it took."""

    results: Any  # pandas DataFrame
    output: Path
    files: dict[str, Path] = field(default_factory=dict)
    elapsed_s: float = 0.0
    evaluated: int = 0
    interrupted: bool = False


def prepare_output(output: Path, overwrite: bool, resume: bool) -> None:
    """Refuse to mix with earlier results unless told to overwrite or resume."""
    existing = [f for f in RESULT_FILES if (output / f).exists()] + (["partial/"] if (output / "partial").exists()
                                                                      else [])
    if existing and not (overwrite or resume):
        raise CosimInputError(f"{output} already holds results ({', '.join(existing)}); pass --overwrite to replace "
                              f"them or --resume to evaluate only the missing points")
    if overwrite:
        for name in RESULT_FILES:
            (output / name).unlink(missing_ok=True)
        for part in sorted((output / "partial").glob("*.parquet")) if (output / "partial").exists() else []:
            part.unlink()
    output.mkdir(parents=True, exist_ok=True)


def _load_done(output: Path):
    """Rows already computed: the results table plus any partial batches of an interrupted run."""
    import pandas as pd

    frames = []
    if (output / "results.parquet").exists():
        frames.append(pd.read_parquet(output / "results.parquet"))
    if (output / "partial").exists():
        frames += [pd.read_parquet(p) for p in sorted((output / "partial").glob("*.parquet"))]
    if not frames:
        return None
    return pd.concat(frames, ignore_index=True).drop_duplicates("point_id", keep="last")


def parquet_safe(frame):
    """Object columns that mix types (an int in one row, a string in another) become strings, as Parquet needs."""
    for col in frame.columns:
        if frame[col].dtype == object:
            kinds = {type(v) for v in frame[col] if v is not None and not (isinstance(v, float) and v != v)}
            if len(kinds) > 1:
                frame[col] = [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in frame[col]]
    return frame


def _cell(value: Any) -> Any:
    """A table cell: scalars as they are, lists and mappings (cache plans, per-layer maps) as compact JSON."""
    if isinstance(value, (list, tuple, dict)):
        import json

        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return value


def _hardware_columns(hw: HardwarePoint, swept: list[str], base_values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    overrides = dict(hw.overrides)
    row = {"hardware": hw.label, "preset": hw.preset}
    if hw.calibration:
        row["calibration"] = hw.calibration
    for path in swept:
        row[f"hw.{path}"] = overrides.get(path, base_values[hw.preset].get(path, np.nan))
    return row


def _flat_values(preset: str) -> dict[str, Any]:
    from hw_models.preset import leaf_paths, read_preset

    values = read_preset(preset).values
    out = {}
    for path in leaf_paths(values):
        node = values
        for key in path.split("."):
            node = node[key]
        out[path] = node
    return out


def run_sweep(cfg: SweepConfig, output: Path, jobs: int | None = None, with_ops: bool = False,
              overwrite: bool = False, resume: bool = False, progress: bool = True,
              on_batch: Callable[[int, int], None] | None = None) -> SweepOutcome:
    """Evaluate every design point of ``cfg`` and write the results folder; see module docstring."""
    import pandas as pd

    from hw_models.hardware import load_hardware
    from cosim.calibration.overlay import calibrated_hardware, read_overlay
    from cosim.engine import evaluate_points, op_frame
    from workloads import WorkloadParamError, load_workload
    from workloads.table import op_table

    start = time.perf_counter()
    output = Path(output)
    prepare_output(output, overwrite, resume)
    if jobs:
        import numba

        numba.set_num_threads(max(1, min(jobs, numba.config.NUMBA_NUM_THREADS)))

    hw_points = hardware_points(cfg)
    wl_points = workload_points(cfg)
    swept = sorted({k for h in hw_points for k, _ in h.overrides})
    base_values = {p: _flat_values(p) for p in {h.preset for h in hw_points}}
    wl_keys = sorted({k for w in wl_points for k, _ in w.params})
    done = _load_done(output) if resume else None
    done_ids = set(done["point_id"]) if done is not None else set()

    # Each point's id, computed once: ids[hardware index][workload index] (config order, hardware-major).
    ids = [[point_id(h, w, cfg.objective) for w in wl_points] for h in hw_points]
    # Hardware variants grouped by entry: one parameter matrix per entry.
    by_entry: dict[int, list[tuple[int, HardwarePoint, Any]]] = {}
    unit_cache: dict = {}  # units of heterogeneous presets, loaded once per distinct preset and overrides
    overlays = {p.calibration: read_overlay(p.calibration) for p in hw_points if p.calibration}
    for hi, hp in enumerate(hw_points):
        hw = (calibrated_hardware(hp.preset, dict(hp.overrides), overlays[hp.calibration], unit_cache=unit_cache)
              if hp.calibration else load_hardware(hp.preset, dict(hp.overrides), unit_cache))
        by_entry.setdefault(hp.entry, []).append((hi, hp, hw))

    todo = sum(pid not in done_ids for row in ids for pid in row)
    partial_dir = output / "partial"
    partial_dir.mkdir(exist_ok=True)
    rows: list[dict[str, Any]] = []
    op_frames: list[Any] = []
    batch_no = len(list(partial_dir.glob("*.parquet")))
    evaluated = 0
    last_flush = time.perf_counter()
    interrupted = False
    bar = _progress(todo) if progress else None

    def flush() -> None:
        nonlocal rows, batch_no, last_flush
        if rows:
            parquet_safe(pd.DataFrame(rows)).to_parquet(partial_dir / f"batch-{batch_no:06d}.parquet")
            batch_no += 1
            rows = []
        last_flush = time.perf_counter()

    try:
        for wi, wp in enumerate(wl_points):
            params = dict(wp.params)
            wl_cols = {"workload": wp.model, **{f"wl.{k}": _cell(params.get(k)) for k in wl_keys}}
            pending = [(e, [(ids[hi][wi], h, hw) for hi, h, hw in members if ids[hi][wi] not in done_ids])
                       for e, members in by_entry.items()]
            pending = [(e, m) for e, m in pending if m]
            if not pending:
                continue
            try:
                workload = load_workload(wp.model, **params)
                error = None
            except (WorkloadParamError, ValueError) as exc:
                workload, error = None, f"error: {exc}"
            table = op_table(workload) if workload is not None else None
            if workload is not None:  # effective values, defaults included
                wl_cols.update({f"wl.{k}": _cell(workload.params.get(k)) for k in wl_keys})
            for _, members in pending:
                n = len(members)
                totals = None
                if workload is not None:
                    matrix = np.stack([hw.params for _, _, hw in members])
                    try:
                        result = evaluate_points(members[0][2], workload, matrix, cfg.objective, table,
                                                 with_raw=with_ops)  # per-op records only when they are written
                        totals, raw = result if with_ops else (result, None)
                        if members[0][1].calibration:  # error bars and extrapolation of calibrated points
                            totals.update(_error_bars(members, workload, cfg.objective, table, totals))
                    except Exception as exc:  # a failing point is recorded, the sweep goes on
                        error = f"error: {type(exc).__name__}: {exc}"
                if totals is None:
                    rows += [{"point_id": pid, **_hardware_columns(h, swept, base_values), **wl_cols,
                              "feasible": False, "reason": error} for pid, h, _ in members]
                else:
                    for i, (pid, h, hw) in enumerate(members):
                        row = {"point_id": pid, **_hardware_columns(h, swept, base_values), **wl_cols,
                               "task": workload.name, "item_unit": workload.item_unit, "items": workload.items}
                        for key, values in totals.items():
                            value = values[i]
                            row[key] = value.item() if hasattr(value, "item") else value
                        rows.append(row)
                        if with_ops and totals["feasible"][i]:
                            frame = op_frame(hw, workload, table, raw[i])
                            frame.insert(0, "point_id", pid)
                            op_frames.append(frame)
                evaluated += n
                if bar is not None:
                    bar.advance(n)
                if on_batch is not None:
                    on_batch(evaluated, todo)
            if time.perf_counter() - last_flush > 2.0:
                flush()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
        flush()

    results = _load_done(output)
    if results is None:
        results = pd.DataFrame()
    results = _order(results, [pid for row in ids for pid in row])
    from cosim.report import mark_pareto

    results = mark_pareto(results)
    files = {"results": output / "results.parquet"}
    results = parquet_safe(results)
    results.to_parquet(files["results"])
    for part in partial_dir.glob("*.parquet"):
        part.unlink()
    partial_dir.rmdir()
    if with_ops and op_frames:
        files["ops"] = output / "ops.parquet"
        pd.concat(op_frames, ignore_index=True).to_parquet(files["ops"])
    if cfg.serving and not interrupted:  # serving runs: one row per hardware point x scheduler x rate
        from cosim.serving.sweep_entries import run_serving_entries

        files["serving"], interrupted = run_serving_entries(
            cfg.serving, hw_points, lambda h: _hardware_columns(h, swept, base_values), output / "serving.parquet",
            progress)
    elapsed = time.perf_counter() - start
    return SweepOutcome(results, output, files, elapsed, evaluated, interrupted)


def _error_bars(members: list, workload, objective: str, table, totals: dict) -> dict[str, Any]:
    """Error-bar columns of an entry's feasible calibrated points (NaN and '' where infeasible)."""
    from cosim.calibration.uncertainty import calibration_columns

    feasible = np.flatnonzero(totals["feasible"])
    points = [members[i][2] for i in feasible]
    if not points:
        return {}
    columns = calibration_columns(points, workload, objective, table,
                                  {k: np.asarray(v)[feasible] for k, v in totals.items()})
    out = {}
    for key, values in columns.items():
        full = np.full(len(members), np.nan) if values.dtype != object else np.full(len(members), "", dtype=object)
        full[feasible] = values
        out[key] = full
    return out


def _order(results, point_ids: list[str]):
    """Rows in config order (``point_ids``), whatever order batches finished in."""
    if results.empty:
        return results
    order = {pid: i for i, pid in enumerate(point_ids)}
    results = results[results["point_id"].isin(order)].copy()
    results["_order"] = results["point_id"].map(order)
    return results.sort_values("_order").drop(columns="_order").reset_index(drop=True)


class _progress:
    """A rich progress bar with rate and ETA (quiet when stderr is not a terminal)."""

    def __init__(self, total: int) -> None:
        import sys

        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        self._progress = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(),
                                  TextColumn("[progress.percentage]{task.percentage:>3.0f}%"),
                                  TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"),
                                  TimeRemainingColumn(), disable=not sys.stderr.isatty(), transient=False)
        self._task = self._progress.add_task("sweep", total=total, rate="")
        self._start = time.perf_counter()
        self._done = 0
        self._progress.start()

    def advance(self, n: int) -> None:
        self._done += n
        rate = self._done / max(time.perf_counter() - self._start, 1e-9)
        self._progress.update(self._task, advance=n, rate=f"{rate:,.0f} points/s")

    def close(self) -> None:
        self._progress.stop()
