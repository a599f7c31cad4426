"""A serving study's results folder: Parquet tables, CSVs and the plots a person looks at.

- ``requests.parquet``: one row per request of every run (``run.REQUEST_COLUMNS`` plus ``system`` and ``rate_per_s``);
- ``timeline.parquet``: one row per engine step of every run (``run.TIMELINE_COLUMNS`` plus the same two);
- ``summary.parquet`` / ``summary.csv``: one row per system and rate (the run's headline figures);
- ``capacity.csv``: one row per system (the highest rate meeting the capacity SLO, and its bracket), when searched,
  and ``capacity_probes.csv``: the summary row of every rate the search tried;
- ``latency_cdf.png``, ``rate_latency.png``, ``occupancy.png``.

Runs are written to ``partial/`` as they finish and gathered at the end, so an interrupted study keeps them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cosim.serving.run import ServingRun

STUDY_FILES = ("requests.parquet", "timeline.parquet", "summary.parquet", "summary.csv", "capacity.csv",
               "capacity_probes.csv", "latency_cdf.png", "rate_latency.png", "occupancy.png")
LATENCIES = {"ttft": "TTFT", "tbt": "TBT", "e2e": "E2E"}  # summary key prefix -> label
MAX_PLOT_POINTS = 4000  # a timeline line is thinned to about this many points
MAX_OCCUPANCY_RATES = 4


def tagged(frame: pd.DataFrame, run: ServingRun) -> pd.DataFrame:
    """``frame`` with the run's ``system`` and ``rate_per_s`` as its first columns."""
    frame = frame.copy()
    frame.insert(0, "rate_per_s", _rate(run))
    frame.insert(0, "system", run.system)
    return frame


def _rate(run: ServingRun) -> float:
    """The run's offered rate (nan: the traffic's own timing)."""
    return np.nan if run.rate_per_s is None else float(run.rate_per_s)


def summary_row(run: ServingRun) -> dict[str, Any]:
    """One run's headline figures as a table row: its summary, then per SLO ``goodput_<slo>_rps``,
    ``attainment_<slo>`` and ``meets_<slo>``, then the seconds the simulation took."""
    row: dict[str, Any] = {"system": run.system, "rate_per_s": _rate(run)}
    row.update(run.summary)
    for slo, figures in run.goodput.items():
        for key, value in figures.items():
            row[f"{key}_{slo}" if key != "goodput_rps" else f"goodput_{slo}_rps"] = value
    row["wall_s"] = run.wall_s
    return row


def capacity_table(searches: dict[str, Any], config) -> pd.DataFrame:
    """One row per searched system: the capacity (requests/s), the final bracket, the probes it took, whether the
    bracket held (``found``) and, when not or when the search could not run, the reason."""
    rows = []
    for system, found in searches.items():
        row: dict[str, Any] = {"system": system, "slo": config.capacity.slo}
        if isinstance(found, str):
            row.update(found=False, reason=found)
        else:
            low, high = found.bracket
            row.update(capacity_per_s=found.rate_per_s, bracket_low_per_s=low, bracket_high_per_s=high,
                       probes=len(found.runs), found=found.found, reason=found.reason)
        rows.append(row)
    return pd.DataFrame(rows)


class RunStore:
    """Runs written as they finish: each run's tables to ``partial/``, gathered by :func:`write_study`."""

    def __init__(self, output: Path) -> None:
        self.output = Path(output)
        self.output.mkdir(parents=True, exist_ok=True)
        for name in STUDY_FILES:
            (self.output / name).unlink(missing_ok=True)
        self.partial = self.output / "partial"
        self.partial.mkdir(exist_ok=True)
        for stale in self.partial.glob("*.parquet"):
            stale.unlink()
        self._count = 0

    def add(self, run: ServingRun) -> None:
        """Save one finished run."""
        n = self._count
        tagged(run.requests, run).to_parquet(self.partial / f"requests-{n:05d}.parquet")
        tagged(run.timeline, run).to_parquet(self.partial / f"timeline-{n:05d}.parquet")
        self._count += 1

    def add_capacity(self, found: Any) -> None:
        """Save one system's capacity probes (their summary rows) as they finish."""
        if not isinstance(found, str) and found.runs:
            name = f"probes-{len(list(self.partial.glob('probes-*'))):05d}.parquet"
            pd.DataFrame([summary_row(r) for r in found.runs]).to_parquet(self.partial / name)

    def gather(self, kind: str) -> pd.DataFrame:
        """Every saved table of ``kind`` (requests, timeline, probes) in the order written."""
        parts = [pd.read_parquet(p) for p in sorted(self.partial.glob(f"{kind}-*.parquet"))]
        parts = [p for p in parts if not p.empty]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def close(self) -> None:
        for part in self.partial.glob("*.parquet"):
            part.unlink()
        self.partial.rmdir()


def write_study(result, store: RunStore) -> dict[str, Path]:
    """Gather the saved runs into the results folder, write the summary, capacity and plots; the files by name."""
    out = store.output
    frames = {kind: store.gather(kind) for kind in ("requests", "timeline", "probes")}
    store.close()
    files: dict[str, Path] = {}
    for kind in ("requests", "timeline"):
        files[kind] = out / f"{kind}.parquet"
        frames[kind].to_parquet(files[kind])
    summary = result.summary
    files["summary"] = out / "summary.parquet"
    summary.to_parquet(files["summary"])
    files["summary_csv"] = out / "summary.csv"
    summary.to_csv(files["summary_csv"], index=False)
    if not result.capacity.empty:
        files["capacity"] = out / "capacity.csv"
        result.capacity.to_csv(files["capacity"], index=False)
    if not frames["probes"].empty:
        files["capacity_probes"] = out / "capacity_probes.csv"
        frames["probes"].to_csv(files["capacity_probes"], index=False)
    if not frames["requests"].empty:
        files["latency_cdf"] = plot_latency_cdfs(frames["requests"], summary, out / "latency_cdf.png")
        files["occupancy"] = plot_occupancy(frames["timeline"], out / "occupancy.png")
    if "ttft_p50_s" in summary and summary["rate_per_s"].notna().any():
        files["rate_latency"] = plot_rate_latency(summary, result.config.slos, out / "rate_latency.png")
    return files


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    """Every panel gridded with its legend; the figure written to ``path`` and closed."""
    import matplotlib.pyplot as plt

    for ax in fig.axes:
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _cdf(ax, values: np.ndarray, label: str, colour: str) -> None:
    values = np.sort(values[np.isfinite(values)])
    if values.size:
        ax.plot(values, np.arange(1, values.size + 1) / values.size, label=label, color=colour, lw=1.3)


def plot_latency_cdfs(requests: pd.DataFrame, summary: pd.DataFrame, path: Path) -> Path:
    """CDFs of TTFT, time per output token (each request's mean token gap) and end-to-end latency, one line per
    system at the highest rate it ran (the most loaded comparison); the middle panel also marks the P50, P90 and P99
    of every gap between consecutive tokens (TBT) of that run."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for i, system in enumerate(dict.fromkeys(requests["system"])):
        mine = requests[requests["system"] == system]
        rate = mine["rate_per_s"].max()
        at = mine if np.isnan(rate) else mine[mine["rate_per_s"] == rate]
        label = system if np.isnan(rate) else f"{system} @ {rate:g} req/s"
        colour = f"C{i % 10}"
        for ax, column in zip(axes, ("ttft_s", "tpot_s", "e2e_s")):
            _cdf(ax, at[column].to_numpy(float), label, colour)
        row = summary[(summary["system"] == system) & ((summary["rate_per_s"] == rate) |
                                                       (summary["rate_per_s"].isna() & np.isnan(rate)))]
        if not row.empty and "tbt_p50_s" in row:
            axes[1].scatter(row[["tbt_p50_s", "tbt_p90_s", "tbt_p99_s"]].to_numpy(float)[0], [0.5, 0.9, 0.99],
                            marker="x", color=colour, zorder=3)
    from matplotlib.ticker import NullFormatter

    names = ("TTFT", "TPOT: mean gap between tokens; x: TBT P50/P90/P99", "end-to-end latency")
    for ax, name in zip(axes, names):
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(f"{name} (s)")
        ax.set_ylabel("fraction of requests")
    return _save(fig, path)


def plot_rate_latency(summary: pd.DataFrame, slos: dict, path: Path) -> Path:
    """P50 (solid) and P99 (dashed) TTFT, TBT and end-to-end latency against the request rate, one colour per
    system; each SLO's latency target drawn as a dotted line."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ok = summary[summary["rate_per_s"].notna()]
    targets = {"ttft": "ttft_s", "tbt": "p99_tbt_s", "e2e": "e2e_s"}
    for i, (system, rows) in enumerate(ok.groupby("system", sort=False)):
        rows = rows.sort_values("rate_per_s")
        for ax, key in zip(axes, LATENCIES):
            for pct, style in (("p50", "-"), ("p99", "--")):
                column = f"{key}_{pct}_s"
                if column in rows:
                    ax.plot(rows["rate_per_s"], rows[column], style, marker="o", ms=3, color=f"C{i % 10}",
                            label=f"{system} {pct.upper()}")
    for ax, key in zip(axes, LATENCIES):
        for name, slo in slos.items():
            value = getattr(slo, targets[key])
            if value is not None:
                ax.axhline(value, color="grey", ls=":", lw=1)
                ax.annotate(f"SLO {name}", (0.01, value), xycoords=("axes fraction", "data"), fontsize=7,
                            color="grey", va="bottom")
        ax.set_yscale("log")
        ax.set_xlabel("request rate (requests/s)")
        ax.set_ylabel(f"{LATENCIES[key]} (s)")
    return _save(fig, path)


def _thin(frame: pd.DataFrame) -> pd.DataFrame:
    step = max(1, len(frame) // MAX_PLOT_POINTS)
    return frame.iloc[::step]


def plot_occupancy(timeline: pd.DataFrame, path: Path) -> Path:
    """KV-cache occupancy (used / capacity, over all instances) and queue length over time, one colour per
    system; one column per rate (up to four: the lowest, the highest and evenly between)."""
    plt = _pyplot()
    rates = sorted(timeline["rate_per_s"].dropna().unique()) or [np.nan]
    if len(rates) > MAX_OCCUPANCY_RATES:
        rates = [rates[round(i)] for i in np.linspace(0, len(rates) - 1, MAX_OCCUPANCY_RATES)]
    fig, axes = plt.subplots(2, len(rates), figsize=(4.8 * len(rates), 6.4), squeeze=False)
    systems = list(dict.fromkeys(timeline["system"]))
    for col, rate in enumerate(rates):
        at = timeline[timeline["rate_per_s"].isna()] if np.isnan(rate) else timeline[timeline["rate_per_s"] == rate]
        for i, system in enumerate(systems):
            steps = at[at["system"] == system].sort_values("time_s")
            if steps.empty:
                continue
            series = _thin(_per_time(steps))
            axes[0, col].plot(series["time_s"], series["kv_occupancy"], color=f"C{i % 10}", lw=1, label=system)
            axes[1, col].plot(series["time_s"], series["queue_length"], color=f"C{i % 10}", lw=1, label=system)
        title = "traffic's rate" if np.isnan(rate) else f"{rate:g} requests/s"
        axes[0, col].set_title(title)
        axes[0, col].set_ylabel("KV-cache occupancy")
        axes[0, col].set_ylim(0, 1.05)
        axes[1, col].set_ylabel("requests waiting")
        axes[1, col].set_ylim(bottom=0)
        for ax in axes[:, col]:
            ax.set_xlabel("time (s)")
    return _save(fig, path)


def _per_time(steps: pd.DataFrame) -> pd.DataFrame:
    """A system's occupancy and queue over time, its instances added up (each instance's latest step counts)."""
    if steps["instance"].nunique() == 1:
        return pd.DataFrame({"time_s": steps["time_s"].to_numpy(),
                             "kv_occupancy": (steps["kv_used_tokens"] / steps["kv_capacity_tokens"]).to_numpy(),
                             "queue_length": steps["queue_length"].to_numpy()})
    wide = steps.pivot_table(index="time_s", columns="instance", values=["kv_used_tokens", "kv_capacity_tokens",
                                                                         "queue_length"], aggfunc="last")
    wide = wide.ffill().fillna(0.0)
    used = wide["kv_used_tokens"].sum(axis=1)
    capacity = wide["kv_capacity_tokens"].sum(axis=1).replace(0.0, np.nan)
    return pd.DataFrame({"time_s": wide.index.to_numpy(), "kv_occupancy": (used / capacity).to_numpy(),
                         "queue_length": wide["queue_length"].sum(axis=1).to_numpy()})
