"""The README's Python example runs as written (with its output folder moved to a temporary one)."""

import re
from pathlib import Path

import cosim

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_example_runs(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no python example"
    monkeypatch.chdir(README.parent)
    code = blocks[0].replace('"results/api-demo"', repr(str(tmp_path / "api-demo")))
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "tokens/s" in out and "llama-2-7b/decode" in out
    assert (tmp_path / "api-demo" / "results.parquet").exists()


def test_override_adds_a_datatype_the_preset_lacks():
    """A what-if: give the A100 an fp8 tensor path; fp8 prefill gets faster than on the stock part."""
    wl = cosim.load_workload("llama-2-7b", phase="prefill", prompt=2048, dtype="fp8")
    stock = cosim.simulate(cosim.load_hardware("A100-SXM4-80GB"), wl)
    what_if = cosim.simulate(cosim.load_hardware("A100-SXM4-80GB", {"compute.tensor_tflops.fp8": 624.0,
                                                                      "energy.e_tensor_pj_per_flop.fp8": 0.55}), wl)
    assert what_if.latency_s < 0.75 * stock.latency_s
