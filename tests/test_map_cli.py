"""`cosim map`: the best mapping it prints is the one the engine uses; bad --op values exit 2 with the valid indices."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cosim.api import load_hardware, load_workload, simulate
from cosim.cli import main
from hw_models.cost import N_OUT
from workloads.table import op_table

BERT = ["bert-base", "seq_len=128", "dtype=int8"]


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_lists_ops_without_op(capsys):
    code, out, _ = run(capsys, "map", "TPU-like", *BERT)
    assert code == 0
    wl = load_workload("bert-base", seq_len=128, dtype="int8")
    for i, op in enumerate(wl.ops):
        assert re.search(rf"^\s+{i}\s+\*?\s+{re.escape(op.name)}\s", out, re.M)
    assert re.search(r"^\s+5 \* qkv_proj", out, re.M) and re.search(r"^\s+3\s{3}embed_norm", out, re.M)


@pytest.mark.parametrize("objective", ["latency", "energy", "edp"])
def test_best_mapping_is_the_engines(capsys, objective):
    hw = load_hardware("SCALE-Sim-32x32", {"compute.dataflow": "free", "memory.global_buffer_kib": 64})
    wl = load_workload("bert-base", seq_len=128, dtype="int8")
    engine = simulate(hw, wl, objective=objective).ops
    for index in (5, 11):
        code, out, _ = run(capsys, "map", "SCALE-Sim-32x32", *BERT, "--op", str(index), "--objective", objective,
                           "--top", "3", "--set", "compute.dataflow=free", "--set", "memory.global_buffer_kib=64")
        assert code == 0
        best = re.search(r"^best: (.*)$", out, re.M).group(1)
        assert best == engine["mapping"][index]
        ranked = re.findall(r"^\s+(\d)\. .* score (\S+)$", out, re.M)
        assert [r[0] for r in ranked] == ["1", "2", "3"]
        scores = [float(r[1]) for r in ranked]
        assert scores == sorted(scores)
        # the loop nest: three DRAM loops whose trip counts cover the GEMM, and the fold over the PE array
        trips = re.findall(r"for ([mnk])0 in range\(0, (\d+), (\d+)\):\s+# DRAM loop, (\d+) trip", out)
        assert sorted(t[0] for t in trips) == ["k", "m", "n"]
        for _, size, tile, count in trips:
            assert int(count) == -(-int(size) // int(tile))
        assert "over PE rows" in out and "global buffer holds" in out
        time_us = float(re.search(r"cost per instance: time (\S+) µs", out).group(1))
        per_instance = engine["time_s"][index] / engine["count"][index]
        assert time_us == pytest.approx(per_instance * 1e6, rel=1e-3)


def test_breakdown_times_bound_the_total(capsys):
    code, out, _ = run(capsys, "map", "TPU-like", *BERT, "--op", "9")
    assert code == 0
    total = float(re.search(r"time (\S+) µs, energy", out).group(1))
    parts = [float(v) for v in re.findall(r"(?:compute|buffer|DRAM) (\S+) µs", out.split("times:")[1].split("\n")[0])]
    assert len(parts) == 3 and max(parts) <= total * (1 + 1e-3)  # double-buffered: the slowest part plus a load


def test_attention_shows_both_gemms(capsys):
    code, out, _ = run(capsys, "map", "TPU-like", *BERT, "--op", "6", "--top", "2")
    assert code == 0
    assert "attention scores" in out and "attention values" in out and "softmax" in out


def test_gpu_shows_threadblock_tiles(capsys):
    hw = load_hardware("H100-SXM5-80GB")
    wl = load_workload("bert-base", seq_len=128)
    engine = simulate(hw, wl).ops
    code, out, _ = run(capsys, "map", "H100-SXM5-80GB", "bert-base", "seq_len=128", "--op", "5", "--top", "4")
    assert code == 0
    assert re.search(r"^best threadblock tile: (.*)$", out, re.M).group(1) == engine["mapping"][5]
    assert len(re.findall(r"^\s+\d\. tile ", out, re.M)) == 4


def test_gpu_top_k_matches_the_search():
    from mappings.gpu_tiles import best_gemm, top_gemm_tiles
    from mappings.scoring import TIE_TOLERANCE

    hw = load_hardware("A100-SXM4-80GB")
    table = op_table(load_workload("bert-base", seq_len=128))
    for objective in (0, 1, 2):
        best = np.zeros(N_OUT)
        best_gemm(table[5], hw.params, objective, best)
        tiles, scores, records = top_gemm_tiles(table[5], hw.params, objective, 6)
        np.testing.assert_array_equal(records[0], best)
        # ranked by the objective, near-ties (TIE_TOLERANCE) by the other metrics
        assert np.all(np.diff(scores) >= -TIE_TOLERANCE * scores[1:]) and len(set(tiles.tolist())) == 6


@pytest.mark.parametrize("argv, needle", [
    (["--op", "99"], "out of range: bert-base/forward has ops 0..13; ops with a mapping: 5-7, 9, 11-12"),
    (["--op", "-1"], "out of range"),
    (["--op", "3"], "no searched mapping on TPU-like"),
    (["--op", "5", "--top", "0"], "--top must be >= 1"),
])
def test_bad_op_exits_2(capsys, argv, needle):
    code, out, err = run(capsys, "map", "TPU-like", *BERT, *argv)
    assert code == 2 and needle in err and "Traceback" not in err


def test_gpu_attention_has_no_mapping(capsys):
    code, _, err = run(capsys, "map", "H100-SXM5-80GB", "bert-base", "--op", "6")
    assert code == 2 and "ops with a mapping: 5, 7, 9, 11-12" in err


def test_fpga_design_shows_its_spatial_mapping(capsys):
    """An FPGA design is a spatial-template instance: its best mapping matches what simulate() charges."""
    code, out, _ = run(capsys, "map", "ZCU104", "resnet-18", "dtype=int8", "--op", "0")
    assert code == 0
    assert "loop nest" in out and "PEs" in out
    result = simulate(load_hardware("ZCU104"), load_workload("resnet-18", dtype="int8"))
    shown = float(re.search(r"cost per instance: time ([0-9.e+-]+) µs", out).group(1)) * 1e-6
    assert shown == pytest.approx(result.ops["time_s"].iloc[0], rel=1e-3)


def test_device_without_mapping_search_is_a_clear_error(capsys):
    code, _, err = run(capsys, "map", "NeuPIMs-PIM", "bert-base", "--op", "5")
    assert code == 2
    assert "no mapping search" in err and "Traceback" not in err
