"""The reproduction tests' two kinds of check, on the numbers ``cosim.reproduce`` computes.

``paper(...)`` declares a paper-number case with its tolerance written in the test (``miss=True`` marks it
``xfail(strict=True)`` with the claim's recorded reason, so a model change that reaches the paper turns the run red
until the marker is removed); ``assert_paper`` checks it. Model pins are plain ``pytest.approx`` on ``model_value``.
"""

from __future__ import annotations

import pytest

from cosim.reproduce import claim, model_value


def paper(claim_id: str, value: float, *, rel: float | None = None, abs: float | None = None,
          range: tuple[float, float] | None = None, miss: bool = False):
    """One paper case: the published ``value`` and exactly one tolerance (relative, absolute or the range)."""
    tol = {k: v for k, v in (("rel", rel), ("abs", abs), ("range", range)) if v is not None}
    assert len(tol) == 1, f"{claim_id}: give exactly one tolerance"
    marks = [pytest.mark.xfail(strict=True, reason=claim(claim_id).gap)] if miss else []
    return pytest.param(claim_id, value, tol, marks=marks, id=claim_id)


def assert_paper(claim_id: str, value: float, tol: dict) -> None:
    """The model's number for ``claim_id`` agrees with the paper's ``value`` within ``tol``."""
    model = model_value(claim_id)
    if "range" in tol:
        low, high = tol["range"]
        assert low <= model <= high, f"{claim_id}: model {model:.4g} outside the published {low:g}-{high:g}"
    elif "rel" in tol:
        assert model == pytest.approx(value, rel=tol["rel"])
    else:
        assert model == pytest.approx(value, abs=tol["abs"])
