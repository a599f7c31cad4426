"""Sarathi-Serve (OSDI'24) serving capacity over vLLM (sarathi-01: Mistral-7B on one A100; sarathi-02: Falcon-180B
on eight A100s in two nodes).

The setup and the computation are in ``cosim.reproduce.serving_sarathi``; each claim is a pair: the paper's number
within the tolerance stated here (strict xfail with the reason while the model misses it) and the model's own number
pinned with 2 % (runs are seeded, so only the bisection's bracket and float order move it).
"""

import pytest

from cosim import api
from cosim.reproduce import model_value
from cosim.reproduce import serving_sarathi as sarathi
from paper_cases import assert_paper, paper

HEAVY = pytest.mark.heavy  # the serving runs behind these take minutes on 2 cores (README, Tests)

PAPER = [
    paper("sarathi-01", 2.6, rel=0.20),
    paper("sarathi-02", 6.9, rel=0.20, miss=True),
]
MODEL = {"sarathi-01": 2.315, "sarathi-02": 1.161}


@HEAVY
@pytest.mark.parametrize("claim_id, value, tol", PAPER)
def test_paper_sarathi(claim_id, value, tol):
    assert_paper(claim_id, value, tol)


@HEAVY
@pytest.mark.parametrize("claim_id", MODEL)
def test_model_sarathi(claim_id):
    assert model_value(claim_id) == pytest.approx(MODEL[claim_id], rel=0.02)


def test_setup_is_the_published_one():
    """SLOs, token budgets, batch limit and the capacity definition as published; the openchat_sharegpt4 lengths."""
    assert sarathi.MODELS["mistral-7b"]["p99_tbt_s"] == (0.1, 0.5)
    assert sarathi.MODELS["falcon-180b"]["p99_tbt_s"] == (1.0, 5.0)
    assert {r: b for r, (_, b) in sarathi.REGIMES.items()} == {"strict": 512, "relaxed": 2048}
    for regime in sarathi.REGIMES:
        s = sarathi.system("falcon-180b", "sarathi", regime)
        assert (s.tensor_parallel, s.pipeline_parallel, s.scheduler.max_batch) == (4, 2, 128)
        assert sarathi.slo("mistral-7b", regime).median_queue_s == 2.0
    from cosim.serving.datasets import profile

    assert profile(sarathi.DATASET).max_total_tokens == 8192
    assert sarathi.MISSING == ("length distributions", "A100 variant", "Ethernet latency", "data type",
                               "vLLM prefill limit", "requests per run", "software stack")


def test_falcon_pipeline_stages_talk_over_the_100_gbps_ethernet():
    """TP4 inside each node of four; the activations between the two stages cross the nodes' 100 Gb/s Ethernet,
    each of the node's 4 GPUs using a quarter of it."""
    m = sarathi.MODELS["falcon-180b"]
    hw = api.load_hardware(m["preset"], m["overrides"])
    wl = api.load_workload("falcon-180b", phase="decode", batch=64, context=1024, tensor_parallel=4,
                           pipeline_parallel=2)
    ops = api.simulate(hw, wl).ops.set_index("op")
    send = ops.loc["pipeline_send"]
    assert send["bound"] == "interconnect"
    assert send["time_s"] == pytest.approx(64 * 14848 * 2 / (12.5e9 / 4), rel=0.01)
    one_node = api.simulate(api.load_hardware(m["preset"]), wl).ops.set_index("op").loc["pipeline_send"]
    assert one_node["time_s"] < send["time_s"] / 10  # the same send over NVLink


@HEAVY
def test_sarathi_chunks_keep_token_gaps_short():
    """At the same load, Sarathi-Serve's P99 token gap is below vLLM's (no whole-prompt prefill stalls decodes)."""
    from cosim.reproduce.serving_runs import runner

    rates = {}
    for policy in ("vllm", "sarathi"):
        run = runner(sarathi.system("mistral-7b", policy, "strict"), "mistral-7b", sarathi.traffic(), {})(2.0)
        rates[policy] = run.summary["tbt_p99_s"]
    assert rates["sarathi"] < rates["vllm"]
