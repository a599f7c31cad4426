"""NeuPIMs (ASPLOS'24) decode throughput over GPU-only, NPU-only and naive NPU+PIM (neupims-01..03).

The setup and the computation are in ``cosim.reproduce.neupims``; each claim is a pair: the paper's number within the
tolerance stated here (strict xfail with the reason while the model misses it) and the model's own number pinned
with 2 % (which absorbs only float summation order, not model changes).
"""

import pytest

from cosim.reproduce import model_value
from paper_cases import assert_paper, paper

PAPER = [
    paper("neupims-01", 3.0, rel=0.25, miss=True),
    paper("neupims-02", 2.4, rel=0.25),
    paper("neupims-03", 1.6, rel=0.25, miss=True),
]
MODEL = {"neupims-01": 0.595, "neupims-02": 2.607, "neupims-03": 0.651}


@pytest.mark.parametrize("claim_id, value, tol", PAPER)
def test_paper_neupims(claim_id, value, tol):
    assert_paper(claim_id, value, tol)


@pytest.mark.parametrize("claim_id", MODEL)
def test_model_neupims(claim_id):
    assert model_value(claim_id) == pytest.approx(MODEL[claim_id], rel=0.02)
