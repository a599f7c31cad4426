"""The presets' error on a published validation set: each entry's stated setup is rebuilt as cosim workloads on the
named preset, predicted, and compared; entries the model cannot represent are reported as skipped with the reason.

Prediction rules (by metric):
- ``output_throughput[_per_gpu]``: the sources' runs use static batching (the whole batch is prefilled, then decoded
  to the output length; throughput = batch x output length / total time). Time = prefill of ``batch`` prompts of
  ``input_len`` tokens + (``output_len`` - 1) decode steps of ``batch`` sequences, each at the mean context
  ``input_len + output_len / 2`` (attention cost is linear in the context), with the KV cache of the final context
  held in memory. Per GPU: divided by the tensor-parallel size.
- ``first_token_latency``: the prefill of ``batch`` prompts of ``input_len`` tokens.
- ``query_latency``: one forward pass of the workload at ``batch``.
Tensor parallelism is the workload's ``tensor_parallel`` over ``devices`` copies of the preset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from cosim.calibration.datasets import Dataset, Entry, dataset_names, load_dataset
from cosim.engine import simulate
from cosim.marked_block import output_path, write_markdown
from hw_models.hardware import load_hardware
from workloads import load_workload
from workloads.registry import available_workloads

ENTRY_COLUMNS = ["dataset", "id", "hardware", "published_model", "workload", "metric", "setup", "measured",
                 "predicted", "error", "source", "table"]
SKIP_COLUMNS = ["dataset", "id", "hardware", "published_model", "metric", "measured", "reason", "source", "table"]
SUMMARY_COLUMNS = ["dataset", "hardware", "metric", "compared", "skipped", "mape", "mean_error", "worst_error"]


@dataclass
class DatasetValidation:
    """Per entry (measured and predicted in SI units, error relative to measured), skipped entries with reasons,
    and per (dataset, hardware) MAPE and count."""

    entries: pd.DataFrame
    skipped: pd.DataFrame
    summary: pd.DataFrame


def setup_text(e: Entry) -> str:
    """The entry's setup in one line: batch, TP, lengths, precision."""
    lengths = f" in {e.input_len}" if e.input_len else ""
    lengths += f" out {e.output_len}" if e.output_len else ""
    kv = f" kv {e.kv_dtype}" if e.kv_dtype else ""
    return f"batch {e.batch} TP{e.devices}{lengths} {e.dtype}{kv}"


def skip_reason(e: Entry) -> str:
    """Why cosim cannot model ``e`` as stated ('' when it can): no workload config, the entry's own ``skip``, a
    multi-device forward pass, or a precision the preset lacks."""
    if e.workload is None:
        return f"cosim has no workload config for {e.published_model!r}"
    if e.skip:
        return e.skip
    if e.metric == "query_latency" and e.devices > 1:
        return f"{e.devices} devices: cosim models a forward pass on one device only"
    if e.workload not in available_workloads():
        return f"workload {e.workload!r} is not in cosim's catalog"
    spec = load_hardware(e.hardware).spec
    peaks = getattr(getattr(spec, "compute", None), "tensor_tflops", None)
    for dtype in (e.dtype, e.kv_dtype):
        if dtype and peaks is not None and getattr(peaks, dtype, None) is None:
            return f"{e.hardware} has no {dtype} tensor-core rate (the preset does not support {dtype})"
    return ""


class _Infeasible(Exception):
    """The stated setup does not fit the preset (memory); the message says why."""


def _llm(e: Entry, phase: str, **params):
    extra = {"kv_dtype": e.kv_dtype} if e.kv_dtype else {}
    return load_workload(e.workload, phase=phase, batch=e.batch, tensor_parallel=e.devices, dtype=e.dtype,
                         **extra, **params)


def _run(hw, wl, what: str) -> float:
    r = simulate(hw, wl)
    if not r.feasible:
        raise _Infeasible(f"{what}: {r.reason}")
    return float(r.latency_s)


def predict(e: Entry) -> float:
    """The model's value of ``e``'s metric in SI units (tokens/s or s). Raises ``_Infeasible`` with the reason when
    the setup does not fit the preset."""
    hw = load_hardware(e.hardware)
    if e.metric == "query_latency":
        return _run(hw, load_workload(e.workload, batch=e.batch, dtype=e.dtype), f"batch {e.batch}")
    prefill = _run(hw, _llm(e, "prefill", prompt=e.input_len), f"prefill of {e.batch} x {e.input_len} tokens")
    if e.metric == "first_token_latency":
        return prefill
    final = e.input_len + e.output_len
    context = int(round(e.input_len + e.output_len / 2))
    decode_wl = _llm(e, "decode", context=context)
    decode_wl.memory_bytes["kv_cache"] *= (final + 1.0) / (context + 1.0)  # the cache at the last step is held
    decode = _run(hw, decode_wl, f"decode of {e.batch} sequences to {final} tokens")
    tokens_per_s = e.batch * e.output_len / (prefill + (e.output_len - 1) * decode)
    return tokens_per_s / e.devices if e.metric == "output_throughput_per_gpu" else tokens_per_s


def _compare(d: Dataset) -> tuple[list[dict], list[dict]]:
    rows, skipped = [], []
    for e in d.entries:
        common = {"dataset": d.name, "id": e.id, "hardware": e.hardware, "published_model": e.published_model,
                  "metric": e.metric, "measured": e.measured_si, "source": d.sources[e.source]["url"],
                  "table": e.table}
        reason = skip_reason(e)
        if not reason:
            try:
                value = predict(e)
            except _Infeasible as exc:
                reason = f"cosim finds the stated setup infeasible: {exc}"
        if reason:
            skipped.append({k: v for k, v in {**common, "reason": reason}.items() if k in SKIP_COLUMNS})
            continue
        rows.append({**common, "workload": e.workload, "setup": setup_text(e), "predicted": value,
                     "error": (value - e.measured_si) / e.measured_si})
    return rows, skipped


def _rows(frame: pd.DataFrame, keys: list[str], values: tuple) -> pd.Series:
    """The rows of ``frame`` whose ``keys`` columns hold ``values``."""
    mask = pd.Series(True, index=frame.index)
    for key, value in zip(keys, values):
        mask &= frame[key] == value
    return mask


def summarize(entries: pd.DataFrame, skipped: pd.DataFrame) -> pd.DataFrame:
    """MAPE (mean |error|), mean signed error, worst error and counts per (dataset, hardware, metric)."""
    keys = ["dataset", "hardware", "metric"]
    groups = sorted(set(map(tuple, entries[keys].values)) | set(map(tuple, skipped[keys].values)))
    out = []
    for key in groups:
        err = entries[_rows(entries, keys, key)]["error"]
        n_skip = int(_rows(skipped, keys, key).sum())
        some = len(err) > 0
        out.append({**dict(zip(keys, key)), "compared": len(err), "skipped": n_skip,
                    "mape": float(err.abs().mean()) if some else math.nan,
                    "mean_error": float(err.mean()) if some else math.nan,
                    "worst_error": float(err.iloc[err.abs().argmax()]) if some else math.nan})
    return pd.DataFrame(out, columns=SUMMARY_COLUMNS)


@lru_cache(maxsize=None)
def _validate_one(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, skipped = _compare(load_dataset(name))
    return pd.DataFrame(rows, columns=ENTRY_COLUMNS), pd.DataFrame(skipped, columns=SKIP_COLUMNS)


def validate(name: str) -> DatasetValidation:
    """The presets' error on dataset ``name`` (``all``: every vendored dataset)."""
    names = dataset_names() if name == "all" else [load_dataset(name).name]
    parts = [_validate_one(n) for n in names]
    entries = pd.concat([p[0] for p in parts], ignore_index=True)
    skipped = pd.concat([p[1] for p in parts], ignore_index=True)
    return DatasetValidation(entries, skipped, summarize(entries, skipped))


def catalog() -> pd.DataFrame:
    """The vendored datasets: name, title, entry count, presets and source urls."""
    rows = []
    for name in dataset_names():
        d = load_dataset(name)
        rows.append({"name": name, "title": d.title, "entries": len(d.entries),
                     "hardware": ", ".join(sorted({e.hardware for e in d.entries})),
                     "sources": " ".join(s["url"] for s in d.sources.values())})
    return pd.DataFrame(rows, columns=["name", "title", "entries", "hardware", "sources"])


def _pct(x: float) -> str:
    return "–" if x != x else f"{100 * x:+.1f}%"


def summary_rows(summary: pd.DataFrame) -> list[list[str]]:
    """The summary as text cells: dataset, preset, metric, compared, skipped, MAPE, mean error, worst error."""
    return [[r.dataset, r.hardware, r.metric, str(r.compared), str(r.skipped),
             "–" if r.mape != r.mape else f"{100 * r.mape:.1f}%", _pct(r.mean_error), _pct(r.worst_error)]
            for r in summary.itertuples(index=False)]


SUMMARY_HEADER = ["dataset", "preset", "metric", "compared", "skipped", "MAPE", "mean error", "worst error"]


def to_markdown(result: DatasetValidation) -> str:
    """The per-preset figures as a markdown table, then the skipped entries grouped by reason."""
    lines = ["| " + " | ".join(SUMMARY_HEADER) + " |", "|---|---|---|" + "---:|" * 5]
    lines += ["| " + " | ".join(r) + " |" for r in summary_rows(result.summary)]
    reasons = result.skipped.groupby("reason", sort=True)["id"].count()
    if len(reasons):
        lines += ["", "Skipped (not modelled as stated):", ""]
        lines += [f"- {n} × {reason}" for reason, n in reasons.items()]
    return "\n".join(lines) + "\n"


BLOCK_TAG = "validate-datasets"


def write(result: DatasetValidation, path: Path) -> Path:
    """``.csv``: every entry, skipped ones with their reason; ``.md``: :func:`to_markdown` (in a file holding the
    ``validate-datasets`` block, only that block is replaced)."""
    if output_path(str(path)).suffix == ".csv":
        pd.concat([result.entries, result.skipped], ignore_index=True).to_csv(path, index=False)
    else:
        write_markdown(path, to_markdown(result), BLOCK_TAG)
    return path
