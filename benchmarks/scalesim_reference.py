"""Reference cycle and access counts from SCALE-Sim 3.0.0 for square systolic arrays (tests/data/scalesim_NxN.csv).

Settings are those of tests/data/scalesim_32x32.csv (shared reference, produced with SCALE-Sim's own
configs/scale.cfg): word size 1 byte, interface bandwidth mode CALC (SCALE-Sim computes the DRAM bandwidth it needs, so
stall cycles are 0), read/write request buffers 512, one memory bank, no custom layout, no sparsity. The same 16 layers
(four BERT-base GEMMs at sequence 512 and four ResNet-18 convolutions given pre-padded, each output- and
weight-stationary) are run on an N×N array.

SRAM is scaled with the number of PEs: each of the ifmap, filter and ofmap SRAMs holds 64 kB × (N/32)², that is
64 kB at 32×32, 256 kB at 64×64 and 1024 kB at 128×128, so the buffer per PE stays that of the 32×32 reference.

SCALE-Sim is not a dependency of cosim; run this under a separate environment (optional extra ``scalesim``):
    python3 -m venv .venv-scalesim && .venv-scalesim/bin/pip install scalesim "numpy<2.4"
    .venv-scalesim/bin/python benchmarks/scalesim_reference.py 64 128           # writes tests/data/
    .venv-scalesim/bin/python benchmarks/scalesim_reference.py 32 --only bert_attn_out-os   # prints one row
Each layer runs in its own process (SCALE-Sim takes 13-330 s and up to 4 GB per layer); rows already in an output file
are kept, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import csv
import io
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
COLUMNS = ["layer", "kind", "M", "N", "K", "ifmap_hw_padded", "filter_rs", "channels", "num_filters", "stride", "array",
           "df", "total_cycles_incl_prefetch", "total_cycles", "stall_cycles", "overall_util_pct", "mapping_eff_pct",
           "compute_util_pct", "sram_ifmap_reads", "sram_filter_reads", "sram_ofmap_writes", "dram_ifmap_reads",
           "dram_filter_reads", "dram_ofmap_writes"]
# GEMMs: (M, N, K), ifmap M×K, filter K×N. Convolutions: (padded ifmap H=W, filter R=S, channels, filters, stride).
GEMMS = {"bert_qkv": (512, 2304, 768), "bert_attn_out": (512, 768, 768), "bert_ffn1": (512, 3072, 768),
         "bert_ffn2": (512, 768, 3072)}
CONVS = {"rn18_conv1": (229, 7, 3, 64, 2), "rn18_l1_3x3": (58, 3, 64, 64, 1), "rn18_l2_3x3": (30, 3, 128, 128, 1),
         "rn18_l4_3x3": (9, 3, 512, 512, 1)}
DATAFLOWS = ("os", "ws")
REFERENCE_ARRAY, REFERENCE_SRAM_KB = 32, 64


def sram_kb(array: int) -> int:
    """Per-SRAM size in kB: the 32×32 reference's 64 kB scaled with the number of PEs."""
    return REFERENCE_SRAM_KB * array * array // (REFERENCE_ARRAY * REFERENCE_ARRAY)


def cosim_overrides(array: int, df: str) -> dict:
    """Overrides of cosim's SCALE-Sim-32x32 preset that match these settings: the dataflow, and for other arrays the
    array size and the three SRAMs (``memory.global_buffer_kib``); derived parameters follow the array."""
    out = {"compute.dataflow": df}
    if array != REFERENCE_ARRAY:
        out.update({"compute.pe_rows": array, "compute.pe_cols": array, "memory.global_buffer_kib": 3 * sram_kb(array)})
    return out


def gemm_shape(row: dict) -> tuple[int, int, int]:
    """(M, N, K) of a CSV row; conv rows are pre-padded: output = (ifmap - filter) / stride + 1, M = pixels,
    K = R·S·C."""
    if row["kind"] == "gemm":
        return int(row["M"]), int(row["N"]), int(row["K"])
    out = (int(row["ifmap_hw_padded"]) - int(row["filter_rs"])) // int(row["stride"]) + 1
    return out * out, int(row["num_filters"]), int(row["filter_rs"]) ** 2 * int(row["channels"])


def config_text(array: int, df: str) -> str:
    """A SCALE-Sim config file for an array×array array with the reference settings."""
    kb = sram_kb(array)
    return (f"[general]\nrun_name = ref\n\n[architecture_presets]\nArrayHeight: {array}\nArrayWidth: {array}\n"
            f"IfmapSramSzkB: {kb}\nFilterSramSzkB: {kb}\nOfmapSramSzkB: {kb}\nIfmapOffset: 0\n"
            f"FilterOffset: 10000000\nOfmapOffset: 20000000\nBandwidth : 10\nDataflow : {df}\nMemoryBanks: 1\n"
            "ReadRequestBuffer: 512\nWriteRequestBuffer: 512\n\n"
            "[layout]\nIfmapCustomLayout: False\nFilterCustomLayout: False\nIfmapSRAMBankBandwidth: 10\n"
            "IfmapSRAMBankNum: 1\nIfmapSRAMBankPort: 2\nFilterSRAMBankBandwidth: 10\nFilterSRAMBankNum: 1\n"
            "FilterSRAMBankPort: 2\n\n"
            "[sparsity]\nSparsitySupport: false\n\n"
            "[run_presets]\nInterfaceBandwidth: CALC\nUseRamulatorTrace: False\n")


def topology_text(layer: str) -> tuple[str, bool]:
    """SCALE-Sim topology CSV for one layer, and whether it is in GEMM (M, N, K) form."""
    if layer in GEMMS:
        m, n, k = GEMMS[layer]
        return f"Layer, M, N, K,\n{layer}, {m}, {n}, {k},\n", True
    hw, rs, ch, nf, stride = CONVS[layer]
    return ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
            f"{layer}, {hw}, {hw}, {rs}, {rs}, {ch}, {nf}, {stride},\n"), False


def _report_row(path: Path) -> list[str]:
    return [x.strip() for x in path.read_text().splitlines()[1].split(",")]


def run_layer(layer: str, df: str, array: int) -> dict[str, str]:
    """Run SCALE-Sim on one layer and return its CSV row (columns as in scalesim_32x32.csv)."""
    from scalesim.scale_sim import scalesim

    topo_text, gemm = topology_text(layer)
    with tempfile.TemporaryDirectory() as tmp:
        cfg, topo, layout = Path(tmp, "cfg.cfg"), Path(tmp, "topo.csv"), Path(tmp, "layout.csv")
        cfg.write_text(config_text(array, df))
        topo.write_text(topo_text)
        # default layout (unused: custom layouts are off), one row per layer as SCALE-Sim's loader expects
        layout.write_text("Layer name, factors and orders,\n" + f"{layer}, 1, 1, 1, 1, 1, 1, 0, 1, 2, 0, 1, 2, "
                          "0, 1, 2, 3, 0, 1, 2, 3,\n")
        with contextlib.redirect_stdout(io.StringIO()):
            sim = scalesim(save_disk_space=True, verbose=False, config=str(cfg), topology=str(topo),
                           layout=str(layout), input_type_gemm=gemm)
            sim.run_scale(top_path=tmp)
        compute = _report_row(next(Path(tmp).rglob("COMPUTE_REPORT.csv")))
        detail = _report_row(next(Path(tmp).rglob("DETAILED_ACCESS_REPORT.csv")))
    row = dict.fromkeys(COLUMNS, "")
    row.update(layer=layer, kind="gemm" if gemm else "conv", array=f"{array}x{array}", df=df)
    if gemm:
        row.update(zip(("M", "N", "K"), map(str, GEMMS[layer])))
    else:
        row.update(zip(("ifmap_hw_padded", "filter_rs", "channels", "num_filters", "stride"), map(str, CONVS[layer])))
    row.update(total_cycles_incl_prefetch=compute[1], total_cycles=compute[2], stall_cycles=compute[3],
               overall_util_pct=str(round(float(compute[4]), 2)), mapping_eff_pct=str(round(float(compute[5]), 2)),
               compute_util_pct=str(round(float(compute[6]), 2)),
               sram_ifmap_reads=detail[3], sram_filter_reads=detail[6], sram_ofmap_writes=detail[9],
               dram_ifmap_reads=detail[12], dram_filter_reads=detail[15], dram_ofmap_writes=detail[18])
    return row


def _timed(layer: str, df: str, array: int) -> tuple[dict[str, str], float]:
    t0 = time.perf_counter()
    return run_layer(layer, df, array), time.perf_counter() - t0


def jobs() -> list[tuple[str, str]]:
    """(layer, dataflow) in the row order of scalesim_32x32.csv."""
    return [(layer, df) for df in DATAFLOWS for layer in [*GEMMS, *CONVS]]


def _read(out: Path) -> dict[tuple[str, str], dict[str, str]]:
    return {(r["layer"], r["df"]): r for r in csv.DictReader(out.open())} if out.exists() else {}


def _write(out: Path, rows: dict[tuple[str, str], dict[str, str]]) -> None:
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows[key] for key in jobs() if key in rows)


def write_arrays(arrays: list[int], out_dir: Path) -> None:
    """Compute every missing row of each array's file, one layer per process, the smaller layers of every array first
    (convolutions, then GEMMs by size), rewriting the file after each row (rows stay in the 32x32 file's order)."""
    order = [(layer, df) for layer in [*CONVS, "bert_attn_out", "bert_qkv", "bert_ffn1", "bert_ffn2"]
             for df in DATAFLOWS]
    for layer, df in order:
        for array in arrays:
            out = out_dir / f"scalesim_{array}x{array}.csv"
            done = _read(out)
            if (layer, df) in done:
                continue
            with concurrent.futures.ProcessPoolExecutor(max_workers=1) as pool:
                row, seconds = pool.submit(_timed, layer, df, array).result()
            done[(layer, df)] = row
            _write(out, done)
            print(f"{array}x{array} {layer} {df}: {row['total_cycles']} cycles ({seconds:.0f} s, "
                  f"{len(done)}/{len(jobs())} rows)", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("arrays", nargs="+", type=int, help="array sizes N (an N×N array each)")
    parser.add_argument("--only", help="one LAYER-DF (e.g. bert_attn_out-os): print its row instead of writing")
    parser.add_argument("--out-dir", type=Path, default=DATA)
    args = parser.parse_args(argv)
    if args.only:
        layer, _, df = args.only.rpartition("-")
        if (layer, df) not in jobs():
            parser.error(f"--only {args.only!r}: expected LAYER-DF with LAYER in {', '.join(x for x, _ in jobs()[:8])}"
                         f" and DF in {', '.join(DATAFLOWS)}")
        writer = csv.DictWriter(sys.stdout, COLUMNS)
        writer.writeheader()
        for array in args.arrays:
            writer.writerow(run_layer(layer, df, array))
        return
    write_arrays(args.arrays, args.out_dir)


if __name__ == "__main__":
    main()
