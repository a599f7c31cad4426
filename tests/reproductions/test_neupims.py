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
MODEL = {"neupims-01": 1.175, "neupims-02": 2.218, "neupims-03": 0.988}


@pytest.mark.parametrize("claim_id, value, tol", PAPER)
def test_paper_neupims(claim_id, value, tol):
    assert_paper(claim_id, value, tol)


@pytest.mark.parametrize("claim_id", MODEL)
def test_model_neupims(claim_id):
    assert model_value(claim_id) == pytest.approx(MODEL[claim_id], rel=0.02)


def test_step_breakdown_adds_up_to_the_period():
    """The naive system runs everything in turn: its step is the sum of the parts. NeuPIMs at batch 256 interleaves:
    the NPU's work and idle time fill its step (hand-overs into NPU ops are held by the NPU)."""
    from cosim.reproduce.neupims import PRESETS, step_breakdown

    naive = step_breakdown(preset=PRESETS["naive"])
    serial = naive["npu_gemm_s"] + naive["npu_other_s"] + naive["pim_attention_s"] + naive["transfer_s"]
    assert naive["period_s"] == pytest.approx(serial, rel=1e-9)
    ours = step_breakdown(preset=PRESETS["neupims"])
    npu = ours["npu_gemm_s"] + ours["npu_other_s"] + ours["npu_idle_s"]
    assert npu <= ours["period_s"] * (1 + 1e-9) <= npu + ours["transfer_s"] * (1 + 1e-9)
    assert ours["pim_attention_s"] < ours["npu_gemm_s"]
