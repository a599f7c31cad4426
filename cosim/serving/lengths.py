"""Token-length distributions: draws of prompt or output lengths, as int64 arrays, every value >= 1.

``fixed``: ``value``; ``uniform``: integers in [low, high]; ``lognormal``: ``median`` · exp(``sigma`` · Z), rounded;
``zipf``: P(k) ∝ k^-a over the integers [low, high], normalised exactly; ``empirical``: values of a file drawn with
replacement. Every kind is then clipped to [low, high] (``high`` unbounded when not given).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from cosim.errors import CosimInputError
from cosim.serving.spec import Lengths
from cosim.serving.tables import read_table, resolve


def zipf_pmf(a: float, low: int, high: int) -> np.ndarray:
    """Probabilities of the integers ``low..high`` under a Zipf law with exponent ``a`` (they sum to 1)."""
    if not 1 <= low <= high:
        raise CosimInputError(f"zipf needs 1 <= low <= high, got low={low}, high={high}")
    weights = np.arange(low, high + 1, dtype=np.float64) ** -a
    return weights / weights.sum()


def read_samples(path: Path, column: str | None = None) -> np.ndarray:
    """The lengths in ``path``: ``column`` of a CSV/JSONL file, or its only column (a CSV header is optional then).
    Read once per file version (redraws under a token cap ask again)."""
    stat = path.stat() if path.is_file() else None
    return _read_samples(path, column, stat and (stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=16)
def _read_samples(path: Path, column: str | None, _version) -> np.ndarray:
    table = read_table(path, header=column is not None or _has_header(path))
    if column is None:
        if len(table.columns) != 1:
            raise CosimInputError(f"the file has columns {sorted(table.columns)}; name one as 'column'", str(path))
        column = next(iter(table.columns))
    else:
        table.require((column,), "an empirical length distribution")
    values = table.numbers(column, integer=True, minimum=1, allowed="an integer number of tokens >= 1").astype(np.int64)
    values.flags.writeable = False  # shared by every caller of the cache
    return values


def _has_header(path: Path) -> bool:
    """Whether a CSV/text file starts with a name rather than a number (JSONL rows carry their names; a missing
    file is reported by read_table)."""
    if path.suffix.lower() == ".jsonl" or not path.is_file():
        return True
    with path.open() as f:
        first = next((line.strip() for line in f if line.strip()), "")
    try:
        float(first.split(",")[0])
    except ValueError:
        return True
    return False


def _need(spec: Lengths, field: str, where: str):
    value = getattr(spec, field)
    if value is None:
        raise CosimInputError(f"a {spec.dist} length distribution needs '{field}'", where)
    return value


def draw_lengths(spec: Lengths, rng: np.random.Generator, size: int, base_dir: Path | None = None,
                 where: str = "lengths") -> np.ndarray:
    """``size`` lengths from ``spec``; ``base_dir`` resolves a relative empirical ``path``; ``where`` (the config
    path, e.g. ``traffic.prompt``) prefixes errors."""
    high = spec.high if spec.high is not None else np.iinfo(np.int64).max
    if spec.low > high:
        raise CosimInputError(f"low ({spec.low}) is above high ({spec.high})", where)
    if spec.dist == "fixed":
        values = np.full(size, _need(spec, "value", where), dtype=np.int64)
    elif spec.dist == "uniform":
        values = rng.integers(spec.low, _need(spec, "high", where), size, endpoint=True)
    elif spec.dist == "lognormal":
        median = _need(spec, "median", where)
        values = np.rint(np.minimum(median * np.exp(spec.sigma * rng.standard_normal(size)), 2.0**62)).astype(np.int64)
    elif spec.dist == "zipf":
        cdf = np.cumsum(zipf_pmf(spec.a, spec.low, _need(spec, "high", where)))
        values = spec.low + np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), cdf.size - 1)
    elif spec.dist == "empirical":
        samples = read_samples(resolve(_need(spec, "path", where), base_dir), spec.column)
        values = samples[rng.integers(0, samples.size, size)]
    else:  # the spec's Literal makes this unreachable from a validated config
        raise CosimInputError(f"unknown length distribution {spec.dist!r}", where)
    return np.clip(values, spec.low, high).astype(np.int64)
