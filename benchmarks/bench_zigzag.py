"""cosim vs ZigZag on the layers of ResNet-50 (unique convolutions) and BERT-base (the 4 GEMMs at sequence 512).

ZigZag (PyPI ``zigzag-dse``) lives in its own virtualenv, never in the project's; this script runs it there in a
subprocess on its bundled ``tpu_like`` (32x32, int8) and ``eyeriss_like`` (14x12) architectures, with an automatically
generated spatial mapping and its LOMA temporal-mapping search (latency objective). cosim runs in this process on
its TPU-like and Eyeriss-like presets, and on TPU-like cut to ZigZag's 32x32 array.

Usage: python benchmarks/bench_zigzag.py /tmp/zz [--max-layers N] [--runs R]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# The ZigZag side, run by the ZigZag venv's interpreter: reads layer specs (JSON) on stdin, prints results (JSON).
ZIGZAG_WORKER = r'''
import json, logging, sys, time, yaml
from importlib.resources import files
from zigzag.api import get_hardware_performance_zigzag
logging.disable(logging.CRITICAL)
spec = json.load(sys.stdin)
hw_dir = files("zigzag") / "inputs" / "hardware"
mapping = spec["tmp"] + "/mapping.yaml"
with open(mapping, "w") as f:  # no spatial mapping given: ZigZag generates and searches them
    yaml.safe_dump([{"name": "default", "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}], f)
results = []
for layer in spec["layers"]:
    s = layer["stride"]
    workload = [{"id": 0, "name": layer["name"], "operator_type": "Conv",
                 "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
                 "dimension_relations": [f"ix={s}*ox+1*fx", f"iy={s}*oy+1*fy"],
                 "loop_dims": ["B", "K", "C", "OY", "OX", "FY", "FX"],
                 "loop_sizes": [1, layer["k"], layer["c"], layer["oy"], layer["ox"], layer["fy"], layer["fx"]],
                 "operand_precision": spec["precision"], "operand_source": {"I": 0}}]
    t0 = time.perf_counter()
    energy, latency, _ = get_hardware_performance_zigzag(
        workload, str(hw_dir / (spec["arch"] + ".yaml")), mapping, opt="latency",
        dump_folder=spec["tmp"] + "/out", loma_show_progress_bar=False)
    results.append({"name": layer["name"], "seconds": time.perf_counter() - t0, "cycles": float(latency),
                    "energy_pj": float(energy)})
print(json.dumps(results))
'''

# (cosim preset, cosim dtype, ZigZag architecture, ZigZag operand precision in bits)
PAIRS = {
    "tpu": ("TPU-like", "int8", "tpu_like", {"I": 8, "W": 8, "O": 16, "O_final": 8}),
    "eyeriss": ("Eyeriss-like", "fp16", "eyeriss_like", {"I": 16, "W": 16, "O": 32, "O_final": 16}),
}


def layers():
    """Unique ResNet-50 convolutions and the 4 BERT-base GEMMs (seq 512) as conv-shaped dicts plus table rows."""
    import cosim
    from workloads.table import op_table

    out = []
    for net, kw in (("resnet-50", {}), ("bert-base", {"seq_len": 512})):
        w = cosim.load_workload(net, dtype="int8", **kw)
        seen = set()
        for i, op in enumerate(w.ops):
            d = op.dims
            if op.kind == "conv":
                key = (d["in_ch"], d["out_ch"], d["out_h"], d["out_w"], d["kernel_h"], d["kernel_w"], d["stride"])
                shape = dict(k=d["out_ch"], c=d["in_ch"], oy=d["out_h"], ox=d["out_w"], fy=d["kernel_h"],
                             fx=d["kernel_w"], stride=d["stride"])
            elif op.kind == "matmul" and d["m"] > 1:  # a GEMM M×K·K×N is a 1×1 conv with OY = M
                key = (d["m"], d["n"], d["k"])
                shape = dict(k=d["n"], c=d["k"], oy=d["m"], ox=1, fy=1, fx=1, stride=1)
            else:
                continue
            if key in seen:
                continue
            seen.add(key)
            out.append({"net": net, "name": f"{net}:{op.name}", "op_index": i, **shape,
                        "macs": shape["k"] * shape["c"] * shape["oy"] * shape["ox"] * shape["fy"] * shape["fx"]})
    return out


def run_zigzag(python: str, arch: str, precision: dict, specs: list) -> list:
    with tempfile.TemporaryDirectory() as tmp:
        worker = Path(tmp) / "worker.py"
        worker.write_text(ZIGZAG_WORKER)
        payload = json.dumps({"arch": arch, "precision": precision, "tmp": tmp, "layers": specs})
        proc = subprocess.run([python, str(worker)], input=payload, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"ZigZag run failed on {arch}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_cosim(preset: str, dtype: str, specs: list, runs: int, overrides: dict | None = None) -> tuple[list, float]:
    """Per layer: median wall time of ``runs`` searches, cycles and energy (pJ); plus the first call's JIT time."""
    import cosim
    from hw_models.hardware import load_hardware
    from hw_models.cost import N_OUT, O_E_COMPUTE, O_E_OFFCHIP, O_E_ONCHIP, O_E_LINK, O_TIME
    from mappings.objectives import objective_code
    from mappings.spatial_search import DEFAULT_SETTINGS, op_cost
    from workloads.table import op_table

    hw = load_hardware(preset, overrides or {})
    params = np.asarray(hw.params, dtype=np.float64).reshape(-1, hw.params.shape[-1])[0]
    clock = params[hw.device.param_index["clock_hz"]]
    tables = {}
    out = np.zeros(N_OUT)
    obj = objective_code("latency")
    jit = None
    rows = []
    for s in specs:
        if s["net"] not in tables:
            kw = {"seq_len": 512} if s["net"] == "bert-base" else {}
            tables[s["net"]] = op_table(cosim.load_workload(s["net"], dtype=dtype, **kw))
        row = tables[s["net"]][s["op_index"]]
        if jit is None:
            t0 = time.perf_counter()
            op_cost(row, params, obj, DEFAULT_SETTINGS, out)
            jit = time.perf_counter() - t0
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            op_cost(row, params, obj, DEFAULT_SETTINGS, out)
            times.append(time.perf_counter() - t0)
        energy = sum(out[i] for i in (O_E_COMPUTE, O_E_ONCHIP, O_E_OFFCHIP, O_E_LINK)) * 1e12  # dynamic: ZigZag has no static
        rows.append({"seconds": statistics.median(times), "cycles": out[O_TIME] * clock, "energy_pj": energy})
    return rows, jit


def _fmt_t(s: float) -> str:
    return f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.1f} s"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("zigzag_venv", help="virtualenv with zigzag-dse installed (e.g. /tmp/zz)")
    ap.add_argument("--max-layers", type=int, default=0, help="first N ResNet-50 layers only (0 = all)")
    ap.add_argument("--runs", type=int, default=5, help="cosim timing runs per layer (median)")
    args = ap.parse_args(argv)
    python = str(Path(args.zigzag_venv) / "bin" / "python")
    check = subprocess.run([python, "-c", "import zigzag.api"], capture_output=True, text=True, check=False) \
        if Path(python).exists() else None
    if check is None or check.returncode != 0:
        reason = "no interpreter at " + python if check is None else check.stderr.strip().splitlines()[-1]
        sys.exit(f"zigzag is not importable from {args.zigzag_venv} ({reason}); install it with "
                 f"`python3 -m venv {args.zigzag_venv} && {args.zigzag_venv}/bin/pip install zigzag-dse six`")
    specs = layers()
    if args.max_layers:
        rn = [s for s in specs if s["net"] == "resnet-50"][:args.max_layers]
        specs = rn + [s for s in specs if s["net"] != "resnet-50"]
    print(f"{len(specs)} layers; cosim median of {args.runs} runs after JIT; ZigZag one run per layer "
          f"(LOMA, latency objective, auto spatial mapping)\n")
    for key, (preset, dtype, arch, precision) in PAIRS.items():
        zz = run_zigzag(python, arch, precision, specs)
        cs, jit = run_cosim(preset, dtype, specs, args.runs)
        extra = None
        if key == "tpu":  # ZigZag's tpu_like is 32x32: also cut cosim's array to that size
            extra, _ = run_cosim(preset, dtype, specs, args.runs, {"compute.pe_rows": 32, "compute.pe_cols": 32})
        print(f"### {preset} (cosim, {dtype}) vs ZigZag {arch} — cosim first call (JIT compile or cache load): "
              f"{jit:.2f} s\n")
        head = "| layer | MACs | ZigZag time | cosim time | ZigZag cycles | cosim cycles |"
        sep = "|---|---:|---:|---:|---:|---:|"
        if extra:
            head += " cosim@32x32 cycles |"
            sep += "---:|"
        head += " ZigZag energy (µJ) | cosim dynamic energy (µJ) |"
        sep += "---:|---:|"
        print(head)
        print(sep)
        for s, z, c, e in zip(specs, zz, cs, extra or [None] * len(specs)):
            line = (f"| {s['name']} | {s['macs'] / 1e6:.1f}M | {_fmt_t(z['seconds'])} | {_fmt_t(c['seconds'])} | "
                    f"{z['cycles']:.0f} | {c['cycles']:.0f} |")
            if e:
                line += f" {e['cycles']:.0f} |"
            line += f" {z['energy_pj'] / 1e6:.2f} | {c['energy_pj'] / 1e6:.2f} |"
            print(line)
        zt = sum(z["seconds"] for z in zz)
        ct = sum(c["seconds"] for c in cs)
        print(f"\nTotal search time: ZigZag {zt:.1f} s, cosim {ct * 1e3:.1f} ms ({zt / ct:.0f}x)."
              f" Total cycles: ZigZag {sum(z['cycles'] for z in zz):.3g}, cosim {sum(c['cycles'] for c in cs):.3g}"
              + (f", cosim@32x32 {sum(e['cycles'] for e in extra):.3g}" if extra else "")
              + f". Total energy: ZigZag {sum(z['energy_pj'] for z in zz) / 1e6:.1f} µJ,"
              f" cosim {sum(c['energy_pj'] for c in cs) / 1e6:.1f} µJ.\n")


if __name__ == "__main__":
    main()
