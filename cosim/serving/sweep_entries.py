"""``serving:`` entries of a sweep config: a model under a traffic, crossed with the sweep's hardware points, a grid of
schedulers and a list of request rates. Each (hardware point, scheduler, rate) is one serving run and one row of the
sweep's ``serving.parquet``: the hardware columns the design points have, the entry's model, the scheduler's fields
(``sched.*``), the rate, and the run's summary (as in a serving study's ``summary.parquet``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from cosim.serving.spec import HardwareRef, Positive, SchedulerSpec, ServingConfig, SLOSpec, SystemSpec, Traffic


class ServingEntry(BaseModel):
    """One serving entry of a sweep: ``model`` served under ``traffic`` by every hardware point of the sweep, with
    each of ``schedulers``, at each of ``rates`` (default: the traffic's rate), judged by ``slos``."""

    model_config = ConfigDict(extra="forbid")

    model: str
    dtype: str = "fp16"
    kv_dtype: str | None = None
    traffic: Traffic
    schedulers: list[SchedulerSpec] = Field(default_factory=lambda: [SchedulerSpec()], min_length=1)
    rates: list[Positive] | None = None
    slos: dict[str, SLOSpec] = Field(default_factory=dict)
    tensor_parallel: int = Field(default=1, ge=1)
    pipeline_parallel: int = Field(default=1, ge=1)
    replicas: int = Field(default=1, ge=1)
    max_sim_s: Positive | None = None


def check_entry(entry: ServingEntry, where: str, source: str) -> None:
    """The checks a serving config gets, for one entry (model, datatypes, parallelism, traffic files)."""
    from cosim.serving.load import check_parallelism, check_serving_model, check_traffic

    check_serving_model(entry.model, entry.dtype, entry.kv_dtype, f"{where}.", source)
    check_parallelism(entry.model, entry.tensor_parallel, entry.pipeline_parallel, where, source)
    base = Path(source).parent if Path(source).is_file() else None
    check_traffic(entry.traffic, f"{where}.traffic", source, base, entry.model)


def entry_config(entry: ServingEntry, preset: str, label: str, overrides: dict[str, Any]) -> ServingConfig:
    """The serving config of one entry on one hardware point: one system per scheduler."""
    systems = [SystemSpec(label=f"{label} / {s.policy} #{j}", hardware=HardwareRef(preset=preset, overrides=overrides),
                          tensor_parallel=entry.tensor_parallel, pipeline_parallel=entry.pipeline_parallel,
                          replicas=entry.replicas, scheduler=s)
               for j, s in enumerate(entry.schedulers)]
    return ServingConfig(model=entry.model, dtype=entry.dtype, kv_dtype=entry.kv_dtype, traffic=entry.traffic,
                         systems=systems, rates=entry.rates, slos=entry.slos, max_sim_s=entry.max_sim_s)


def run_serving_entries(entries: list[ServingEntry], hardware_points: list, hardware_columns: Callable[[Any], dict],
                        path: Path, progress: bool = False) -> tuple[Path, bool]:
    """Every serving run of ``entries`` on ``hardware_points`` (each with ``preset``, ``label``, ``overrides``),
    rows written to ``path`` after each hardware point; returns the path and whether it was interrupted."""
    from cosim.serving.outputs import summary_row
    from cosim.serving.study import run_study

    rows: list[dict[str, Any]] = []
    interrupted = False
    for e, entry in enumerate(entries):
        for point in hardware_points:
            config = entry_config(entry, point.preset, point.label, dict(point.overrides))
            result = run_study(config, progress=progress)
            by_label = {s.label: s.scheduler for s in config.systems}
            for run in result.runs:
                rows.append({**hardware_columns(point), "serving_entry": e, "model": entry.model,
                             **_flat("sched", by_label[run.system].model_dump()),
                             **{k: v for k, v in summary_row(run).items() if k != "system"}})
            _write(rows, path)
            if result.interrupted:
                interrupted = True
                break
        if interrupted:
            break
    _write(rows, path)
    return path, interrupted


def _flat(prefix: str, values: dict[str, Any]) -> dict[str, Any]:
    """Nested mappings as dotted columns: ``sched.swap_link.bandwidth_gbps``."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        out.update(_flat(f"{prefix}.{key}", value) if isinstance(value, dict) else {f"{prefix}.{key}": value})
    return out


def _write(rows: list[dict[str, Any]], path: Path) -> None:
    pd.DataFrame(rows).to_parquet(path)
