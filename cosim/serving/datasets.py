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


def _lengths(side: dict) -> Lengths:
    sigma = _sigma(side)
    median = side["median"] if "median" in side else side["mean"] * math.exp(-sigma**2 / 2)
    return Lengths(dist="lognormal", median=median, sigma=sigma, high=side.get("high"))


def names() -> list[str]:
    """The known profile names."""
    return sorted(_records())


def profile(name: str) -> DatasetProfile:
    """The profile called ``name``; an unknown name is an error listing the known ones."""
    record = _records().get(name)
    if record is None:
        raise CosimInputError(f"unknown dataset {name!r}; known: {', '.join(names())}", "traffic.dataset")
    notes = [record.get("assumption", "")] + [record[s].get("assumption", "") for s in ("prompt", "output")]
    return DatasetProfile(name, record["title"], _lengths(record["prompt"]), _lengths(record["output"]),
                          record.get("max_total_tokens"), record["source"], " ".join(n for n in notes if n))
