"""Published validation sets: every file loads with a source for every entry, mapped entries predict finite values,
skipped entries carry reasons, ``cosim validate --dataset`` (list, errors, outputs) and the README's generated block."""

import math
import re
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from cosim.calibration import datasets
from cosim.calibration.dataset_eval import predict, skip_reason, to_markdown, validate
from cosim.calibration.datasets import dataset_names, load_dataset
from cosim.cli import main
from cosim.engine import simulate
from cosim.errors import CosimInputError
from hw_models.hardware import load_hardware
from workloads import load_workload

README = Path(__file__).resolve().parents[1] / "README.md"
NAMES = dataset_names()


def test_the_vendored_sets_are_there_and_packaged():
    assert {"tensorrt-llm-v0.6.1", "tensorrt-llm-h200-launch", "mlperf-inference-v3.1-orin"} <= set(NAMES)
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert '"calibration/datasets/*.yaml"' in pyproject


@pytest.mark.parametrize("name", NAMES)
def test_dataset_loads_and_every_entry_has_a_source(name):
    d = load_dataset(name)
    assert d.entries and d.name == name
    for e in d.entries:
        assert d.sources[e.source]["url"].startswith("https://"), e.id
        assert d.sources[e.source]["version"] and e.table, e.id
        assert e.measured_si > 0


@pytest.mark.parametrize("name", NAMES)
def test_no_entry_is_dropped_predictions_are_finite_and_skips_have_reasons(name):
    r = validate(name)
    assert len(r.entries) + len(r.skipped) == len(load_dataset(name).entries)
    assert r.entries["predicted"].map(math.isfinite).all() and (r.entries["predicted"] > 0).all()
    assert r.entries["error"].tolist() == pytest.approx(
        ((r.entries["predicted"] - r.entries["measured"]) / r.entries["measured"]).tolist())
    assert r.skipped["reason"].str.len().gt(10).all()
    for row in r.summary.itertuples():
        errors = r.entries[(r.entries["hardware"] == row.hardware) & (r.entries["metric"] == row.metric)]["error"]
        assert row.compared == len(errors)
        if len(errors):
            assert row.mape == pytest.approx(errors.abs().mean())


def test_every_gpu_preset_with_a_set_gets_a_figure():
    summary = validate("all").summary
    compared = summary[summary["compared"] > 0]
    assert {"H100-SXM5-80GB", "H200-SXM-141GB", "A100-SXM4-80GB", "Jetson-AGX-Orin-64GB"} <= set(compared["hardware"])


def _entry(entry_id):
    return next(e for n in NAMES for e in load_dataset(n).entries if e.id == entry_id)


def test_static_batch_throughput_is_prefill_plus_decode_steps_per_gpu():
    e = _entry("h100-llama2-70b-bs96-tp2-2048-128")
    hw = load_hardware(e.hardware)
    common = dict(batch=96, tensor_parallel=2, dtype="fp8", kv_dtype="fp8")
    prefill = simulate(hw, load_workload("llama-2-70b", phase="prefill", prompt=2048, **common)).latency_s
    decode = simulate(hw, load_workload("llama-2-70b", phase="decode", context=2112, **common)).latency_s
    assert predict(e) == pytest.approx(96 * 128 / (prefill + 127 * decode) / 2)
    total = replace(e, metric="output_throughput")
    assert predict(total) == pytest.approx(2 * predict(e))
    assert predict(replace(e, metric="first_token_latency", unit="ms")) == pytest.approx(prefill)


def test_skip_reasons_name_what_cosim_cannot_model():
    gptj = _entry("h100-gptj-6b-bs64-tp1-2048-128")
    assert skip_reason(gptj) == "cosim has no workload config for 'GPT-J 6B'"
    a100_fp8 = replace(_entry("a100-llama2-7b-bs384-tp1-128-128"), dtype="fp8")
    assert "A100-SXM4-80GB has no fp8 tensor-core rate" in skip_reason(a100_fp8)
    assert skip_reason(_entry("h100-llama2-7b-bs768-tp1-128-128")) == ""
    assert "unit unclear" in skip_reason(_entry("a100-llama2-70b-bs1280-tp4-128-128"))
    two_orins = replace(_entry("orin-resnet50-singlestream"), devices=2)
    assert skip_reason(two_orins) == "2 devices: cosim models a forward pass on one device only"


def _write_set(folder: Path, entry: str) -> None:
    folder.mkdir()
    (folder / "bad.yaml").write_text(
        "name: bad\ntitle: t\nsources: {s: {url: 'https://example.org', version: v}}\n"
        f"entries:\n  - {entry}\n")


@pytest.mark.parametrize("entry, message", [
    ("{id: x, source: s, table: t, published_model: m, workload: llama-2-7b, hardware: H100-SXM5-80GB, "
     "metric: output_throughput, measured: 1, unit: tokens/s, batch: 1, devices: 1, dtype: fp16, input_len: 8}",
     "metric output_throughput needs 'output_len'"),
    ("{id: x, source: nope, table: t, published_model: m, workload: null, hardware: H100-SXM5-80GB, "
     "metric: query_latency, measured: 1, unit: ms, batch: 1, devices: 1, dtype: fp16}",
     "source 'nope' is not in the file's sources"),
    ("{id: x, source: s, table: t, published_model: m, workload: null, hardware: H100-SXM5-80GB, "
     "metric: query_latency, measured: 1, unit: tokens/s, batch: 1, devices: 1, dtype: fp16}",
     "unit 'tokens/s' for query_latency; allowed: s, ms, ns"),
    ("{id: x, source: s, table: t, published_model: m, workload: null, hardware: H100-SXM5-80GB, "
     "metric: query_latency, measured: 1, unit: ms, batch: 1, devices: 1, dtype: fp16, colour: red}",
     "unknown key 'colour'"),
])
def test_a_bad_dataset_file_names_the_file_entry_and_key(tmp_path, monkeypatch, entry, message):
    _write_set(tmp_path / "sets", entry)
    monkeypatch.setattr(datasets, "DATA_DIR", tmp_path / "sets")
    load_dataset.cache_clear()
    try:
        with pytest.raises(CosimInputError, match=re.escape(message)) as err:
            load_dataset("bad")
        assert "bad.yaml entry 'x'" in str(err.value)
    finally:
        load_dataset.cache_clear()


def test_cli_lists_validates_and_writes(tmp_path, capsys):
    assert main(["validate", "--dataset", "list"]) == 0
    listed = capsys.readouterr().out
    assert all(n in listed for n in NAMES)
    assert main(["validate", "--dataset", "mlperf-inference-v3.1-orin", "-o", str(tmp_path / "f.csv")]) == 0
    out = capsys.readouterr().out
    assert "orin-resnet50-singlestream" in out and "Jetson-AGX-Orin-64GB" in out
    written = pd.read_csv(tmp_path / "f.csv")
    assert list(written["id"]) == ["orin-resnet50-singlestream", "orin-resnet50-multistream"]
    doc = tmp_path / "doc.md"
    doc.write_text("intro\n<!-- validate-datasets:start -->\nstale\n<!-- validate-datasets:end -->\nafter\n")
    assert main(["validate", "--dataset", "mlperf-inference-v3.1-orin", "-o", str(doc)]) == 0
    table = to_markdown(validate("mlperf-inference-v3.1-orin"))
    assert doc.read_text() == f"intro\n<!-- validate-datasets:start -->\n{table}<!-- validate-datasets:end -->\nafter\n"


@pytest.mark.parametrize("argv, message", [
    (["validate", "--dataset", "nope"], "unknown dataset 'nope'; available: mlperf-inference-v3.1-orin"),
    (["validate", "--dataset", "all", "-o", "f.txt"], "unknown table format '.txt'; allowed: .csv, .md"),
])
def test_cli_bad_input_exits_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_public_api_matches():
    from cosim import api

    assert list(api.validation_datasets()["name"]) == NAMES
    pd.testing.assert_frame_equal(api.validate_dataset("all").summary, validate("all").summary)


def test_readme_figures_are_the_generated_ones():
    block = re.search(r"<!-- validate-datasets:start -->\n(.*?)<!-- validate-datasets:end -->", README.read_text(),
                      flags=re.S)
    assert block, "README has no validate-datasets block"
    assert block.group(1) == to_markdown(validate("all")), "regenerate: cosim validate --dataset all --output README.md"
