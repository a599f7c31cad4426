"""NanoFlow: nano-batch overlap over a sequential engine (nano-01) and the fraction of the optimal throughput it
reaches (nano-02), LLaMA-2-70B on 8 A100-80GB at TP8.

The setup and the computation are in ``cosim.reproduce.serving_nanoflow``; each claim is a pair: the paper's number
within the tolerance stated here (strict xfail with the reason while the model misses it) and the model's own number
pinned with 2 %.
"""

import pytest

from cosim.reproduce import model_value
from cosim.reproduce import serving_nanoflow as nanoflow
from paper_cases import assert_paper, paper

PAPER = [
    paper("nano-01", 1.91, rel=0.20, miss=MISS_N1),
    paper("nano-02", 68.5, rel=0.20, miss=MISS_N2),
]
MODEL = {"nano-01": PIN_N1, "nano-02": PIN_N2}


@pytest.mark.parametrize("claim_id, value, tol", PAPER)
def test_paper_nanoflow(claim_id, value, tol):
    assert_paper(claim_id, value, tol)


@pytest.mark.parametrize("claim_id", MODEL)
def test_model_nanoflow(claim_id):
    assert model_value(claim_id) == pytest.approx(MODEL[claim_id], rel=0.02)


def test_optimum_is_the_papers_eq5():
    """Compute / (2 P_model): the A100 preset's large-GEMM rate (below its 312 TFLOPS peak) over two FLOPs per
    parameter; the paper's CUTLASS-measured figure gives 1857 tokens/s/GPU for LLaMA-2-70B."""
    flops = nanoflow.gemm_flops_per_s()
    assert 0.8 * 312e12 < flops < 312e12
    assert nanoflow.optimal_tokens_per_s_per_gpu() == pytest.approx(flops / (2 * 68.976648192e9), rel=1e-3)
    assert nanoflow.optimal_tokens_per_s_per_gpu() == pytest.approx(1857, rel=0.10)


def test_simulated_throughput_stays_below_the_optimum():
    for prompt, output in nanoflow.CONSTANT_LENGTHS:
        assert nanoflow.throughput(nanoflow.NANO_BATCHES, f"{prompt}x{output}") < \
            nanoflow.optimal_tokens_per_s_per_gpu()
