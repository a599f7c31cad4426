"""Token-to-expert assignment models for mixture-of-experts layers, and routing-trace files.

Popularity models (each token picks ``top_k`` distinct experts, sampled without replacement in proportion to the
experts' popularity via the Gumbel-top-k trick, deterministic for a seeded ``numpy.random.Generator``):

- ``uniform``: every expert equally popular;
- ``zipf``: popularity ∝ 1 / rank^s, with a random expert order per layer (``s = 0`` is uniform);
- ``dirichlet``: popularity drawn per layer from a symmetric Dirichlet(alpha) (small alpha → skewed);
- ``trace``: per-layer per-expert token counts (or per-token expert lists) replayed from a JSON or CSV file.

Capacity: ``ceil(capacity_factor × tokens × top_k / experts)`` assignments per expert (``None``/0 → unlimited);
assignments beyond it are dropped (in token order, as GShard/Switch do) and counted.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from math import ceil
from pathlib import Path

import numpy as np

from workloads.transformer import WorkloadParamError

MODELS = ("uniform", "zipf", "dirichlet", "trace")
_CHUNK = 1 << 20  # score-matrix elements drawn at a time


class RoutingTraceError(WorkloadParamError):
    """A routing-trace file is malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class Assignment:
    """One MoE layer's routing outcome: tokens kept per expert and assignments dropped over capacity."""

    counts: np.ndarray  # int64, one entry per expert
    dropped: int
    tokens: int
    top_k: int

    @property
    def activated(self) -> int:
        """Experts that received at least one token."""
        return int(np.count_nonzero(self.counts))


def expected_activated_experts(experts: int, top_k: int, tokens: int) -> float:
    """Mean number of experts hit by ``tokens`` tokens each choosing ``top_k`` distinct experts uniformly."""
    return experts * (1.0 - (1.0 - top_k / experts) ** tokens)


def expert_capacity(tokens: int, experts: int, top_k: int, capacity_factor: float | None) -> int | None:
    """Assignments one expert accepts, or None when unlimited."""
    if not capacity_factor:
        return None
    return ceil(capacity_factor * tokens * top_k / experts)


def popularity(model: str, experts: int, rng: np.random.Generator, zipf_s: float = 1.0,
               dirichlet_alpha: float = 1.0) -> np.ndarray:
    """Expert selection weights (summing to 1) of one layer under a popularity model."""
    if model == "uniform":
        return np.full(experts, 1.0 / experts)
    if model == "zipf":
        weights = 1.0 / np.arange(1, experts + 1, dtype=np.float64) ** zipf_s
        weights = weights[rng.permutation(experts)]
        return weights / weights.sum()
    if model == "dirichlet":
        return rng.dirichlet(np.full(experts, float(dirichlet_alpha)))
    raise ValueError(f"routing model must be one of {', '.join(MODELS[:3])}, got {model!r}")


def sample_counts(weights: np.ndarray, tokens: int, top_k: int, rng: np.random.Generator) -> np.ndarray:
    """Per-expert assignment counts when each token picks ``top_k`` distinct experts (Plackett–Luce on weights)."""
    experts = len(weights)
    if not 1 <= top_k <= experts:
        raise ValueError(f"top_k must be in 1..{experts}, got {top_k}")
    counts = np.zeros(experts, dtype=np.int64)
    logw = np.log(np.maximum(weights, 1e-300))
    rows = max(1, _CHUNK // experts)
    for start in range(0, tokens, rows):
        n = min(rows, tokens - start)
        scores = logw + rng.gumbel(size=(n, experts))
        picked = np.argpartition(-scores, top_k - 1, axis=1)[:, :top_k] if top_k < experts else \
            np.broadcast_to(np.arange(experts), (n, experts))
        counts += np.bincount(picked.ravel(), minlength=experts)
    return counts


def apply_capacity(counts: np.ndarray, tokens: int, top_k: int, capacity_factor: float | None) -> Assignment:
    """Clip per-expert counts at the expert capacity; the excess is dropped."""
    counts = np.asarray(counts, dtype=np.int64)
    cap = expert_capacity(tokens, len(counts), top_k, capacity_factor)
    kept = counts if cap is None else np.minimum(counts, cap)
    return Assignment(kept, int(counts.sum() - kept.sum()), tokens, top_k)


def assign(model: str, tokens: int, experts: int, top_k: int, rng: np.random.Generator, zipf_s: float = 1.0,
           dirichlet_alpha: float = 1.0, capacity_factor: float | None = None) -> Assignment:
    """Route ``tokens`` tokens of one layer under a popularity model (not ``trace``; see :func:`replay`)."""
    weights = popularity(model, experts, rng, zipf_s, dirichlet_alpha)
    return apply_capacity(sample_counts(weights, tokens, top_k, rng), tokens, top_k, capacity_factor)


# ---------------------------------------------------------------- routing traces

@dataclass(frozen=True)
class RoutingTrace:
    """Recorded per-layer per-expert assignment counts of one step (``layers × experts``) and its top-k."""

    counts: np.ndarray
    top_k: int
    path: str = ""

    @property
    def experts(self) -> int:
        return int(self.counts.shape[1])

    def layer_counts(self, layer: int, tokens: int) -> np.ndarray:
        """Counts of a layer (cycling when the trace has fewer layers), rescaled to ``tokens × top_k``
        assignments by largest remainders when the step routes a different number of tokens."""
        row = self.counts[layer % len(self.counts)].astype(np.float64)
        total = tokens * self.top_k
        if row.sum() == total:
            return row.astype(np.int64)
        share = row / row.sum() * total
        out = np.floor(share).astype(np.int64)
        order = np.argsort(-(share - out), kind="stable")
        out[order[: total - int(out.sum())]] += 1
        # Distinct top-k choices: no expert takes more assignments than there are tokens.
        return np.minimum(out, tokens)


def replay(trace: RoutingTrace, layer: int, tokens: int, capacity_factor: float | None = None) -> Assignment:
    """One layer's assignment from a routing trace."""
    return apply_capacity(trace.layer_counts(layer, tokens), tokens, trace.top_k, capacity_factor)


def _fail(path: Path, problem: str) -> RoutingTraceError:
    return RoutingTraceError(f"routing trace {str(path)!r}: {problem}")


def _from_token_lists(path: Path, layers: list, experts: int | None) -> tuple[np.ndarray, int]:
    """Counts from per-layer lists of per-token expert ids."""
    top_k, rows = None, []
    for li, tokens in enumerate(layers):
        if not isinstance(tokens, list) or not tokens:
            raise _fail(path, f"layer {li}: expected a non-empty list of per-token expert lists")
        ids = []
        for ti, chosen in enumerate(tokens):
            chosen = chosen if isinstance(chosen, list) else [chosen]
            if not all(isinstance(e, int) and e >= 0 for e in chosen) or len(set(chosen)) != len(chosen):
                raise _fail(path, f"layer {li} token {ti}: expert ids must be distinct non-negative integers, "
                                  f"got {chosen!r}")
            if top_k is None:
                top_k = len(chosen)
            elif len(chosen) != top_k:
                raise _fail(path, f"layer {li} token {ti}: {len(chosen)} experts, but earlier tokens chose {top_k}")
            ids.extend(chosen)
        rows.append(ids)
    n = experts or max(max(r) for r in rows) + 1
    if max(max(r) for r in rows) >= n:
        raise _fail(path, f"expert id {max(max(r) for r in rows)} out of range for num_experts={n}")
    return np.array([np.bincount(r, minlength=n) for r in rows], dtype=np.int64), int(top_k)


def _check_counts(path: Path, counts: list) -> np.ndarray:
    widths = {len(r) if isinstance(r, list) else -1 for r in counts}
    if not counts or len(widths) != 1 or -1 in widths:
        raise _fail(path, "'counts' must be a non-empty list of equal-length per-layer lists")
    arr = np.array(counts, dtype=object)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in arr.ravel()):
        raise _fail(path, "counts must be non-negative integers")
    arr = arr.astype(np.int64)
    if (arr.sum(axis=1) == 0).any():
        raise _fail(path, f"layer {int(np.argmax(arr.sum(axis=1) == 0))} routes no tokens")
    return arr


def load_routing_trace(path: str | Path) -> RoutingTrace:
    """Read a routing trace.

    JSON: ``{"top_k": k, "num_experts": E (optional), "counts": [[per-expert counts] per layer]}`` or
    ``{"token_experts": [[[expert ids] per token] per layer]}``. CSV with a header: ``layer,expert,count`` (counts)
    or ``layer,token,expert`` (one row per token choice); counts files also need a ``top_k`` column or JSON.
    """
    p = Path(path)
    if not p.is_file():
        raise _fail(p, "file not found")
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(p.read_text())
        except json.JSONDecodeError as exc:
            raise _fail(p, f"not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise _fail(p, "top level must be an object with 'counts' or 'token_experts'")
        experts = data.get("num_experts")
        if "token_experts" in data:
            counts, top_k = _from_token_lists(p, data["token_experts"], experts)
        elif "counts" in data:
            counts = _check_counts(p, data["counts"])
            top_k = data.get("top_k")
            if not isinstance(top_k, int) or top_k < 1:
                raise _fail(p, f"'top_k' must be a positive integer, got {top_k!r}")
            if experts is not None and experts != counts.shape[1]:
                raise _fail(p, f"num_experts={experts} but layers list {counts.shape[1]} counts")
        else:
            raise _fail(p, "needs a 'counts' or a 'token_experts' key")
    elif p.suffix.lower() == ".csv":
        counts, top_k = _read_csv(p)
    else:
        raise _fail(p, f"unsupported extension {p.suffix!r}; use .json or .csv")
    if top_k > counts.shape[1]:
        raise _fail(p, f"top_k={top_k} exceeds the {counts.shape[1]} experts")
    return RoutingTrace(counts, int(top_k), str(p))


def _read_csv(p: Path) -> tuple[np.ndarray, int]:
    with open(p, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise _fail(p, "no data rows")
    cols = set(rows[0])
    try:
        if {"layer", "token", "expert"} <= cols:
            layers: dict[int, dict[int, list[int]]] = {}
            for r in rows:
                layers.setdefault(int(r["layer"]), {}).setdefault(int(r["token"]), []).append(int(r["expert"]))
            ordered = [[layers[l][t] for t in sorted(layers[l])] for l in sorted(layers)]
            return _from_token_lists(p, ordered, None)
        if {"layer", "expert", "count", "top_k"} <= cols:
            n_layers = max(int(r["layer"]) for r in rows) + 1
            n_exp = max(int(r["expert"]) for r in rows) + 1
            counts = [[0] * n_exp for _ in range(n_layers)]
            for r in rows:
                counts[int(r["layer"])][int(r["expert"])] += int(r["count"])
            top_ks = {int(r["top_k"]) for r in rows}
    except ValueError as exc:
        raise _fail(p, f"non-integer field ({exc})") from None
    else:
        if {"layer", "expert", "count", "top_k"} <= cols:
            if len(top_ks) != 1:
                raise _fail(p, f"rows disagree on top_k: {sorted(top_ks)}")
            return _check_counts(p, counts), top_ks.pop()
    raise _fail(p, f"CSV header {sorted(cols)} needs layer,expert,count,top_k or layer,token,expert")


def save_routing_trace(path: str | Path, counts: np.ndarray, top_k: int) -> Path:
    """Write per-layer per-expert counts as a JSON or CSV routing trace (readable by :func:`load_routing_trace`)."""
    p = Path(path)
    counts = np.asarray(counts, dtype=np.int64)
    if p.suffix.lower() == ".json":
        p.write_text(json.dumps({"top_k": int(top_k), "num_experts": int(counts.shape[1]),
                                 "counts": counts.tolist()}))
    elif p.suffix.lower() == ".csv":
        with open(p, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["layer", "expert", "count", "top_k"])
            for li, row in enumerate(counts):
                for ei, c in enumerate(row):
                    w.writerow([li, ei, int(c), int(top_k)])
    else:
        raise ValueError(f"routing trace path must end in .json or .csv, got {str(p)!r}")
    return p
