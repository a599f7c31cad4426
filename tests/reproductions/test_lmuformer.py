"""LMUFormer: 53x fewer parameters (lmu-01) and 65x fewer FLOPs (lmu-02) than the SOTA transformer ANN on SCv2.

The setup and the computation are in ``cosim.reproduce.lmuformer``: the transformer is AST as its authors run Speech
Commands V2 (catalog ``ast-speechcommands``), the LMUFormer the network of its authors' ``gsc.yml``.
"""

import pytest

from cosim.reproduce import model_value
from cosim.reproduce.lmuformer import macs, networks
from paper_cases import assert_paper, paper
from workloads.model_config import load_model_config

PAPER = [paper("lmu-01", 53.0, rel=0.10), paper("lmu-02", 65.0, rel=0.20)]
MODEL = {"lmu-01": 50.53, "lmu-02": 58.46}


@pytest.mark.parametrize("claim_id, value, tol", PAPER)
def test_paper_lmuformer(claim_id, value, tol):
    assert_paper(claim_id, value, tol)


@pytest.mark.parametrize("claim_id", MODEL)
def test_model_lmuformer(claim_id):
    assert model_value(claim_id) == pytest.approx(MODEL[claim_id], rel=0.001)


def test_ast_matches_its_authors_log():
    # log.txt of the AST Speech Commands run: "number of patches=144", "Total parameter number is : 86.933 million".
    # The total also holds DeiT's two ImageNet heads (768 x 1000 + 1000 each), unused on 35 classes, and the LayerNorm
    # of AST's mlp_head (2 x 768), which the workload does not model.
    assert load_model_config("ast-speechcommands").patches == ((128 - 16) // 10 + 1) ** 2 == 144
    ast, _ = networks()
    assert round((ast.parameters + 2 * (768 * 1000 + 1000) + 2 * 768) / 1e3) == 86_933


def test_lmuformer_counts_by_hand():
    _, lmu = networks()
    d, seq, classes = 256, 128, 35
    convs = 128 * d * 3 + 4 * d * d * 3  # embedding conv0 (128 mel bins -> 256), conv1-3 and the RPE conv; k = 3
    linears = [(d, 1), (3 * d, d), (d, d), (d, 4 * d), (4 * d, d), (d, classes)]  # w_u, w_h on [m; x], proj, MLP, head
    batch_norms = 2 * (4 * d + d + 1 + 2 * d + d + d + d + 4 * d + d)  # embed x4, prev, u, m, h, proj, fc1, fc2, head
    assert lmu.parameters == convs + sum((k + 1) * n for k, n in linears) + batch_norms
    causal_memory = seq * (2 * d) * seq * (seq + 1) / (2 * seq)  # Legendre memory: lower-triangular Toeplitz product
    assert macs(lmu) == seq * (convs + sum(k * n for k, n in linears)) + causal_memory
