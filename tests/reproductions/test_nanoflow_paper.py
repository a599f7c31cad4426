"""NanoFlow: the fraction of the optimal throughput it reaches (nano-02), LLaMA-2-70B on 8 A100-80GB at TP8; why its
1.91x over TensorRT-LLM (nano-01) is not in the table.

The setup and the computation are in ``cosim.reproduce.serving_nanoflow``; the claim is a pair: the paper's number
within the tolerance stated here (strict xfail with the reason while the model misses it) and the model's own number
pinned with 2 %.
"""

import pytest

from cosim.reproduce import claims, model_value
from cosim.reproduce import serving_nanoflow as nanoflow
from paper_cases import assert_paper, paper

HEAVY = pytest.mark.heavy  # the serving runs behind these take minutes on 2 cores (README, Tests)

PAPER = [paper("nano-02", 68.5, rel=0.20)]
MODEL = {"nano-02": 62.36}


@HEAVY
@pytest.mark.parametrize("claim_id, value, tol", PAPER)
def test_paper_nanoflow(claim_id, value, tol):
    assert_paper(claim_id, value, tol)


@HEAVY
@pytest.mark.parametrize("claim_id", MODEL)
def test_model_nanoflow(claim_id):
    assert model_value(claim_id) == pytest.approx(MODEL[claim_id], rel=0.02)


def test_optimum_is_the_papers_eq5():
    """Compute / (2 P_model): the A100 preset's large-GEMM rate (below its 312 TFLOPS peak) over two FLOPs per
    parameter; the paper's CUTLASS-measured figure gives 1857 tokens/s/GPU for LLaMA-2-70B."""
    flops = nanoflow.gemm_flops_per_s()
    assert 0.8 * 312e12 < flops < 312e12
    assert nanoflow.optimal_tokens_per_s_per_gpu() == pytest.approx(flops / (2 * 68_976_648_192), rel=1e-6)
    assert nanoflow.optimal_tokens_per_s_per_gpu() == pytest.approx(1857, rel=0.10)


@HEAVY
def test_overlap_gain_over_the_sequential_engine():
    """Nano-batches overlap memory- and network-bound operations under the GEMMs: more throughput than the same
    engine running each step's operations in turn, and still below the optimum. (This overlap gain is not nano-01's
    comparison: the paper's 1.91x is over TensorRT-LLM, whose kernels and runtime cosim does not model.)"""
    p, o = nanoflow.CONSTANT_LENGTHS[0]
    nano, sequential = nanoflow.throughput(nanoflow.NANO_BATCHES, p, o), nanoflow.throughput(1, p, o)
    assert sequential < nano < nanoflow.optimal_tokens_per_s_per_gpu()
    assert nano / sequential == pytest.approx(1.138, rel=0.02)


def test_nano_01_is_not_in_the_table():
    assert not any(c.claim_id == "nano-01" for c in claims().values())
    assert "TensorRT-LLM" in nanoflow.UNREACHED["nano-01"] and "nano-01 baseline" in nanoflow.MISSING
