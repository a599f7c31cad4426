"""End-to-end sweeps: the results folder, overwrite/resume, interruption, infeasible and failing points, per-op
detail, determinism, the Python API and the Pareto column."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import cosim
from cosim.cli import main
from cosim.config import load_config, validate_config
from cosim.runner import run_sweep

ROOT = Path(__file__).resolve().parents[1]

METRICS = ["latency_s", "throughput", "energy_j", "energy_per_item_j", "power_w", "edp_js"]

# 2 presets (H100 with a 3-value bandwidth grid, A100-80GB as is) = 4 hardware variants;
# llama-2-7b decode 3 batches x 2 contexts + one llama-3-8b prefill = 7 workload variants; 28 points.
CONFIG = {
    "name": "e2e",
    "hardware": [
        {"preset": "H100-SXM5-80GB", "grid": {"memory.hbm_bandwidth_gbps": [2000, 3350, 4800]}},
        {"preset": "A100-SXM4-80GB"},
    ],
    "workloads": [
        {"model": "llama-2-7b", "params": {"phase": "decode"}, "grid": {"batch": [1, 8, 32], "context": [512, 2048]}},
        {"model": "llama-3-8b", "params": {"phase": "prefill", "batch": 1, "prompt": 512}},
    ],
}
N_POINTS = 4 * 7


def write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def cosim_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cosim.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def assert_same_metrics(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Same points, same feasibility and reasons, and metrics equal bit for bit."""
    a = a.sort_values("point_id").reset_index(drop=True)
    b = b.sort_values("point_id").reset_index(drop=True)
    assert list(a["point_id"]) == list(b["point_id"])
    assert list(a["feasible"]) == list(b["feasible"])
    assert list(a["reason"].fillna("")) == list(b["reason"].fillna(""))
    assert list(a["pareto"]) == list(b["pareto"])
    for col in METRICS:
        np.testing.assert_array_equal(a[col].to_numpy(float), b[col].to_numpy(float), err_msg=col)


@pytest.fixture(scope="module")
def cli_sweep(tmp_path_factory):
    """One `cosim sweep` run through the command line, shared by the checks on its folder."""
    base = tmp_path_factory.mktemp("cli_sweep")
    cfg = write_config(base / "cfg.yaml", CONFIG)
    out = base / "out"
    proc = cosim_cli("sweep", str(cfg), "-o", str(out), "--no-progress")
    return cfg, out, proc


# --- the results folder ----------------------------------------------------------------------------------------

def test_sweep_cli_exit_and_stdout(cli_sweep):
    cfg, out, proc = cli_sweep
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Pareto" in proc.stdout
    assert "llama-2-7b/decode" in proc.stdout and "llama-3-8b/prefill" in proc.stdout
    assert f"{N_POINTS} design points" in proc.stdout
    assert f"evaluated {N_POINTS}" in proc.stdout
    flat = proc.stdout.replace("\n", "")
    assert str(out / "results.parquet") in flat
    assert str(out / "pareto.png") in flat


def test_sweep_results_table(cli_sweep):
    _, out, _ = cli_sweep
    results = pd.read_parquet(out / "results.parquet")
    assert len(results) == N_POINTS
    assert results["point_id"].is_unique
    for col in ("point_id", "hardware", "task", "hw.memory.hbm_bandwidth_gbps", "wl.batch", "throughput",
                "energy_per_item_j", "latency_s", "feasible", "reason", "pareto"):
        assert col in results.columns, col
    assert results["feasible"].all()
    assert set(results["hardware"]) == {"H100-SXM5-80GB", "A100-SXM4-80GB"}
    assert set(results["task"]) == {"llama-2-7b/decode", "llama-3-8b/prefill"}
    h100 = results[results["hardware"] == "H100-SXM5-80GB"]
    assert sorted(set(h100["hw.memory.hbm_bandwidth_gbps"])) == [2000, 3350, 4800]
    # the unswept preset shows its own bandwidth, not a blank
    a100 = results[results["hardware"] == "A100-SXM4-80GB"]
    assert set(a100["hw.memory.hbm_bandwidth_gbps"]) == {2039}
    decode = results[results["task"] == "llama-2-7b/decode"]
    assert sorted(set(decode["wl.batch"].astype(int))) == [1, 8, 32]
    assert len(decode) == 4 * 6
    assert (results["throughput"] > 0).all() and (results["energy_per_item_j"] > 0).all()
    assert (results["latency_s"] > 0).all()
    assert results["pareto"].any()


def test_sweep_plot_and_summary(cli_sweep):
    _, out, _ = cli_sweep
    png = (out / "pareto.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    summary = (out / "summary.md").read_text()
    assert "Pareto" in summary
    assert f"design points: {N_POINTS}" in summary
    assert not (out / "partial").exists()  # partial batches are folded into the table


def test_bandwidth_speeds_up_decode(cli_sweep):
    """Memory-bound decode on the same H100 gets faster with more HBM bandwidth."""
    _, out, _ = cli_sweep
    results = pd.read_parquet(out / "results.parquet")
    decode = results[(results["task"] == "llama-2-7b/decode") & (results["hardware"] == "H100-SXM5-80GB")]
    for _, group in decode.groupby(["wl.batch", "wl.context"]):
        lat = group.sort_values("hw.memory.hbm_bandwidth_gbps")["latency_s"].to_numpy()
        assert len(lat) == 3 and np.all(np.diff(lat) < 0)


# --- overwrite and resume --------------------------------------------------------------------------------------

def test_existing_folder_needs_overwrite_or_resume(tmp_path):
    cfg = write_config(tmp_path / "cfg.yaml", CONFIG)
    out = tmp_path / "out"
    assert main(["sweep", str(cfg), "-o", str(out), "--no-progress"]) == 0
    before = (out / "results.parquet").stat().st_mtime_ns

    proc = cosim_cli("sweep", str(cfg), "-o", str(out), "--no-progress")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "--overwrite" in proc.stderr and "--resume" in proc.stderr
    assert (out / "results.parquet").stat().st_mtime_ns == before  # untouched

    proc = cosim_cli("sweep", str(cfg), "-o", str(out), "--overwrite", "--resume")
    assert proc.returncode == 2  # the two flags exclude each other

    proc = cosim_cli("sweep", str(cfg), "-o", str(out), "--no-progress", "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert f"evaluated {N_POINTS}" in proc.stdout
    assert len(pd.read_parquet(out / "results.parquet")) == N_POINTS


def test_resume_evaluates_only_missing_points(tmp_path, capsys):
    config = copy.deepcopy(CONFIG)
    cfg = write_config(tmp_path / "cfg.yaml", config)
    out = tmp_path / "out"
    assert main(["sweep", str(cfg), "-o", str(out), "--no-progress"]) == 0
    first = pd.read_parquet(out / "results.parquet")
    capsys.readouterr()

    assert main(["sweep", str(cfg), "-o", str(out), "--no-progress", "--resume"]) == 0
    assert "evaluated 0 " in capsys.readouterr().out
    again = pd.read_parquet(out / "results.parquet")
    assert_same_metrics(first, again)

    # Extend the grid: one more bandwidth (3 decode batches x 2 contexts + 1 prefill = 7 new points)
    # and one more batch (2 contexts x 4 hardware variants = 8 new points).
    config["hardware"][0]["grid"]["memory.hbm_bandwidth_gbps"].append(6000)
    config["workloads"][0]["grid"]["batch"].append(64)
    write_config(cfg, config)
    assert main(["sweep", str(cfg), "-o", str(out), "--no-progress", "--resume"]) == 0
    extended = 5 * 9
    new = extended - N_POINTS
    assert f"evaluated {new} " in capsys.readouterr().out
    final = pd.read_parquet(out / "results.parquet")
    assert len(final) == extended and final["point_id"].is_unique
    assert set(first["point_id"]) < set(final["point_id"])
    # old points keep their numbers; the Pareto column is recomputed over the whole table
    kept = final[final["point_id"].isin(first["point_id"])]
    assert_same_metrics(first.drop(columns="pareto").assign(pareto=False),
                        kept.drop(columns="pareto").assign(pareto=False))
    assert 6000 in set(final["hw.memory.hbm_bandwidth_gbps"])

    # the same extended table as a fresh run
    fresh = cosim.sweep(config, output=tmp_path / "fresh").results
    assert_same_metrics(final, fresh)


def test_resume_drops_points_removed_from_config(tmp_path):
    out = tmp_path / "out"
    cosim.sweep(CONFIG, output=out)
    smaller = copy.deepcopy(CONFIG)
    smaller["workloads"] = smaller["workloads"][:1]
    outcome = cosim.sweep(smaller, output=out, resume=True)
    assert outcome.evaluated == 0
    assert len(outcome.results) == 4 * 6
    assert set(outcome.results["task"]) == {"llama-2-7b/decode"}


# --- interruption ----------------------------------------------------------------------------------------------

def test_interrupted_sweep_keeps_finished_points_and_resumes(tmp_path):
    cfg = validate_config(copy.deepcopy(CONFIG))
    out = tmp_path / "out"
    calls = []

    def stop_after_first_batch(done: int, total: int) -> None:
        calls.append((done, total))
        raise KeyboardInterrupt

    outcome = run_sweep(cfg, out, progress=False, on_batch=stop_after_first_batch)
    assert outcome.interrupted
    assert len(calls) == 1 and calls[0][1] == N_POINTS
    first_batch = calls[0][0]
    assert 0 < first_batch < N_POINTS
    saved = pd.read_parquet(out / "results.parquet")
    assert len(saved) == first_batch == outcome.evaluated
    assert saved["feasible"].all() and saved["throughput"].notna().all()
    assert not (out / "partial").exists()

    resumed = cosim.sweep(copy.deepcopy(CONFIG), output=out, resume=True)
    assert not resumed.interrupted
    assert resumed.evaluated == N_POINTS - first_batch
    assert len(resumed.results) == N_POINTS

    straight = cosim.sweep(copy.deepcopy(CONFIG), output=tmp_path / "straight")
    assert_same_metrics(resumed.results, straight.results)
    on_disk = pd.read_parquet(out / "results.parquet")
    assert_same_metrics(on_disk, straight.results)


def test_cli_interrupt_exits_130_and_says_resume(tmp_path, monkeypatch, capsys):
    """Ctrl-C during `cosim sweep` (simulated after the third batch): exit 130, finished points on disk, the
    summary says so, and `--resume` completes the table."""
    import cosim.runner

    real = cosim.runner.run_sweep
    batches = []

    def interrupt_on_third(done: int, total: int) -> None:
        batches.append(done)
        if len(batches) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(cosim.runner, "run_sweep", lambda *a, **k: real(*a, **{**k, "on_batch": interrupt_on_third}))
    cfg = write_config(tmp_path / "cfg.yaml", CONFIG)
    out = tmp_path / "out"
    assert main(["sweep", str(cfg), "-o", str(out), "--no-progress"]) == 130
    assert "--resume" in capsys.readouterr().out
    saved = pd.read_parquet(out / "results.parquet")
    assert len(saved) == batches[-1] < N_POINTS
    assert "Interrupted" in (out / "summary.md").read_text()

    monkeypatch.setattr(cosim.runner, "run_sweep", real)
    assert main(["sweep", str(cfg), "-o", str(out), "--no-progress", "--resume"]) == 0
    assert f"evaluated {N_POINTS - batches[-1]} " in capsys.readouterr().out
    assert len(pd.read_parquet(out / "results.parquet")) == N_POINTS
    assert "Interrupted" not in (out / "summary.md").read_text()


# --- infeasible and failing points -----------------------------------------------------------------------------

def test_infeasible_and_failing_points_are_recorded(tmp_path):
    config = {
        "name": "bad-points",
        "hardware": [{"preset": "A100-SXM4-40GB"}, {"preset": "H100-SXM5-80GB"}],
        "workloads": [
            {"model": "llama-2-70b", "params": {"phase": "decode", "dtype": "fp16"}},
            {"model": "llama-2-7b", "params": {"phase": "decode", "batch": 256, "context": 4096}},
            {"model": "llama-2-7b", "params": {"phase": "decode", "tensor_parallel": 3}},
            {"model": "llama-2-7b", "params": {"phase": "decode", "batch": 4}},
        ],
    }
    outcome = cosim.sweep(config, output=tmp_path / "out")
    results = outcome.results
    assert len(results) == 8 and not outcome.interrupted

    def rows(hw, model, **params):
        sel = (results["hardware"] == hw) & (results["workload"] == model)
        for key, value in params.items():
            sel &= results[f"wl.{key}"] == value
        return results[sel]

    big = rows("A100-SXM4-40GB", "llama-2-70b")
    assert len(big) == 1 and not big["feasible"].iloc[0]
    assert "memory" in big["reason"].iloc[0]
    assert np.isnan(big["throughput"].iloc[0])

    kv = rows("A100-SXM4-40GB", "llama-2-7b", batch=256)
    assert len(kv) == 1 and not kv["feasible"].iloc[0] and "memory" in kv["reason"].iloc[0]

    failing = results[results["wl.tensor_parallel"] == 3]
    assert len(failing) == 2
    assert not failing["feasible"].any()
    assert failing["reason"].str.startswith("error:").all()
    assert failing["reason"].str.contains("tensor_parallel").all()

    ok = results[results["wl.batch"] == 4]
    assert len(ok) == 2 and ok["feasible"].all() and (ok["throughput"] > 0).all()
    assert not results.loc[~results["feasible"].astype(bool), "pareto"].any()

    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "Infeasible or failed" in summary and "error:" in summary


def test_sweep_with_no_feasible_point(tmp_path, capsys):
    config = {"hardware": [{"preset": "A100-SXM4-40GB"}],
              "workloads": [{"model": "llama-2-70b", "params": {"phase": "decode"}}]}
    cfg = write_config(tmp_path / "cfg.yaml", config)
    assert main(["sweep", str(cfg), "-o", str(tmp_path / "out"), "--no-progress"]) == 0
    assert "no feasible design points" in capsys.readouterr().out
    results = pd.read_parquet(tmp_path / "out" / "results.parquet")
    assert len(results) == 1 and not results["feasible"].any()
    assert (tmp_path / "out" / "summary.md").exists()


# --- per-op detail ---------------------------------------------------------------------------------------------

def test_ops_table(tmp_path, capsys):
    config = copy.deepcopy(CONFIG)
    config["workloads"][0]["grid"] = {"batch": [1, 8]}
    cfg = write_config(tmp_path / "cfg.yaml", config)
    out = tmp_path / "out"
    assert main(["sweep", str(cfg), "-o", str(out), "--no-progress", "--ops"]) == 0
    assert "ops.parquet" in capsys.readouterr().out
    results = pd.read_parquet(out / "results.parquet")
    ops = pd.read_parquet(out / "ops.parquet")
    for col in ("point_id", "op", "time_s", "energy_j", "bound", "mapping"):
        assert col in ops.columns, col
    assert set(ops["point_id"]) == set(results.loc[results["feasible"], "point_id"])
    assert {"qkv_proj", "attention", "mlp_down", "lm_head"} <= set(ops["op"])
    assert (ops["time_s"] > 0).all() and (ops["energy_j"] > 0).all()
    assert ops["mapping"].str.startswith("tile").any()
    # the per-op rows (which include each op's repeat count) add up to each point's totals
    totals = results.set_index("point_id")
    per_point = ops.groupby("point_id")[["energy_j", "time_s"]].sum()
    np.testing.assert_allclose(per_point["energy_j"], totals.loc[per_point.index, "energy_j"], rtol=1e-9)
    np.testing.assert_allclose(per_point["time_s"], totals.loc[per_point.index, "latency_s"], rtol=1e-9)


def test_no_ops_file_without_flag(cli_sweep):
    _, out, _ = cli_sweep
    assert not (out / "ops.parquet").exists()


# --- determinism -----------------------------------------------------------------------------------------------

def test_same_config_gives_identical_results(tmp_path):
    a = cosim.sweep(copy.deepcopy(CONFIG), output=tmp_path / "a").results
    b = cosim.sweep(copy.deepcopy(CONFIG), output=tmp_path / "b", jobs=1).results
    assert list(a["point_id"]) == list(b["point_id"])  # same order too
    assert_same_metrics(a, b)
    other = [c for c in a.columns if c.startswith(("energy_", "memory_")) or c in ("period_s", "devices", "items")]
    for col in other:
        np.testing.assert_array_equal(a[col].to_numpy(float), b[col].to_numpy(float), err_msg=col)
    disk_a = pd.read_parquet(tmp_path / "a" / "results.parquet")
    disk_b = pd.read_parquet(tmp_path / "b" / "results.parquet")
    pd.testing.assert_frame_equal(disk_a, disk_b)


def test_point_ids_are_stable_across_config_order(tmp_path):
    """point_id depends on the point, not on where it sits in the config (so --resume survives reordering)."""
    reordered = copy.deepcopy(CONFIG)
    reordered["hardware"].reverse()
    reordered["workloads"].reverse()
    a = cosim.sweep(copy.deepcopy(CONFIG), output=tmp_path / "a").results
    b = cosim.sweep(reordered, output=tmp_path / "b").results
    assert set(a["point_id"]) == set(b["point_id"])
    assert_same_metrics(a, b)


# --- the Python API --------------------------------------------------------------------------------------------

def test_api_sweep_returns_dataframe(tmp_path):
    outcome = cosim.sweep(copy.deepcopy(CONFIG), output=tmp_path / "api")
    assert isinstance(outcome.results, pd.DataFrame)
    assert len(outcome.results) == N_POINTS
    assert outcome.evaluated == N_POINTS and not outcome.interrupted
    assert (tmp_path / "api" / "results.parquet").exists()
    assert outcome.files["results"] == tmp_path / "api" / "results.parquet"
    assert outcome.files["plot"].exists() and outcome.files["summary"].exists()


def test_api_sweep_rejects_bad_dict():
    from cosim.errors import CosimInputError

    bad = copy.deepcopy(CONFIG)
    bad["hardware"][0]["grid"] = {"memory.hbm_bw": [1]}
    with pytest.raises(CosimInputError, match=r"hardware\[0\]\.grid\.memory\.hbm_bw"):
        cosim.sweep(bad, output="/nonexistent/never-written")


def test_api_simulate_bandwidth_override():
    wl = cosim.load_workload("llama-2-7b", batch=8)
    base = cosim.simulate(cosim.load_hardware("H100-SXM5-80GB"), wl)
    same = cosim.simulate(cosim.load_hardware("H100-SXM5-80GB", overrides={"memory.hbm_bandwidth_gbps": 3350}), wl)
    fast = cosim.simulate(cosim.load_hardware("H100-SXM5-80GB", overrides={"memory.hbm_bandwidth_gbps": 4800}), wl)
    assert base.feasible and fast.feasible
    assert same.totals["latency_s"] == base.totals["latency_s"]  # 3350 GB/s is the preset's own value
    assert fast.totals["latency_s"] < base.totals["latency_s"]
    assert fast.totals["throughput"] > base.totals["throughput"]
    # decode is memory-bound: the speed-up is real but cannot exceed the bandwidth ratio
    assert base.totals["latency_s"] / fast.totals["latency_s"] <= 4800 / 3350 + 1e-9


def test_api_matches_sweep_row(tmp_path):
    """The sweep's batched evaluation and a single simulate() give the same numbers, to the last bit."""
    results = cosim.sweep(copy.deepcopy(CONFIG), output=tmp_path / "s").results
    row = results[(results["hardware"] == "H100-SXM5-80GB") & (results["hw.memory.hbm_bandwidth_gbps"] == 4800)
                  & (results["wl.batch"] == 8) & (results["wl.context"] == 2048)]
    assert len(row) == 1
    hw = cosim.load_hardware("H100-SXM5-80GB", overrides={"memory.hbm_bandwidth_gbps": 4800})
    single = cosim.simulate(hw, cosim.load_workload("llama-2-7b", phase="decode", batch=8, context=2048))
    for col in METRICS:
        assert row[col].iloc[0] == single.totals[col], col  # bit for bit, whatever the batch


# --- examples --------------------------------------------------------------------------------------------------

def test_quickstart_example_validates():
    from cosim.config import hardware_points, workload_points

    cfg = load_config(ROOT / "examples" / "quickstart.yaml")
    assert cfg.hardware and cfg.workloads
    assert len(hardware_points(cfg)) * len(workload_points(cfg)) > 0


# --- the Pareto column -----------------------------------------------------------------------------------------

def _check_pareto(results: pd.DataFrame) -> None:
    feasible = results[results["feasible"].astype(bool)]
    assert not results.loc[~results["feasible"].astype(bool), "pareto"].any()
    for task, group in feasible.groupby("task"):
        thr = group["throughput"].to_numpy(float)
        energy = group["energy_per_item_j"].to_numpy(float)
        front = group["pareto"].to_numpy(bool)
        assert front.any(), task
        for i in np.flatnonzero(front):
            dominated = (thr >= thr[i]) & (energy <= energy[i]) & ((thr > thr[i]) | (energy < energy[i]))
            assert not dominated.any(), (task, group.iloc[i]["point_id"])
        for i in np.flatnonzero(~front):  # and every point left out is matched or beaten by a Pareto point
            covered = front & (thr >= thr[i]) & (energy <= energy[i])
            assert covered.any(), (task, group.iloc[i]["point_id"])


def test_pareto_column(cli_sweep):
    _, out, _ = cli_sweep
    _check_pareto(pd.read_parquet(out / "results.parquet"))


def test_pareto_column_is_per_task(tmp_path):
    """Prefill tokens are far cheaper than decode tokens; each task still has its own front."""
    results = cosim.sweep(copy.deepcopy(CONFIG), output=tmp_path / "p").results
    _check_pareto(results)
    for task, group in results.groupby("task"):
        assert group["pareto"].any(), task


def test_pareto_mask_on_known_points():
    from cosim.report import pareto_mask

    thr = np.array([10.0, 20.0, 20.0, 5.0, 30.0, 30.0])
    energy = np.array([1.0, 2.0, 3.0, 0.5, 4.0, 4.0])
    mask = pareto_mask(thr, energy)
    # 2 (20, 3) is dominated by 1 (20, 2); of the duplicates (30, 4) exactly one is kept
    assert list(mask[:4]) == [True, True, False, True]
    assert mask[4] + mask[5] == 1


def test_api_sweep_is_not_shadowed_by_a_submodule():
    """Importing the runner (as the CLI does) must leave ``cosim.sweep`` the API function."""
    import importlib

    import cosim.runner  # noqa: F401

    for name in ("cosim.api", "cosim.config", "cosim.report", "cosim.cli"):
        importlib.import_module(name)
    assert callable(cosim.sweep) and cosim.sweep.__module__ == "cosim.api"
