"""Serving configs: bad input gets one clear line naming the file, the YAML path, the value and what is allowed,
and `cosim serve` exits with status 2 and no traceback; the sweep's config messages keep their form."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cosim.api import load_serving_config
from cosim.errors import CosimInputError

ROOT = Path(__file__).resolve().parents[2]

GOOD = textwrap.dedent("""\
    name: tiny
    model: gpt3-7b
    traffic:
      arrivals: {process: poisson, rate_per_s: 2.0}
      requests: 20
      prompt: {dist: fixed, value: 64}
      output: {dist: fixed, value: 8}
    systems:
      - label: gpu
        hardware: {preset: A100-SXM4-80GB}
    slos:
      tight: {ttft_s: 0.5, tpot_s: 0.1}
    """)


def write(tmp_path: Path, text: str, name: str = "serve.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error(tmp_path: Path, text: str) -> str:
    """The message ``load_serving_config`` raises on ``text``; it names the config file."""
    path = write(tmp_path, text)
    with pytest.raises(CosimInputError) as caught:
        load_serving_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    return message


def test_good_config_loads(tmp_path):
    cfg = load_serving_config(write(tmp_path, GOOD))
    assert cfg.model == "gpt3-7b" and cfg.systems[0].hardware.preset == "A100-SXM4-80GB"


def test_unknown_scheduler_lists_the_allowed_ones(tmp_path):
    msg = error(tmp_path, GOOD.replace("hardware: {preset: A100-SXM4-80GB}",
                                       "hardware: {preset: A100-SXM4-80GB}\n    scheduler: {policy: fcfs}"))
    assert "systems[0].scheduler.policy" in msg and "'fcfs'" in msg
    for allowed in ("vllm", "orca", "sarathi"):
        assert allowed in msg


@pytest.mark.parametrize("value, words", [("-1.0", "greater than 0"), (".nan", "greater than 0"),
                                          (".inf", "finite")])
def test_bad_rate_is_named_with_its_path(tmp_path, value, words):
    msg = error(tmp_path, GOOD + f"rates: [1.0, {value}]\n")
    assert "rates[1]" in msg and words in msg


def test_negative_arrival_rate(tmp_path):
    msg = error(tmp_path, GOOD.replace("rate_per_s: 2.0", "rate_per_s: -2.0"))
    assert "traffic.arrivals.rate_per_s" in msg and "-2.0" in msg


def test_unknown_key_lists_the_keys_of_its_own_section(tmp_path):
    msg = error(tmp_path, GOOD.replace("requests: 20", "request: 20"))
    assert "traffic.request" in msg and "allowed keys" in msg
    assert "arrivals" in msg.split("allowed keys")[1] and "systems" not in msg.split("allowed keys")[1]


def test_unknown_model_lists_known_ones(tmp_path):
    msg = error(tmp_path, GOOD.replace("model: gpt3-7b", "model: gpt3-7"))
    assert "model:" in msg and "'gpt3-7'" in msg and "gpt3-7b" in msg


def test_model_that_does_not_generate_tokens(tmp_path):
    msg = error(tmp_path, GOOD.replace("model: gpt3-7b", "model: resnet-50"))
    assert "model:" in msg and "decode" in msg and "llama-2-7b" in msg


def test_unknown_hardware_preset_and_bad_override(tmp_path):
    msg = error(tmp_path, GOOD.replace("preset: A100-SXM4-80GB", "preset: A100"))
    assert "systems[0].hardware.preset" in msg and "A100-SXM4-80GB" in msg
    msg = error(tmp_path, GOOD.replace("{preset: A100-SXM4-80GB}",
                                       "{preset: A100-SXM4-80GB, overrides: {memory.hbm_bandwith_gbps: 3}}"))
    assert "systems[0].hardware.overrides.memory.hbm_bandwith_gbps" in msg


def test_parallelism_that_does_not_divide_the_model(tmp_path):
    msg = error(tmp_path, GOOD.replace("label: gpu", "label: gpu\n    tensor_parallel: 3"))
    assert "systems[0].tensor_parallel" in msg and "num_heads" in msg


def test_unknown_dataset_profile(tmp_path):
    msg = error(tmp_path, GOOD.replace("prompt: {dist: fixed, value: 64}\n  output: {dist: fixed, value: 8}",
                                       "dataset: sharegtp"))
    assert "traffic.dataset: unknown dataset 'sharegtp'" in msg and "sharegpt" in msg


def test_length_distribution_missing_its_parameter(tmp_path):
    msg = error(tmp_path, GOOD.replace("{dist: fixed, value: 64}", "{dist: lognormal}"))
    assert "traffic.prompt" in msg and "median" in msg


def test_trace_with_missing_columns(tmp_path):
    (tmp_path / "trace.csv").write_text("time,prompt_tokens\n0.0,10\n0.5,12\n")
    msg = error(tmp_path, GOOD.replace("{process: poisson, rate_per_s: 2.0}", "{process: trace, path: trace.csv}"))
    assert "traffic.arrivals.path" in msg and "trace.csv" in msg and "arrival_s" in msg and "time" in msg


def test_trace_without_lengths_needs_a_length_source(tmp_path):
    (tmp_path / "trace.csv").write_text("arrival_s\n0.0\n0.5\n")
    text = GOOD.replace("{process: poisson, rate_per_s: 2.0}", "{process: trace, path: trace.csv}")
    text = text.replace("  prompt: {dist: fixed, value: 64}\n", "")
    msg = error(tmp_path, text)
    assert "traffic.arrivals.path" in msg and "prompt_tokens" in msg


def test_missing_trace_file(tmp_path):
    msg = error(tmp_path, GOOD.replace("{process: poisson, rate_per_s: 2.0}", "{process: trace, path: no.csv}"))
    assert "traffic.arrivals.path" in msg and "no.csv" in msg and "not found" in msg


def test_trace_path_is_read_from_the_config_folder(tmp_path):
    (tmp_path / "trace.csv").write_text("arrival_s,prompt_tokens,output_tokens\n0.0,10,3\n0.5,12,4\n")
    cfg = load_serving_config(write(tmp_path, GOOD.replace("{process: poisson, rate_per_s: 2.0}",
                                                           "{process: trace, path: trace.csv}")))
    assert Path(cfg.traffic.arrivals.path) == tmp_path / "trace.csv"


def test_capacity_slo_must_be_named(tmp_path):
    msg = error(tmp_path, GOOD + "capacity: {slo: loose}\n")
    assert "capacity.slo" in msg and "'loose'" in msg and "tight" in msg


def test_malformed_yaml_and_missing_file(tmp_path):
    assert "malformed YAML" in error(tmp_path, GOOD + "rates: [1.0\n")
    with pytest.raises(CosimInputError, match="no such config file"):
        load_serving_config(tmp_path / "none.yaml")


def cosim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cosim.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


@pytest.mark.parametrize("change, expected", [
    (("policy: vllm", "policy: lifo"), "systems[0].scheduler.policy"),
    (("rate_per_s: 2.0", "rate_per_s: -1"), "traffic.arrivals.rate_per_s"),
    (("model: gpt3-7b", "model: gpt-7b"), "model"),
])
def test_cli_bad_config_exits_2_without_traceback(tmp_path, change, expected):
    text = GOOD.replace("hardware: {preset: A100-SXM4-80GB}",
                        "hardware: {preset: A100-SXM4-80GB}\n    scheduler: {policy: vllm}").replace(*change)
    path = write(tmp_path, text)
    proc = cosim("serve", str(path), "-o", str(tmp_path / "out"), "--no-progress")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"cosim: error: {path}: {expected}")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_cli_bad_rate_option_exits_2(tmp_path):
    proc = cosim("serve", str(write(tmp_path, GOOD)), "-o", str(tmp_path / "out"), "--rate", "1", "-3")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "rates[1]" in proc.stderr and "greater than 0" in proc.stderr


def test_cli_trace_with_missing_columns_exits_2(tmp_path):
    (tmp_path / "trace.jsonl").write_text('{"t": 0.0}\n{"t": 1.0}\n')
    path = write(tmp_path, GOOD.replace("{process: poisson, rate_per_s: 2.0}", "{process: trace, path: trace.jsonl}"))
    proc = cosim("serve", str(path), "-o", str(tmp_path / "out"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "traffic.arrivals.path" in proc.stderr and "arrival_s" in proc.stderr


def test_requests_longer_than_learned_positions(tmp_path):
    msg = error(tmp_path, GOOD.replace("prompt: {dist: fixed, value: 64}\n  output: {dist: fixed, value: 8}",
                                       "dataset: sharegpt"))
    assert "traffic.max_total_tokens" in msg and "2048" in msg
    ok = GOOD.replace("prompt: {dist: fixed, value: 64}\n  output: {dist: fixed, value: 8}",
                      "dataset: sharegpt\n  max_total_tokens: 2048")
    assert load_serving_config(write(tmp_path, ok)).traffic.max_total_tokens == 2048
