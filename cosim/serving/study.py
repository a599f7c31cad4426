"""A serving study: every system of a config at every request rate, and optionally each system's capacity.

Each rate's requests are generated once from the traffic's seed and served to every system (the simulation leaves
them unchanged), so systems are compared on the same requests. Step-cost predictors are cached per process
(``step_cost.predictor_for``), so rates and capacity probes reuse their evaluations. With an output folder each
run's tables are written as soon as it finishes (``outputs``): an interrupted study keeps every finished run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cosim.errors import CosimInputError
from cosim.progress import CountedProgress
from cosim.serving.run import ServingRun
from cosim.serving.spec import PoolSpec, ServingConfig, SystemSpec

RUN_ERRORS = (CosimInputError, ValueError)  # a system that cannot serve the model (too large, bad split) is recorded


@dataclass
class StudyResult:
    """What a study produced: ``summary`` (one row per system and rate), ``capacity`` (one row per system, empty
    without a capacity search), the runs themselves, and the files written (when an output folder was given)."""

    config: ServingConfig
    runs: list[ServingRun]
    summary: pd.DataFrame
    capacity: pd.DataFrame
    output: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)
    elapsed_s: float = 0.0
    interrupted: bool = False


def study_rates(config: ServingConfig) -> list[float | None]:
    """The rates a study runs: ``config.rates``, else the traffic's own (``None``: the arrival process's rate, or
    a trace's timestamps as recorded)."""
    return list(config.rates) if config.rates else [None]


def serve_at_rate(config: ServingConfig, system: SystemSpec, requests, rate_per_s: float | None) -> ServingRun:
    """One run: ``system`` serving ``requests`` (arrived at ``rate_per_s``; left unchanged), judged by the config's
    SLOs."""
    from cosim.serving.simulation import simulate_system
    from cosim.serving.step_cost import predictor_for

    def for_pool(pool: PoolSpec | None):
        return predictor_for(system, config.model, config.dtype, config.kv_dtype, pool)

    return simulate_system(system, requests, for_pool, config.slos, config.max_sim_s, rate_per_s)


def failed_run(system: SystemSpec, rate_per_s: float | None, reason: str) -> ServingRun:
    """The record of a run that could not be simulated (``summary`` holds only the reason)."""
    from cosim.serving.run import REQUEST_COLUMNS, TIMELINE_COLUMNS

    return ServingRun(system.label, rate_per_s, pd.DataFrame(columns=list(REQUEST_COLUMNS)),
                      pd.DataFrame(columns=list(TIMELINE_COLUMNS)), {"reason": reason})


def run_study(config: ServingConfig, base_dir: Path | None = None, progress: bool = True,
              output: Path | None = None) -> StudyResult:
    """Serve every system of ``config`` at every rate (and search each one's capacity when ``config.capacity``
    is set). ``base_dir`` resolves relative trace and sample paths; with ``output`` the results folder is written
    (see ``outputs.write_study``) and each run is saved as it finishes."""
    from cosim.serving.outputs import RunStore, capacity_table, summary_row
    from cosim.serving.traffic import generate_requests

    start = time.perf_counter()
    rates = study_rates(config)
    store = RunStore(output) if output is not None else None
    runs: list[ServingRun] = []
    searches: dict[str, object] = {}
    total = len(config.systems) * len(rates) + (len(config.systems) if config.capacity else 0)
    bar = CountedProgress("serve", total, shown=progress, terminal_only=True)
    interrupted = False
    try:
        for rate in rates:
            requests = generate_requests(config.traffic, rate, base_dir)
            for system in config.systems:
                bar.show(f"{system.label} @ {_rate_text(rate)}")
                try:
                    run = serve_at_rate(config, system, requests, rate)
                except RUN_ERRORS as exc:
                    run = failed_run(system, rate, str(exc))
                runs.append(run)
                if store is not None:
                    store.add(run)
                bar.advance()
        if config.capacity is not None:
            for system in config.systems:
                bar.show(f"{system.label}: capacity")
                searches[system.label] = _capacity(config, system, base_dir)
                if store is not None:
                    store.add_capacity(searches[system.label])
                bar.advance()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.stop()
    summary = pd.DataFrame([summary_row(run) for run in runs])
    result = StudyResult(config, runs, summary, capacity_table(searches, config), output,
                         elapsed_s=time.perf_counter() - start, interrupted=interrupted)
    if store is not None:
        from cosim.serving.outputs import write_study

        result.files = write_study(result, store)
    return result


def _capacity(config: ServingConfig, system: SystemSpec, base_dir: Path | None):
    """The capacity search of one system (or the reason it could not run)."""
    from cosim.serving.capacity import capacity_search
    from cosim.serving.traffic import generate_requests

    def run_at_rate(rate: float) -> ServingRun:
        return serve_at_rate(config, system, generate_requests(config.traffic, rate, base_dir), rate)

    try:
        return capacity_search(run_at_rate, config.capacity.slo, config.capacity)
    except RUN_ERRORS as exc:
        return str(exc)


def _rate_text(rate: float | None) -> str:
    return "traffic's rate" if rate is None else f"{rate:g} req/s"
