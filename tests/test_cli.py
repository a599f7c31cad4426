"""The `cosim` command: clear errors for bad input (exit 2, no traceback), and the run/list/show commands."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cosim.cli import main

ROOT = Path(__file__).resolve().parents[1]
D = textwrap.dedent

GOOD_WORKLOADS = "workloads:\n  - model: llama-2-7b\n    params: {phase: decode}\n"
GOOD_HARDWARE = "hardware:\n  - preset: H100-SXM5-80GB\n"


def cosim(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the CLI as a separate process, as a user would."""
    return subprocess.run([sys.executable, "-m", "cosim.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout)


def write(tmp_path: Path, text: str, name: str = "cfg.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def sweep_error(tmp_path: Path, text: str) -> str:
    """Run `cosim sweep` on a bad config; assert a clean input error and return its message."""
    cfg = write(tmp_path, text)
    proc = cosim("sweep", str(cfg), "-o", str(tmp_path / "out"), "--no-progress")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("cosim: error: ")
    assert str(cfg) in proc.stderr  # the message names the config file
    assert not (tmp_path / "out").exists()  # nothing was evaluated or written
    return proc.stderr


# --- sweep config errors ---------------------------------------------------------------------------------------

def test_unknown_preset_suggests_close_name(tmp_path):
    err = sweep_error(tmp_path, "hardware:\n  - preset: H10-SXM\n" + GOOD_WORKLOADS)
    assert "hardware[0].preset" in err
    assert "'H10-SXM'" in err
    assert "did you mean" in err
    assert "'H100-SXM5-80GB'" in err  # spelled as the preset is named, not lower-cased


def test_unknown_override_path_lists_allowed(tmp_path):
    err = sweep_error(tmp_path, D("""\
        hardware:
          - preset: H100-SXM5-80GB
            grid:
              memory.hbm_bw: [1000, 2000]
        """) + GOOD_WORKLOADS)
    assert "hardware[0].grid.memory.hbm_bw" in err
    assert "did you mean" in err and "memory.hbm_bandwidth_gbps" in err
    assert "allowed:" in err
    assert "compute.clock_mhz" in err and "power.tdp_w" in err  # lists the allowed paths


def test_unknown_fixed_override_path(tmp_path):
    err = sweep_error(tmp_path, D("""\
        hardware:
          - preset: A100-SXM4-80GB
            overrides: {power.tdp: 300}
        """) + GOOD_WORKLOADS)
    assert "hardware[0].overrides.power.tdp" in err
    assert "power.tdp_w" in err


def test_value_with_unit_string_is_rejected(tmp_path):
    err = sweep_error(tmp_path, D("""\
        hardware:
          - preset: H100-SXM5-80GB
            grid:
              memory.hbm_bandwidth_gbps: ["3.35 TB/s"]
        """) + GOOD_WORKLOADS)
    assert "hardware[0].grid.memory.hbm_bandwidth_gbps" in err
    assert "3.35 TB/s" in err
    assert "plain number" in err and "GB/s" in err


def test_negative_bandwidth_is_rejected(tmp_path):
    err = sweep_error(tmp_path, D("""\
        hardware:
          - preset: H100-SXM5-80GB
            grid:
              memory.hbm_bandwidth_gbps: [3350, -100]
        """) + GOOD_WORKLOADS)
    assert "hardware[0].grid.memory.hbm_bandwidth_gbps[1]" in err
    assert "greater than 0" in err
    assert "-100" in err


def test_empty_grid_axis(tmp_path):
    err = sweep_error(tmp_path, GOOD_HARDWARE + D("""\
        workloads:
          - model: llama-2-7b
            grid: {batch: []}
        """))
    assert "workloads[0].grid.batch" in err
    assert "empty" in err


def test_grid_axis_not_a_list(tmp_path):
    err = sweep_error(tmp_path, GOOD_HARDWARE + D("""\
        workloads:
          - model: llama-2-7b
            grid: {batch: 4}
        """))
    assert "workloads[0].grid.batch" in err
    assert "list" in err


def test_malformed_yaml_gives_line_and_column(tmp_path):
    err = sweep_error(tmp_path, "hardware: [{preset: H100-SXM5-80GB}\nworkloads: [{model: llama-2-7b}]\n")
    assert "malformed YAML" in err
    assert "line 2" in err and "column" in err


def test_yaml_list_instead_of_mapping(tmp_path):
    err = sweep_error(tmp_path, "- preset: H100-SXM5-80GB\n- model: llama-2-7b\n")
    assert "mapping" in err and "list" in err


def test_empty_file(tmp_path):
    err = sweep_error(tmp_path, "")
    assert "mapping" in err


def test_missing_hardware_key(tmp_path):
    err = sweep_error(tmp_path, GOOD_WORKLOADS)
    assert "cfg.yaml: hardware: " in err  # the message names the missing key first
    assert "required" in err.lower()


def test_unknown_top_level_key_lists_allowed(tmp_path):
    err = sweep_error(tmp_path, GOOD_HARDWARE + GOOD_WORKLOADS + "objectve: energy\n")
    assert "objectve" in err
    assert "allowed keys" in err
    for key in ("name", "objective", "hardware", "workloads", "output"):
        assert key in err.split("allowed keys")[1]


def test_misspelled_required_key_is_named_as_unknown(tmp_path):
    """`hardwar:` also leaves `hardware` missing; the message names the misspelled key, the cause."""
    err = sweep_error(tmp_path, GOOD_HARDWARE.replace("hardware:", "hardwar:") + GOOD_WORKLOADS)
    assert "cfg.yaml: hardwar: " in err
    assert "allowed keys" in err


def test_preset_prefix_suggests_full_names(tmp_path):
    err = sweep_error(tmp_path, "hardware:\n  - preset: H10\n" + GOOD_WORKLOADS)
    assert "did you mean" in err and "'H100-SXM5-80GB'" in err


def test_unknown_key_in_hardware_entry(tmp_path):
    err = sweep_error(tmp_path, "hardware:\n  - preset: H100-SXM5-80GB\n    grids: {}\n" + GOOD_WORKLOADS)
    assert "hardware[0].grids" in err
    assert "allowed keys" in err and "grid" in err and "overrides" in err


def test_bad_objective_lists_allowed(tmp_path):
    err = sweep_error(tmp_path, GOOD_HARDWARE + GOOD_WORKLOADS + "objective: speed\n")
    assert "objective" in err and "'speed'" in err
    for allowed in ("latency", "energy", "edp"):
        assert allowed in err


def test_unknown_workload_model_suggests(tmp_path):
    err = sweep_error(tmp_path, GOOD_HARDWARE + "workloads:\n  - model: llama2-7b\n")
    assert "workloads[0].model" in err
    assert "'llama2-7b'" in err
    assert "did you mean" in err and "'llama-2-7b'" in err


def test_unknown_workload_parameter_lists_allowed(tmp_path):
    err = sweep_error(tmp_path, GOOD_HARDWARE + "workloads:\n  - model: llama-2-7b\n    params: {batchsize: 4}\n")
    assert "workloads[0].params.batchsize" in err
    assert "allowed:" in err
    for name in ("batch", "phase", "context", "dtype", "tensor_parallel"):
        assert name in err.split("allowed:")[1]


@pytest.mark.parametrize("value", ['"abc"', "0", "-3", "2.5", "true"])
def test_bad_batch_value(tmp_path, value):
    err = sweep_error(tmp_path, GOOD_HARDWARE + f"workloads:\n  - model: llama-2-7b\n    grid: {{batch: [1, {value}]}}\n")
    assert "workloads[0].grid.batch[1]" in err
    assert "integer >= 1" in err


def test_bad_phase(tmp_path):
    err = sweep_error(tmp_path, GOOD_HARDWARE + "workloads:\n  - model: llama-2-7b\n    params: {phase: decoding}\n")
    assert "workloads[0].params.phase" in err
    assert "'decoding'" in err
    assert "prefill" in err and "decode" in err.replace("decoding", "")


def test_bad_dtype(tmp_path):
    err = sweep_error(tmp_path, GOOD_HARDWARE + "workloads:\n  - model: llama-2-7b\n    params: {dtype: fp12}\n")
    assert "workloads[0].params.dtype" in err
    assert "'fp12'" in err
    assert "fp16" in err and "bf16" in err and "int8" in err


def test_parameter_both_in_params_and_grid(tmp_path):
    err = sweep_error(tmp_path, GOOD_HARDWARE + D("""\
        workloads:
          - model: llama-2-7b
            params: {batch: 4}
            grid: {batch: [1, 2]}
        """))
    assert "workloads[0]" in err and "'batch'" in err


def test_nonexistent_config_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    proc = cosim("sweep", str(missing), "-o", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert str(missing) in proc.stderr and "no such config file" in proc.stderr


def test_jobs_must_be_positive(tmp_path, capsys):
    cfg = write(tmp_path, GOOD_HARDWARE + GOOD_WORKLOADS)
    assert main(["sweep", str(cfg), "-o", str(tmp_path / "out"), "--jobs", "0", "--no-progress"]) == 2
    assert "--jobs must be >= 1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# --- cosim run ---------------------------------------------------------------------------------------------------

def test_run_prints_per_op_table_and_totals():
    proc = cosim("run", "H100-SXM5-80GB", "llama-2-7b", "batch=4", "phase=decode")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "H100-SXM5-80GB" in out and "llama-2-7b" in out
    for op in ("qkv_proj", "attention", "o_proj", "mlp_down", "lm_head"):
        assert op in out
    for col in ("time_s", "energy_j", "bound", "mapping"):
        assert col in out
    for total in ("latency", "throughput", "energy", "power", "EDP"):
        assert total in out
    assert "tokens/s" in out


def test_run_writes_csv(tmp_path, capsys):
    import pandas as pd

    csv = tmp_path / "ops.csv"
    assert main(["run", "A100-SXM4-80GB", "llama-2-7b", "batch=2", "--csv", str(csv)]) == 0
    ops = pd.read_csv(csv)
    assert {"op", "time_s", "energy_j", "bound"} <= set(ops.columns)
    assert len(ops) > 5 and (ops["time_s"] > 0).all()


def test_run_bad_override_value():
    proc = cosim("run", "H100-SXM5-80GB", "llama-2-7b", "--set", "memory.hbm_bandwidth_gbps=abc")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "memory.hbm_bandwidth_gbps" in proc.stderr and "'abc'" in proc.stderr and "GB/s" in proc.stderr


def test_run_unknown_hardware_suggests():
    proc = cosim("run", "H10-SXM", "llama-2-7b")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "unknown hardware 'H10-SXM'" in proc.stderr
    assert "did you mean" in proc.stderr and "'H100-SXM5-80GB'" in proc.stderr


@pytest.mark.parametrize("param, expected", [
    ("batch=abc", "integer >= 1"),
    ("batch=0", "batch"),
    ("phase=decoding", "prefill, decode"),
    ("dtype=fp12", "allowed: fp64"),
    ("batchsize=4", "allowed: phase, batch"),
    ("batch", "NAME=VALUE"),
    ("tensor_parallel=3", "num_heads=32"),
])
def test_run_bad_workload_parameter(param, expected, capsys):
    assert main(["run", "H100-SXM5-80GB", "llama-2-7b", param]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cosim: error: ")
    assert expected in err


def test_run_bad_workload_parameter_subprocess_has_no_traceback():
    proc = cosim("run", "H100-SXM5-80GB", "llama-2-7b", "dtype=fp12")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "'fp12'" in proc.stderr


def test_run_infeasible_exits_1_with_reason():
    proc = cosim("run", "A100-SXM4-40GB", "llama-2-70b")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "infeasible" in proc.stdout
    assert "memory" in proc.stdout and "capacity" in proc.stdout


# --- cosim list / show --------------------------------------------------------------------------------------------

PRESETS = ("A100-SXM4-40GB", "A100-SXM4-80GB", "H100-SXM5-80GB", "H200-SXM-141GB", "Jetson-AGX-Orin-64GB")


def test_list_hardware(capsys):
    assert main(["list", "hardware"]) == 0
    lines = capsys.readouterr().out.splitlines()
    listed = {line.split()[0] for line in lines if line.strip()}
    assert set(PRESETS) <= listed
    assert listed == {p.stem for p in (Path(__file__).resolve().parents[1] / "hw_models" / "presets").glob("*.yaml")}


def test_list_workloads(capsys):
    assert main(["list", "workloads"]) == 0
    out = capsys.readouterr().out
    names = {line.split()[0] for line in out.splitlines() if line.strip()}
    assert {"llama-2-7b", "llama-2-70b", "llama-3-8b", "bert-base", "vit-b-16"} <= names
    assert "transformer-decoder" in out


def test_list_unknown_choice_is_usage_error():
    proc = cosim("list", "gpus")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "invalid choice" in proc.stderr


def test_show_preset_every_parameter_has_a_source(capsys):
    assert main(["show", "H100-SXM5-80GB"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    values = [line for line in lines if line.startswith("  ") and not line.strip().startswith("source:")]
    sources = [line for line in lines if line.strip().startswith("source:")]
    assert len(values) > 20
    assert len(sources) == len(values)
    assert "MISSING" not in out
    assert all(len(s.strip()) > len("source: ") + 5 for s in sources)
    assert any("memory.hbm_bandwidth_gbps = 3350" in line for line in values)


def test_show_is_case_insensitive(capsys):
    assert main(["show", "h100-sxm5-80gb"]) == 0
    assert "H100-SXM5-80GB" in capsys.readouterr().out


def test_show_workload(capsys):
    assert main(["show", "llama-2-7b"]) == 0
    out = capsys.readouterr().out
    assert "hidden_size: 4096" in out and "num_layers: 32" in out
    assert "sources:" in out
    assert "batch" in out  # the workload parameters


def test_show_unknown_name():
    proc = cosim("show", "nonsense")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "'nonsense'" in proc.stderr
    assert "H100-SXM5-80GB" in proc.stderr and "llama-2-7b" in proc.stderr


def test_show_unknown_name_suggests(capsys):
    assert main(["show", "lama-2-7b"]) == 2
    err = capsys.readouterr().err
    assert "did you mean" in err and "'llama-2-7b'" in err


# --- help and start-up ------------------------------------------------------------------------------------------

def test_help_lists_commands():
    proc = cosim("--help")
    assert proc.returncode == 0
    for command in ("sweep", "run", "list", "show"):
        assert command in proc.stdout


def test_console_script_help():
    script = Path(sys.executable).parent / "cosim"
    if not script.exists():
        pytest.skip("cosim console script not installed next to this interpreter")
    proc = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "sweep" in proc.stdout


def test_no_command_is_usage_error():
    proc = cosim()
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "usage" in proc.stderr


def test_help_does_not_import_heavy_modules():
    code = D("""\
        import sys
        sys.argv = ['cosim', '--help']
        import cosim.cli as c
        try:
            c.main()
        except SystemExit:
            pass
        print([m for m in ('numba', 'pandas', 'matplotlib', 'numpy', 'pydantic', 'simpy', 'streamlit')
               if m in sys.modules])
        """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


# --- sources for every number -----------------------------------------------------------------------------------

def test_every_preset_number_has_a_source():
    from hw_models.preset import available_presets, leaf_paths, read_preset

    assert len(available_presets()) >= 5
    for name in available_presets():
        preset = read_preset(name)
        missing = []
        for path in leaf_paths(preset.values):
            node = preset.values
            for key in path.split("."):
                node = node[key]
            if isinstance(node, (int, float)) and not isinstance(node, bool):
                if not str(preset.sources.get(path, "")).strip():
                    missing.append(path)
        assert not missing, f"{preset.name}: numbers without a source: {missing}"


def test_every_model_config_has_sources():
    from workloads.model_config import available_model_configs, load_model_config

    names = list(available_model_configs())
    assert "llama-2-7b" in names
    for name in names:
        cfg = load_model_config(name)
        assert cfg.sources and all(str(s).strip() for s in cfg.sources), name
        assert cfg.published_parameters > 0
