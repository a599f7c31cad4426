"""`serving:` entries in sweep configs: each hardware point x scheduler x rate is one serving run and one row of
``serving.parquet``; the design-point results beside them are those of the same sweep without the entries; bad
entries get the YAML path; the serving example validates and runs."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest

import cosim

ROOT = Path(__file__).resolve().parents[2]

SWEEP = {
    "name": "with-serving",
    "hardware": [{"preset": "A100-SXM4-80GB", "grid": {"memory.hbm_bandwidth_gbps": [2039, 3000]}}],
    "workloads": [{"model": "gpt3-7b", "params": {"phase": "decode", "batch": 8, "context": 512}}],
}
ENTRY = {
    "model": "gpt3-7b",
    "traffic": {"arrivals": {"process": "poisson", "rate_per_s": 2.0}, "requests": 16,
                "prompt": {"dist": "fixed", "value": 64}, "output": {"dist": "fixed", "value": 8}},
    "schedulers": [{"policy": "vllm"}, {"policy": "sarathi", "token_budget": 128}],
    "rates": [2.0, 8.0],
    "slos": {"tight": {"ttft_s": 0.2}},
}


def test_sweep_with_a_serving_entry(tmp_path):
    plain = cosim.sweep(SWEEP, tmp_path / "plain")
    outcome = cosim.sweep({**SWEEP, "serving": [ENTRY]}, tmp_path / "both")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "plain" / "results.parquet"),
                                  pd.read_parquet(tmp_path / "both" / "results.parquet"))
    assert not (tmp_path / "plain" / "serving.parquet").exists() and "serving" not in plain.files
    table = pd.read_parquet(outcome.files["serving"])
    assert len(table) == 2 * 2 * 2  # hardware points x schedulers x rates
    assert set(table["hw.memory.hbm_bandwidth_gbps"]) == {2039, 3000}
    assert set(table["sched.policy"]) == {"vllm", "sarathi"} and set(table["rate_per_s"]) == {2.0, 8.0}
    assert (table["finished"] == 16).all() and "goodput_tight_rps" in table and "ttft_p99_s" in table
    fast = table[(table["sched.policy"] == "vllm") & (table["rate_per_s"] == 8.0)]
    slow_bw, fast_bw = fast.sort_values("hw.memory.hbm_bandwidth_gbps")["tbt_p50_s"]
    assert fast_bw < slow_bw  # more HBM bandwidth, faster decode steps


def test_serving_only_sweep(tmp_path):
    config = {"name": "serving-only", "hardware": [{"preset": "A100-SXM4-80GB"}],
              "serving": [{**ENTRY, "schedulers": [{"policy": "orca"}], "rates": [4.0]}]}
    outcome = cosim.sweep(config, tmp_path / "out")
    assert outcome.results.empty and len(pd.read_parquet(outcome.files["serving"])) == 1


@pytest.mark.parametrize("change, path", [
    ({"schedulers": [{"policy": "vllm"}, {"policy": "fifo"}]}, "serving[0].schedulers[1].policy"),
    ({"rates": [1.0, -2.0]}, "serving[0].rates[1]"),
    ({"model": "gpt3-8b"}, "serving[0].model"),
    ({"traffic": {**ENTRY["traffic"], "dataset": "nope"}}, "serving[0].traffic.dataset"),
])
def test_bad_serving_entry_names_its_path(change, path):
    with pytest.raises(cosim.INPUT_ERRORS) as caught:
        cosim.sweep({**SWEEP, "serving": [{**copy.deepcopy(ENTRY), **change}]})
    assert f"<config>: {path}" in str(caught.value)


def test_sweep_needs_workloads_or_serving():
    with pytest.raises(cosim.INPUT_ERRORS, match="'workloads'.*'serving'"):
        cosim.sweep({"hardware": [{"preset": "A100-SXM4-80GB"}]})


def test_serving_example_validates_and_runs_small(tmp_path):
    config = cosim.load_serving_config(ROOT / "examples" / "serving.yaml")
    assert [s.hardware.preset for s in config.systems] == ["H100-SXM5-80GB", "NeuPIMs", "Duplex"]
    assert config.rates == sorted(config.rates) and len(config.rates) >= 4
    result = cosim.serve_study(ROOT / "examples" / "serving.yaml", tmp_path / "out", rates=[2.0], requests=12)
    assert (result.summary["finished"] == 12).all()
    assert {"latency_cdf", "rate_latency", "occupancy"} <= set(result.files)
