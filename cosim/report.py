"""Sweep reporting: the Pareto set (throughput up, energy per item down), the plot and the markdown summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cosim.totals import plural

MAX_PLOT_PANELS = 9


def pareto_mask(throughput: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """True where no other point has throughput >= and energy <= with one strictly better."""
    order = np.lexsort((energy, -throughput))  # by throughput descending, then energy ascending
    mask = np.zeros(len(throughput), dtype=bool)
    best_energy = np.inf
    for i in order:
        if energy[i] < best_energy:
            mask[i] = True
            best_energy = energy[i]
    return mask


def mark_pareto(results):
    """Add a boolean ``pareto`` column, computed separately for each task (model and phase: tokens of a decode step
    and tokens of a prefill are not the same product)."""
    results = results.copy()
    results["pareto"] = False
    if results.empty or "throughput" not in results:
        return results
    ok = results["feasible"].astype(bool) & results["throughput"].notna()
    for _, group in results[ok].groupby("task"):
        mask = pareto_mask(group["throughput"].to_numpy(float), group["energy_per_item_j"].to_numpy(float))
        results.loc[group.index[mask], "pareto"] = True
    return results


def pareto_table(results):
    """The Pareto points, best throughput first, with the swept parameters that define them."""
    if results.empty or "pareto" not in results:
        return results.iloc[0:0]
    front = results[results["pareto"]].sort_values(["task", "throughput"], ascending=[True, False])
    params = [c for c in results.columns if c.startswith(("hw.", "wl."))]
    params = [c for c in params if results[c].nunique(dropna=True) > 1]
    cols = ["task", "hardware", *params, "throughput", "energy_per_item_j", "latency_s", "power_w"]
    return front[[c for c in cols if c in front.columns]]


def plot_pareto(results, path: Path) -> Path:
    """Throughput vs energy per item, one colour per hardware, the Pareto front drawn as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = results[results["feasible"].astype(bool)] if not results.empty else results
    tasks = list(dict.fromkeys(ok["task"])) if len(ok) else []
    shown = tasks[:MAX_PLOT_PANELS]
    ncols = min(3, max(1, len(shown)))
    nrows = max(1, -(-len(shown) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.5 * ncols, 4.8 * nrows), squeeze=False)
    colours = {hw: f"C{i % 10}" for i, hw in enumerate(dict.fromkeys(ok["hardware"]))} if len(ok) else {}
    for ax in axes.flat[len(shown):]:
        ax.axis("off")
    for ax, task in zip(axes.flat, shown):
        sub = ok[ok["task"] == task]
        unit = sub["item_unit"].iloc[0]
        for hw, group in sub.groupby("hardware", sort=False):
            ax.scatter(group["throughput"], group["energy_per_item_j"] * 1e3, s=16, alpha=0.7, label=hw,
                       color=colours[hw])
        front = sub[sub["pareto"]].sort_values("throughput")
        ax.plot(front["throughput"], front["energy_per_item_j"] * 1e3, color="black", lw=1.2, marker="o",
                mfc="none", ms=9, label="Pareto front")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(f"throughput ({plural(unit)}/s)")
        ax.set_ylabel(f"energy per {unit} (mJ)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
        ax.set_title(task + ("" if len(tasks) <= MAX_PLOT_PANELS else f" (first {MAX_PLOT_PANELS} tasks)"))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _markdown(frame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in frame.iterrows():
        lines.append("| " + " | ".join(_fmt(row[c]) for c in cols) + " |")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, (float, np.floating)) and np.isnan(value)):
        return "–"
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


def write_summary(results, path: Path, name: str, elapsed_s: float, evaluated: int, files: dict[str, Path],
                  interrupted: bool = False) -> Path:
    """A markdown summary: counts, failures by reason, the best points and the Pareto set."""
    n = len(results)
    feasible = results[results["feasible"].astype(bool)] if n else results
    lines = [f"# Sweep `{name}`", ""]
    if interrupted:
        lines += ["**Interrupted**: the table holds the points finished before the interrupt; "
                  "rerun with `--resume` to complete it.", ""]
    lines += [f"- design points: {n} ({len(feasible)} feasible, {n - len(feasible)} infeasible or failed)",
              f"- evaluated in this run: {evaluated} in {elapsed_s:.2f} s"]
    lines += [f"- {key}: `{p}`" for key, p in files.items()]
    if n - len(feasible):
        lines += ["", "## Infeasible or failed points", ""]
        reasons = results[~results["feasible"].astype(bool)]["reason"].str.replace(r"\d+\.\d+", "N", regex=True)
        for reason, count in reasons.value_counts().items():
            lines.append(f"- {count} × {reason}")
    if len(feasible):
        lines += ["", "## Best points per task", ""]
        cols = list(pareto_table(results).columns)
        picks, labels = [], []
        for _, group in feasible.groupby("task", sort=False):
            for label, index in (("highest throughput", group["throughput"].idxmax()),
                                 ("lowest energy per item", group["energy_per_item_j"].idxmin()),
                                 ("lowest latency", group["latency_s"].idxmin())):
                picks.append(index)
                labels.append(label)
        frame = results.loc[picks, cols].copy()
        frame.insert(0, "best for", labels)
        lines.append(_markdown(frame))
        lines += ["", "## Pareto set per task (throughput vs energy per item)", "", _markdown(pareto_table(results))]
    path.write_text("\n".join(lines) + "\n")
    return path
