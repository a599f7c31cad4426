"""Serving studies end to end: `cosim serve` writes its tables and plots, studies are deterministic, every system is
served the same requests, a system that cannot hold the model is recorded, and an interrupted study keeps its
finished runs."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import cosim
from cosim.cli import main
from cosim.serving.run import REQUEST_COLUMNS, TIMELINE_COLUMNS

ROOT = Path(__file__).resolve().parents[2]

TINY = {
    "name": "tiny",
    "model": "gpt3-7b",
    "traffic": {"arrivals": {"process": "poisson", "rate_per_s": 2.0}, "requests": 24,
                "prompt": {"dist": "uniform", "low": 16, "high": 128},
                "output": {"dist": "uniform", "low": 2, "high": 24}},
    "systems": [{"label": "vllm", "hardware": {"preset": "A100-SXM4-80GB"}},
                {"label": "sarathi", "hardware": {"preset": "A100-SXM4-80GB"},
                 "scheduler": {"policy": "sarathi", "token_budget": 256}}],
    "rates": [2.0, 16.0],
    "slos": {"tight": {"ttft_s": 0.2, "tpot_s": 0.05}},
}


def tiny(**changes) -> dict:
    config = copy.deepcopy(TINY)
    config.update(changes)
    return config


def test_cli_serve_writes_tables_and_plots(tmp_path):
    import yaml

    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny(capacity={"slo": "tight", "low": 1.0, "high": 4.0, "tolerance": 0.5})))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "cosim.cli", "serve", str(path), "-o", str(out), "--no-progress"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "sarathi" in proc.stdout and "capacity of vllm within SLO 'tight'" in proc.stdout
    requests = pd.read_parquet(out / "requests.parquet")
    assert list(requests.columns) == ["system", "rate_per_s", *REQUEST_COLUMNS]
    assert len(requests) == 2 * 2 * 24 and requests["finished"].all()
    timeline = pd.read_parquet(out / "timeline.parquet")
    assert list(timeline.columns) == ["system", "rate_per_s", *TIMELINE_COLUMNS]
    summary = pd.read_parquet(out / "summary.parquet")
    assert list(zip(summary["system"], summary["rate_per_s"])) == [("vllm", 2.0), ("sarathi", 2.0), ("vllm", 16.0),
                                                                   ("sarathi", 16.0)]
    for column in ("output_tokens_per_s", "ttft_p99_s", "tbt_p50_s", "e2e_p90_s", "tpot_mean_s",
                   "energy_per_output_token_j", "energy_per_request_j", "kv_occupancy_mean", "queue_length_mean",
                   "goodput_tight_rps", "attainment_tight", "meets_tight"):
        assert column in summary, column
    assert pd.read_csv(out / "summary.csv").shape == summary.shape
    capacity = pd.read_csv(out / "capacity.csv")
    assert list(capacity["system"]) == ["vllm", "sarathi"] and (capacity["probes"] >= 2).all()
    for plot in ("latency_cdf.png", "rate_latency.png", "occupancy.png"):
        assert (out / plot).stat().st_size > 10_000, plot
    assert not (out / "partial").exists()


def test_study_is_deterministic_and_systems_share_requests(tmp_path):
    first = cosim.serve_study(tiny(), tmp_path / "a")
    second = cosim.serve_study(tiny(), tmp_path / "b")
    for name in ("requests.parquet", "timeline.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a" / name), pd.read_parquet(tmp_path / "b" / name))
    pd.testing.assert_frame_equal(first.summary.drop(columns="wall_s"), second.summary.drop(columns="wall_s"))
    requests = pd.read_parquet(tmp_path / "a" / "requests.parquet")
    for _, at_rate in requests.groupby("rate_per_s"):
        offered = [g[["id", "arrival_s", "prompt_tokens", "output_tokens"]].reset_index(drop=True)
                   for _, g in at_rate.groupby("system")]
        pd.testing.assert_frame_equal(offered[0], offered[1])


def test_rate_and_request_options_replace_the_config(tmp_path):
    result = cosim.serve_study(tiny(), tmp_path / "out", rates=[3.0], requests=10)
    assert list(result.summary["rate_per_s"]) == [3.0, 3.0]
    assert (result.summary["requests"] == 10).all()


def test_capacity_option_without_slos_is_an_input_error(tmp_path):
    with pytest.raises(cosim.INPUT_ERRORS, match="capacity search needs an SLO"):
        cosim.serve_study(tiny(slos={}), tmp_path / "out", capacity=True)


def test_system_that_cannot_hold_the_model_is_recorded(tmp_path):
    config = tiny(model="gpt3-13b", rates=[2.0])
    config["systems"][1] = {"label": "small", "hardware": {"preset": "RTX-3090"}}
    result = cosim.serve_study(config, tmp_path / "out")
    ok, failed = result.summary.iloc[0], result.summary.iloc[1]
    assert ok["finished"] == 24 and not isinstance(ok.get("reason"), str)
    assert failed["system"] == "small" and "fit" in failed["reason"]


def test_interrupted_study_keeps_finished_runs(tmp_path, monkeypatch, capsys):
    import cosim.serving.simulation as simulation

    real = simulation.simulate_system
    calls = []

    def interrupted_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(simulation, "simulate_system", interrupted_third)
    import yaml

    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny()))
    assert main(["serve", str(path), "-o", str(tmp_path / "out"), "--no-progress"]) == 130
    assert "interrupted" in capsys.readouterr().out
    summary = pd.read_parquet(tmp_path / "out" / "summary.parquet")
    assert list(zip(summary["system"], summary["rate_per_s"])) == [("vllm", 2.0), ("sarathi", 2.0)]
    assert set(pd.read_parquet(tmp_path / "out" / "requests.parquet")["rate_per_s"]) == {2.0}
