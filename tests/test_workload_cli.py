"""`cosim workload show|import`: op tables and totals, trace files, and clean input errors (exit 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cosim.cli import main
from workloads.trace_io import load_trace, save_trace
from workloads import load_workload

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_show_catalog_workload_with_params(capsys):
    code, out, err = run(capsys, "workload", "show", "knn", "k=3", "train_samples=100")
    assert code == 0, err
    assert "knn.inference" in out and "kernel" in out
    for column in ("op", "kind", "count", "dims", "MACs/SOPs", "FLOPs", "bytes", "params", "intensity"):
        assert column in out
    wl = load_workload("knn", k=3, train_samples=100)
    assert f"parameters {wl.parameters:,}" in out
    assert f"FLOPs {wl.flops:,.6g}" in out


def test_show_transformer_and_trace_file(capsys, tmp_path):
    code, out, _ = run(capsys, "workload", "show", "bert-base")
    assert code == 0 and "parameters 109,482,240" in out and "activations" in out
    trace = save_trace(load_workload("svm-rbf", support_vectors=10), tmp_path / "t.json")
    code, out, _ = run(capsys, "workload", "show", str(trace))
    assert code == 0 and "svm-rbf.inference" in out


@pytest.mark.parametrize("args, message", [
    (["workload", "show", "knnn"], "did you mean 'knn'"),
    (["workload", "show", "knn", "k=abc"], "k"),
    (["workload", "show", "knn", "colour=3"], "unknown parameter 'colour'"),
    (["workload", "show", "knn", "dtype=bf16"], "dtype 'bf16'"),
    (["workload", "show", "knn", "k"], "NAME=VALUE"),
    (["workload", "show", "missing.json"], "no such trace file"),
])
def test_show_errors_exit_2(capsys, args, message):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert err.startswith("cosim: error: ") and message in err


def _mlp(path: Path) -> Path:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.zeros((64, 32), np.float32), "W")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["h"], name="fc"),
                               helper.make_node("Relu", ["h"], ["y"], name="relu")], "mlp",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 32])], [w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_import_default_output_next_to_model(capsys, tmp_path):
    model = _mlp(tmp_path / "mlp.onnx")
    code, out, err = run(capsys, "workload", "import", str(model), "batch=8")
    assert code == 0, err
    wl = load_trace(tmp_path / "mlp.json")
    assert [op.kind for op in wl.ops] == ["matmul", "elementwise"]
    assert wl.ops[0].dims["m"] == 8
    assert "parameters 2,048" in out and f"FLOPs {2 * 8 * 64 * 32 + 8 * 32:,}" in out


def test_import_to_parquet_with_shape_binding(capsys, tmp_path):
    model = _mlp(tmp_path / "mlp.onnx")
    code, _, err = run(capsys, "workload", "import", str(model), "-o", str(tmp_path / "m.parquet"), "x=3,64")
    assert code == 0, err
    assert load_trace(tmp_path / "m.parquet").ops[0].dims["m"] == 3


@pytest.mark.parametrize("extra, message", [
    (["seq=4"], "unknown shape binding 'seq'"),
    (["-o", "out.csv"], "unknown trace format"),
])
def test_import_errors_exit_2(capsys, tmp_path, extra, message):
    model = _mlp(tmp_path / "mlp.onnx")
    code, _, err = run(capsys, "workload", "import", str(model), *extra)
    assert code == 2 and message in err


def test_import_without_onnx_package(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    code, _, err = run(capsys, "workload", "import", str(tmp_path / "m.onnx"))
    assert code == 2 and "pip install cosim-hw[onnx]" in err


def test_unsupported_op_subprocess_exit_status_no_traceback(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("NonMaxSuppression", ["boxes", "scores"], ["sel"], name="nms")], "nms",
        [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, 10, 4]),
         helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 1, 10])],
        [helper.make_tensor_value_info("sel", TensorProto.INT64, [None, 3])])
    path = tmp_path / "nms.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    proc = subprocess.run([sys.executable, "-m", "cosim.cli", "workload", "import", str(path)], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "'NonMaxSuppression'" in proc.stderr and "'nms'" in proc.stderr
    assert not (tmp_path / "nms.json").exists()
