"""M3ViT (NeurIPS'22) on a ZCU104: single-task MACs (m3vit-01), on-chip memory of computation reordering (m3vit-02)
and CR vs the cache-based design (m3vit-03).

The setup and the computation are in ``cosim.reproduce.m3vit``; each claim is a pair: the paper's number within the
tolerance stated here (strict xfail with the reason while the model misses it) and the model's own number pinned
with 1 % (noise only).
"""

import pytest

from cosim import api
from cosim.reproduce import model_value
from cosim.reproduce.m3vit import cr_vs_cache
from paper_cases import assert_paper, paper
from workloads.transformer import WorkloadParamError

PAPER = [
    paper("m3vit-01/m3vit-gmacs", 84.0, rel=0.05),
    paper("m3vit-02/naive", 11.61, rel=0.02),
    paper("m3vit-02/reordered", 4.84, rel=0.02),
    paper("m3vit-02", 2.40, rel=0.02),
    paper("m3vit-03/latency", 9.23, rel=0.10, miss=True),
    paper("m3vit-03/energy", 9.23, rel=0.10),
    paper("m3vit-03/cr-latency", 69.033, rel=0.10, miss=True),
    paper("m3vit-03/cache-latency", 637.478, rel=0.10, miss=True),
]
MODEL = {"m3vit-01/m3vit-gmacs": 83.78, "m3vit-02/naive": 11.665, "m3vit-02/reordered": 4.897, "m3vit-02": 2.382,
         "m3vit-03/latency": 7.22, "m3vit-03/energy": 9.25, "m3vit-03/cr-latency": 109.5,
         "m3vit-03/cache-latency": 791.3}


@pytest.mark.parametrize("claim_id, value, tol", PAPER)
def test_paper_m3vit(claim_id, value, tol):
    assert_paper(claim_id, value, tol)


@pytest.mark.parametrize("claim_id", MODEL)
def test_model_m3vit(claim_id):
    assert model_value(claim_id) == pytest.approx(MODEL[claim_id], rel=0.01)


def test_cache_design_moves_expert_weights_from_ddr():
    slots, cr, cached = cr_vs_cache()
    assert slots == 3  # 16 experts cannot all stay on chip: the baseline must cache
    # Physics the claim rests on: the cache design moves far more DDR bytes, all of it expert weights.
    assert cached.ops["dram_bytes"].sum() > 10 * cr.ops["dram_bytes"].sum() / 2


def test_attention_runs_fused_with_scores_on_chip():
    _, cr, _ = cr_vs_cache()
    attention = cr.ops[cr.ops["op"] == "attention"].iloc[0]
    assert attention["mapping"].startswith("fused attention")
    # DDR carries Q, K, V and the output of the 12 heads once per layer (fp16): no score byte.
    assert attention["dram_bytes"] == attention["count"] * 12 * 4 * 1025 * 32 * 2
    # The backbone has no op of the task's SETR-PUP head.
    assert not cr.ops["op"].str.startswith("head").any()


@pytest.mark.xfail(strict=True, raises=WorkloadParamError,
                   reason="m3vit-01's 88% reduction compares with Cross-Stitch on ResNet-18 (647 G). The setup is in "
                          "github.com/VITA-Group/M3ViT configs/pascal/resnet18/cross_stitch.yml (five dilated ResNet-18 "
                          "branches, cross-stitch units after layer1-4, a DeepLab head per task, PASCAL-Context) and "
                          "models/cross_stitch.py, but cosim has no dilated-ResNet/DeepLab multi-task workload; the "
                          "paper does not say whether its 647 G counts MACs, as its 84 G for M3ViT does")
def test_cross_stitch_baseline_of_m3vit_01():
    api.load_workload("cross-stitch-resnet18", task="semseg")
