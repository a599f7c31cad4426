"""Named request-length profiles (``traffic.dataset``) built from published dataset statistics.

The figures and their sources live in ``data/datasets.yaml`` (sources also in ``data/README.md``): ShareGPT
(openchat_sharegpt4, Sarathi-Serve Table 2), arXiv summarisation (Sarathi-Serve Table 2), ShareGPT and Alpaca as the
vLLM paper served them (Fig. 11), and LMSYS-Chat-1M (its Table 1). Each side is a lognormal: where a median and P90
are published, sigma = ln(P90 / median) / z90; where only a mean is, the spread is borrowed (an ``assumption``
stated in the file) and the median is mean · exp(-sigma² / 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from statistics import NormalDist

import numpy as np
import yaml

from cosim.errors import CosimInputError
from cosim.serving.spec import Lengths

Z90 = NormalDist().inv_cdf(0.9)  # 1.2816: a lognormal's P90 is median · exp(sigma · Z90)


@dataclass(frozen=True)
class DatasetProfile:
    """A named dataset: prompt and output length distributions, the total-token cap its traces use, and sources."""

    name: str
    title: str
    prompt: Lengths
    output: Lengths
    max_total_tokens: int | None
    source: str
    assumption: str


@cache
def _records() -> dict[str, dict]:
    return yaml.safe_load(resources.files("cosim.serving").joinpath("data/datasets.yaml").read_text())


def sigma_from_p90(median: float, p90: float) -> float:
    """The log-space sigma of a lognormal with this median and 90th percentile."""
    return math.log(p90 / median) / Z90


def _sigma(side: dict) -> float:
    if "p90" in side:
        return sigma_from_p90(side["median"], side["p90"])
    if "spread" in side:
        return sigma_from_p90(side["spread"]["median"], side["spread"]["p90"])
    name, which = side["spread_like"].split(".")
    return _sigma(_records()[name][which])


def _side_pmf(median: float, sigma: float, high: int | None, cap: int) -> np.ndarray:
    """P(length = k) for k = 0..cap of a lognormal rounded to integers and clipped to [1, high] (index 0 is 0)."""
    from scipy.special import ndtr  # the standard normal CDF

    edges = np.arange(0.5, cap + 1.5)
    cdf = ndtr((np.log(edges) - math.log(median)) / max(sigma, 1e-12))
    pmf = np.zeros(cap + 1)
    pmf[1:] = np.diff(cdf)
    pmf[1] += cdf[0]  # everything below 1.5 rounds or clips to 1
    if high is not None and high < cap:
        pmf[high] += pmf[high + 1:].sum()
        pmf[high + 1:] = 0.0
    return pmf


def capped_marginals(params: dict[str, tuple[float, float, int | None]], cap: int) -> dict[str, np.ndarray]:
    """The length pmfs (index = tokens) of prompt and output after redrawing pairs whose sum exceeds ``cap``: each
    side's pmf times the chance the other side fits, renormalised (redrawing both sides is rejection sampling)."""
    pmf = {side: _side_pmf(*params[side], cap) for side in ("prompt", "output")}
    fits = {side: np.cumsum(v) for side, v in pmf.items()}  # P(side <= j)
    other = {"prompt": "output", "output": "prompt"}
    out = {}
    for side, v in pmf.items():
        kept = v * fits[other[side]][cap - np.arange(cap + 1)]
        out[side] = kept / kept.sum()
    return out


def _statistic(pmf: np.ndarray, key: str) -> float:
    """``median``, ``p90`` or ``mean`` of a pmf over 0..n (quantiles interpolated between integers)."""
    if key == "mean":
        return float(np.arange(pmf.size) @ pmf)
    q = {"median": 0.5, "p90": 0.9}[key]
    cdf = np.cumsum(pmf)
    k = int(np.searchsorted(cdf, q))
    below = cdf[k - 1] if k > 0 else 0.0
    return k - 1 + (q - below) / max(cdf[k] - below, 1e-300)


def _fit(record: dict) -> dict[str, Lengths]:
    """Each side's lognormal: the closed-form fit to the published figures; when the profile caps prompt + output,
    refitted so that the figures hold after the cap's redraws (published figures describe the capped trace)."""
    sides = {side: record[side] for side in ("prompt", "output")}
    sigma = {side: _sigma(v) for side, v in sides.items()}
    median = {side: v.get("median") or v["mean"] * math.exp(-sigma[side] ** 2 / 2) for side, v in sides.items()}
    cap = record.get("max_total_tokens")
    if cap is not None:
        median, sigma = _refit_under_cap(sides, median, sigma, cap)
    return {side: Lengths(dist="lognormal", median=median[side], sigma=sigma[side], high=sides[side].get("high"))
            for side in sides}


def _refit_under_cap(sides: dict, median: dict, sigma: dict, cap: int) -> tuple[dict, dict]:
    """Solve for the medians (and, where a P90 is published, the sigmas) whose capped marginals match the figures."""
    from scipy.optimize import least_squares

    targets = [(side, key, float(v[key])) for side, v in sides.items() for key in ("median", "p90", "mean") if key in v]
    free = [(side, "median") for side in sides] + [(side, "sigma") for side, v in sides.items() if "p90" in v]

    def unpack(x):
        m, s = dict(median), dict(sigma)
        for (side, name), value in zip(free, np.exp(x)):
            (m if name == "median" else s)[side] = value
        return m, s

    def residuals(x):
        m, s = unpack(x)
        pmf = capped_marginals({side: (m[side], s[side], sides[side].get("high")) for side in sides}, cap)
        return [math.log(_statistic(pmf[side], key) / value) for side, key, value in targets]

    x0 = [math.log(median[side] if name == "median" else sigma[side]) for side, name in free]
    return unpack(least_squares(residuals, x0, diff_step=1e-4, xtol=1e-12, ftol=1e-12).x)


def names() -> list[str]:
    """The known profile names."""
    return sorted(_records())


def profile(name: str) -> DatasetProfile:
    """The profile called ``name``; an unknown name is an error listing the known ones."""
    record = _records().get(name)
    if record is None:
        raise CosimInputError(f"unknown dataset {name!r}; known: {', '.join(names())}", "traffic.dataset")
    return _profile(name)


@cache
def _profile(name: str) -> DatasetProfile:
    record = _records()[name]
    fitted = _fit(record)
    notes = [record.get("assumption", "")] + [record[s].get("assumption", "") for s in ("prompt", "output")]
    return DatasetProfile(name, record["title"], fitted["prompt"], fitted["output"], record.get("max_total_tokens"),
                          record["source"], " ".join(n for n in notes if n))
