"""The reproduction table: each claim of ``claims.yaml`` against the model value its paper module computes."""

from __future__ import annotations

import importlib
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from cosim.errors import CosimInputError
from cosim.marked_block import output_path, write_markdown  # noqa: F401 (output_path: this module's API)
from cosim.reproduce.claims import Claim, claims

# The module computing each paper's claims, by the claim id's prefix (``neupims-01`` -> ``neupims``).
PAPER_MODULES = {"neupims": "neupims", "duplex": "duplex", "m3vit": "m3vit", "dnn": "pulp", "iir": "iir_snn",
                 "lmu": "lmuformer", "cq": "diffusion", "mixdq": "diffusion", "sarathi": "serving_sarathi",
                 "ds": "serving_distserve", "nano": "serving_nanoflow"}
COLUMNS = ["id", "claim_id", "paper", "metric", "compared", "unit", "stated", "paper_value", "tolerance",
           "model_value", "error", "within_tolerance", "reason", "source"]


def computation(claim_id: str) -> Callable[[], float]:
    """The function of no arguments that computes claim ``claim_id`` (from its paper module's ``MODEL_VALUES``)."""
    module = importlib.import_module(f"cosim.reproduce.{PAPER_MODULES[claim_id.split('-', 1)[0]]}")
    return module.MODEL_VALUES[claim_id]


@lru_cache(maxsize=None)
def model_value(claim_id: str) -> float:
    """The model's number for claim ``claim_id``, computed once per process through the public models."""
    if claim_id not in claims():
        raise CosimInputError(_unknown(claim_id))
    return float(computation(claim_id)())


def _unknown(name: str) -> str:
    return f"unknown claim {name!r}; known claims: {', '.join(claims())}"


def select(names: Iterable[str] | None = None) -> list[Claim]:
    """Claims by record id (``m3vit-03/latency``) or reference id (``m3vit-03``: all its records); all when None."""
    if names is None:
        return list(claims().values())
    out: list[Claim] = []
    for name in names:
        hits = [c for c in claims().values() if name in (c.id, c.claim_id)]
        if not hits:
            raise CosimInputError(_unknown(name))
        out += [c for c in hits if c not in out]
    return out


def row(c: Claim) -> dict:
    """One table row: the claim, the paper's and the model's numbers, the relative error and the verdict."""
    model = model_value(c.id)
    within = c.within(model)
    return {"id": c.id, "claim_id": c.claim_id, "paper": c.paper, "metric": c.metric, "compared": c.compared,
            "unit": c.unit.strip(), "stated": c.describe_value(), "paper_value": c.value,
            "tolerance": c.describe_tolerance(), "model_value": model, "error": (model - c.value) / c.value,
            "within_tolerance": within, "reason": "" if within else c.gap, "source": c.source}


def reproduce(names: Iterable[str] | None = None) -> pd.DataFrame:
    """The reproduction table (one row per claim, columns ``COLUMNS``; ``error`` is relative to the paper value)."""
    return pd.DataFrame([row(c) for c in select(names)], columns=COLUMNS)


def _number(text: str, unit: str) -> str:
    return f"{text}{'' if unit in ('x', '%') else ' '}{unit}"


def display_rows(table: pd.DataFrame) -> list[list[str]]:
    """The table as text cells: claim, compared, paper, model, error, tolerance, within, why missed."""
    out = []
    for r in table.itertuples(index=False):
        model = f"{r.model_value:#.3g}".rstrip(".")
        out.append([r.id, r.compared, _number(r.stated, r.unit), _number(model, r.unit),
                    f"{100 * r.error:+.1f}%", r.tolerance, "yes" if r.within_tolerance else "no", r.reason])
    return out


DISPLAY_HEADER = ["claim", "compared", "paper", "model", "error", "tolerance", "within", "why missed"]


def to_markdown(table: pd.DataFrame) -> str:
    """The table as a GitHub markdown table (``|`` in cells escaped)."""
    cells = [[s.replace("|", "\\|") for s in r] for r in display_rows(table)]
    lines = ["| " + " | ".join(DISPLAY_HEADER) + " |", "|" + "---|" * 2 + "---:|" * 3 + "---|" * 3]
    lines += ["| " + " | ".join(r) + " |" for r in cells]
    return "\n".join(lines) + "\n"


BLOCK_TAG = "reproduce"


def write(table: pd.DataFrame, path: Path) -> None:
    """Write ``table`` as CSV or markdown. A markdown file that holds a ``<!-- reproduce:start -->`` ...
    ``<!-- reproduce:end -->`` block (the README) gets only that block replaced."""
    if path.suffix == ".csv":
        table.to_csv(path, index=False)
        return
    write_markdown(path, to_markdown(table), BLOCK_TAG)
