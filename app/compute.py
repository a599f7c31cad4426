"""cosim's evaluations behind Streamlit's cache: a sweep (with a progress bar) and one design point's detail.
Arguments are JSON text so the cache keys on content; a run stopped half-way is not cached."""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

import streamlit as st

SWEEP_DIR = Path(tempfile.gettempdir()) / "cosim-app"  # one results folder per distinct config


def config_key(config: dict[str, Any]) -> str:
    """The cache key of a config: its content as canonical JSON."""
    return json.dumps(config, sort_keys=True, default=str)


@st.cache_data(show_spinner=False, max_entries=32)
def run_sweep(key: str):
    """The results table of the sweep whose config is ``key`` (JSON), with a progress bar while it runs (a stop or
    rerun request ends the run at the bar's next update, and nothing is cached)."""
    from cosim.api import sweep

    bar = st.progress(0.0, text="evaluating …")

    def advance(done: int, todo: int) -> None:
        bar.progress(done / max(todo, 1), text=f"evaluated {done} of {todo} design points")

    output = SWEEP_DIR / hashlib.sha1(key.encode()).hexdigest()[:16]
    outcome = sweep(json.loads(key), output, overwrite=True, on_batch=advance)
    bar.empty()
    return outcome.results


@st.cache_data(show_spinner=False, max_entries=8)
def results_config(results: Any, name: str) -> dict[str, Any]:
    """The sweep config that reproduces every row of a results table, built once per table (a rerun that only
    redraws the scatter does not rebuild it row by row)."""
    from cosim.api import point_config

    return point_config(results, name=name)


@st.cache_data(show_spinner="evaluating the design point …", max_entries=64)
def point_detail(row_json: str, objective: str):
    """(totals, per-op table) of one results row (JSON), evaluated afresh with the row's inputs."""
    from cosim.api import load_point, simulate

    hardware, workload = load_point(json.loads(row_json))
    result = simulate(hardware, workload, objective)
    return result.totals, result.ops


@st.cache_data(show_spinner="searching mappings …", max_entries=64)
def op_mapping(row_json: str, op: int, objective: str, top: int):
    """(report text, runners-up table) of op ``op`` of one results row."""
    from cosim.api import best_mappings, load_point, mapping_report

    hardware, workload = load_point(json.loads(row_json))
    return (mapping_report(hardware, workload, op, objective, top),
            best_mappings(hardware, workload, op, objective, top))


@st.cache_data(show_spinner=False, max_entries=16)
def mappable_ops(row_json: str) -> list[int]:
    """The indices of the ops of one results row that have a searched mapping."""
    from cosim.api import load_point, mappable_ops as mapped

    return mapped(*load_point(json.loads(row_json)))


def row_json(row: Any) -> str:
    """A results row as JSON (numpy scalars as plain values), the form the cached functions take."""
    return json.dumps({str(k): (v.item() if hasattr(v, "item") else v) for k, v in dict(row).items()},
                      default=str)


@st.cache_data(show_spinner="fitting and validating (held-out folds) …", max_entries=16)
def validation(measurements: str, hardware: str | None, overlay: str | None, folds: int | None, split: str | None):
    """cosim's held-out validation of a preset (or an overlay) on a measurement table (file paths)."""
    from cosim.api import validate_calibration

    return validate_calibration(measurements, hardware, overlay, folds=folds, split=split)


@st.cache_data(show_spinner="serving the requests (each system at each rate) …", max_entries=16)
def serving_study(key: str):
    """(summary, capacity, requests) of the serving study whose config is ``key`` (JSON); ``requests`` holds every
    run's per-request table with its system and rate."""
    import pandas as pd

    from cosim.api import serve_study

    SWEEP_DIR.mkdir(parents=True, exist_ok=True)
    result = serve_study(json.loads(key), output=tempfile.mkdtemp(prefix="serve-", dir=SWEEP_DIR))
    frames = [run.requests.assign(system=run.system, rate_per_s=run.rate_per_s) for run in result.runs
              if len(run.requests)]
    requests = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return result.summary, result.capacity, requests
