"""The ``cosim`` command. Only argparse is imported at start-up; everything else is imported by the command run.

Commands format what the public API (``cosim.api``) returns; nothing here reaches below it.
"""

from __future__ import annotations

import argparse
import os
import sys

EXIT_INPUT = 2
EXIT_INTERRUPTED = 130


class _IntermixedParser(argparse.ArgumentParser):
    """A sub-command parser that accepts options between positionals (``import m.onnx -o t.json batch=8``)."""

    _mixing = False

    def parse_known_args(self, args=None, namespace=None):
        if self._mixing:
            return super().parse_known_args(args, namespace)
        self._mixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._mixing = False


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cosim", description="How fast, and at what energy, does this ML workload run "
                                "on this hardware, and how should it be mapped?")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("sweep", help="run a design-space sweep from a YAML config")
    s.add_argument("config", help="sweep config (YAML); see examples/quickstart.yaml")
    s.add_argument("--output", "-o", help="results folder (default: the config's 'output', else results/NAME)")
    s.add_argument("--jobs", "-j", type=int, default=None, help="parallel threads (default: all cores)")
    s.add_argument("--ops", action="store_true", help="also write per-op detail (ops.parquet)")
    mode = s.add_mutually_exclusive_group()
    mode.add_argument("--overwrite", action="store_true", help="replace results already in the folder")
    mode.add_argument("--resume", action="store_true", help="evaluate only points missing from the folder")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")

    _serve_parser(sub)

    r = sub.add_parser("run", help="simulate one design point and print its per-op table")
    r.add_argument("hardware", help="hardware preset (cosim list hardware)")
    r.add_argument("workload", help="workload name (cosim list workloads) or trace file")
    r.add_argument("params", nargs="*", metavar="PARAM=VALUE", help="workload parameters, e.g. batch=8 phase=decode")
    r.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="hardware override, e.g. --set memory.hbm_bandwidth_gbps=4000")
    r.add_argument("--objective", choices=("latency", "energy", "edp"), default="latency")
    r.add_argument("--csv", help="also write the per-op table to this CSV file")
    r.add_argument("--calibration", metavar="OVERLAY", help="calibration overlay (YAML from `cosim calibrate fit`): "
                   "its fitted values apply before --set, and totals get error bars")
    r.add_argument("--force-calibration", action="store_true", help="apply an overlay fitted for another preset")

    mp = sub.add_parser("map", help="show one op's best mapping (loop nest, cost breakdown, runners-up)")
    mp.add_argument("hardware", help="hardware preset (cosim list hardware)")
    mp.add_argument("workload", help="workload name (cosim list workloads) or trace file")
    mp.add_argument("params", nargs="*", metavar="PARAM=VALUE", help="workload parameters, e.g. batch=8")
    mp.add_argument("--op", type=int, default=None, metavar="N", help="op index (omit to list the ops)")
    mp.add_argument("--objective", choices=("latency", "energy", "edp"), default="latency")
    mp.add_argument("--top", type=int, default=5, metavar="K", help="runners-up to show (default 5)")
    mp.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                    help="hardware override, e.g. --set compute.pe_rows=64")

    li = sub.add_parser("list", help="list hardware presets or workloads")
    li.add_argument("what", choices=("hardware", "workloads"))

    sh = sub.add_parser("show", help="show a hardware preset (with sources) or a workload config")
    sh.add_argument("name")
    sh.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                    help="hardware override to show beside the preset's value, e.g. --set compute.pe_cols=128")

    wk = sub.add_parser("workload", help="inspect a workload's ops, or import an ONNX model as a trace")
    wsub = wk.add_subparsers(dest="workload_command", required=True, metavar="ACTION",
                             parser_class=_IntermixedParser)
    ws = wsub.add_parser("show", help="print the op table and totals of a catalog workload or trace file")
    ws.add_argument("name", help="workload name (cosim list workloads) or trace file (.json/.parquet)")
    ws.add_argument("params", nargs="*", metavar="PARAM=VALUE", help="workload parameters, e.g. batch=8")
    wi = wsub.add_parser("import", help="import an ONNX model (needs `pip install cosim-hw[onnx]`) as a trace")
    wi.add_argument("model", help="ONNX model file")
    wi.add_argument("bindings", nargs="*", metavar="NAME=VALUE",
                    help="symbolic dim (batch=8) or input shape (input=1,3,224,224) bindings")
    wi.add_argument("--output", "-o", help="trace file to write, .json or .parquet (default: next to the model, .json)")

    ca = sub.add_parser("calibrate", help="measure this machine as a board, convert an SDK board's CSV, or fit "
                        "preset parameters to measurements")
    csub = ca.add_subparsers(dest="calibrate_command", required=True, metavar="ACTION")
    _measurement_parsers(csub)
    _fit_parser(csub)

    rp = sub.add_parser("reproduce", help="published paper claims vs the model (the reproduction table)")
    rp.add_argument("--claim", action="append", default=None, metavar="ID",
                    help="claim id, e.g. neupims-01 or m3vit-03/latency (repeatable; default: all)")
    rp.add_argument("--output", "-o", metavar="FILE", help="also write the table: .csv, or .md (markdown; in a file with a "
                    "<!-- reproduce:start/end --> block, such as README.md, only that block is replaced)")

    _validate_parser(sub)

    ap = sub.add_parser("app", help="start the interactive explorer in a browser (needs `pip install cosim-hw[app]`)")
    ap.add_argument("--results", metavar="DIR", help="a results folder written by `cosim sweep` to open")
    ap.add_argument("--port", type=int, default=8501, metavar="N", help="port to serve on (default 8501)")
    ap.add_argument("--address", default="127.0.0.1", metavar="HOST",
                    help="address to bind (default 127.0.0.1: this machine only)")
    return p


def _serve_parser(sub) -> None:
    """``cosim serve CONFIG.yaml``."""
    sv = sub.add_parser("serve", help="simulate LLM serving request by request: systems x request rates, latency "
                        "percentiles, goodput under SLOs, capacity")
    sv.add_argument("config", help="serving config (YAML); see examples/serving.yaml and docs/SERVING.md")
    sv.add_argument("--output", "-o", help="results folder (default: the config's 'output', else results/NAME)")
    sv.add_argument("--rate", type=float, nargs="+", metavar="R", help="request rates (requests/s) to run instead of "
                    "the config's")
    sv.add_argument("--capacity", action="store_true", help="also search each system's capacity (the highest rate "
                    "meeting the config's capacity SLO, else its first SLO)")
    sv.add_argument("--requests", type=int, metavar="N", help="requests per run instead of the config's")
    sv.add_argument("--no-progress", action="store_true", help="no progress bar")


def _measurement_parsers(csub) -> None:
    """``calibrate measure`` and ``calibrate convert``."""
    cm = csub.add_parser("measure", help="run microbenchmarks on this machine and write a measurement table",
                         description="Runs the board's microbenchmarks (GEMMs, convolutions, streaming kernels, "
                         "attention, end-to-end models) and appends one row per case to a Parquet table as soon as "
                         "it is timed: an interrupted run keeps what it measured; --resume measures only the cases "
                         "the file lacks.")
    cm.add_argument("--board", required=True, choices=("host-cpu", "cuda"), help="what to measure")
    cm.add_argument("--set", dest="which", choices=("tiny", "quick", "full"), default="quick",
                    help="tiny: seconds; quick (default): under a minute on a laptop CPU; full: the calibration grid")
    cm.add_argument("--output", "-o", default="measurements.parquet", help="Parquet file (default: %(default)s)")
    mode = cm.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="keep the file's rows, measure only missing cases")
    mode.add_argument("--overwrite", action="store_true", help="replace an existing file")
    cm.add_argument("--time-cap", type=float, default=None, metavar="S",
                    help="per-case cap on repeat time in seconds (default: 0.5 quick, 2 full)")
    cm.add_argument("--no-progress", action="store_true", help="no progress bar")
    cc = csub.add_parser("convert", help="convert a CSV measured with a board's SDK into a measurement table",
                         description="Columns: see cosim/calibration/templates/sdk_board_template.csv and "
                         "docs/MEASUREMENTS.md.")
    cc.add_argument("csv", help="CSV file in the template's format")
    cc.add_argument("--board", required=True, choices=("gap8", "cortex-m", "fpga", "jetson"))
    cc.add_argument("--output", "-o", required=True, help="Parquet file to write")
    cc.add_argument("--overwrite", action="store_true", help="replace an existing file")

def _fit_parser(csub) -> None:
    """``calibrate fit``."""
    cf = csub.add_parser("fit", help="fit parameters to a measurement table and write a calibration overlay")
    cf.add_argument("measurements", help="measurement table (.parquet; the calibration measurement schema)")
    cf.add_argument("--hardware", required=True, metavar="PRESET", help="preset to calibrate (cosim list hardware)")
    cf.add_argument("--parameters", metavar="A,B,...", help="dotted preset paths to fit (default: the device kind's "
                    "fittable parameters)")
    cf.add_argument("--output", "-o", required=True, metavar="OVERLAY", help="overlay file to write (.yaml)")
    cf.add_argument("--force", action="store_true", help="fit even if the board does not match the preset's kind")


def _validate_parser(sub) -> None:
    """``cosim validate MEASUREMENTS`` (held-out error before and after calibration) or ``--dataset NAME``."""
    va = sub.add_parser("validate", help="held-out error of a preset on measurements, before and after calibration, "
                        "or the presets' error on a published measurement set (--dataset)")
    va.add_argument("measurements", nargs="?", help="measurement table (.parquet)")
    va.add_argument("--dataset", metavar="NAME",
                    help="a published validation set, 'all' of them, or 'list' to list them (instead of a table)")
    va.add_argument("--hardware", metavar="PRESET", help="preset (default: the overlay's)")
    va.add_argument("--calibration", metavar="OVERLAY", help="overlay: its preset and parameters are refitted per "
                    "fold, and its own in-sample error is shown beside")
    va.add_argument("--parameters", metavar="A,B,...", help="dotted preset paths to fit (default: the overlay's, "
                    "else the device kind's fittable parameters)")
    held = va.add_mutually_exclusive_group()
    held.add_argument("--folds", type=int, metavar="K", help="k-fold cross-validation (default 5)")
    held.add_argument("--split", metavar="COLUMN=VALUE", help="hold out the rows whose COLUMN equals VALUE")
    va.add_argument("--output", "-o", metavar="PATH",
                    help="with a measurement table: folder for predictions, summary, plot and report (default: "
                    "validation); with --dataset: a .csv (every entry) or .md file (the per-preset figures; in a file "
                    "with a <!-- validate-datasets:start/end --> block, such as README.md, only that block is "
                    "replaced)")
    va.add_argument("--force", action="store_true", help="use an overlay or board that does not match the preset")


def _parameter_list(text: str | None) -> list[str] | None:
    return [p.strip() for p in text.split(",") if p.strip()] if text else None


def _value_with_error(value: float, stderr: float | None, scale: float = 1.0) -> str:
    return f"{value * scale:.4g}" + (f" ± {stderr * scale:.2g}" if stderr is not None else "")


def _fit(args) -> int:
    from cosim.api import fit_calibration, write_calibration

    overlay = fit_calibration(args.measurements, args.hardware, _parameter_list(args.parameters), args.force)
    for s in overlay.skipped:
        print(f"skipped {s['measurement_id']} ({s['label']}): {s['reason']}")
    fit = overlay.fit
    print(f"{overlay.hardware}: fitted {fit['parameters']} parameters to {fit['points']} measured values from "
          f"{len(overlay.measurements)} measurements ({len(overlay.skipped)} skipped); rms log error "
          f"{fit['rmse_log']:.3g}")
    if fit.get("not_informed"):
        print(f"  not fitted (no measurement here depends on them): {', '.join(fit['not_informed'])}")
    for path, entry in overlay.parameters.items():
        unit = f" {entry['unit']}" if entry.get("unit") and entry["unit"] != "plain number" else ""
        print(f"  {path} = {entry['value']:.5g} ± {entry['stderr']:.2g}{unit} (preset {entry['preset']:.5g})")
    print(f"wrote {write_calibration(overlay, args.output)}")
    return 0


def _validate_measurements(args) -> int:
    from cosim.api import validate_calibration

    result = validate_calibration(args.measurements, args.hardware, args.calibration,
                                  _parameter_list(args.parameters), args.folds, args.split,
                                  args.output or "validation", args.force)
    for s in result.skipped:
        print(f"skipped {s['measurement_id']} ({s['label']}): {s['reason']}")
    print(f"{result.hardware}: {result.scheme}; {len(result.parameters)} fitted parameters "
          f"({', '.join(result.parameters)})")
    for row in result.summary.itertuples():
        extra = (f", overlay in-sample {row.mape_overlay_in_sample:.3g}%"
                 if hasattr(row, "mape_overlay_in_sample") else "")
        print(f"  {row.group:24s} {row.quantity:6s} n={row.points:<4d} MAPE preset {row.mape_preset:.3g}% -> "
              f"calibrated {row.mape_calibrated:.3g}% ({row.fitted_parameters} fitted parameters){extra}")
    print("worst held-out points (time):")
    for row in result.worst(5).itertuples():
        flag = "  [extrapolated]" if row.extrapolated else ""
        print(f"  {row.label:32s} measured {row.time_measured_s:.4g} s, predicted {row.time_calibrated_s:.4g} ± "
              f"{row.time_stderr_s:.2g} s ({row.time_ape_calibrated:.3g}%){flag}")
    for key, path in result.files.items():
        print(f"  {key:11s} {path}")
    return 0


def _parse_value(text: str):
    """A CLI value as int, float or string."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _pairs(items: list[str], what: str) -> dict:
    from cosim.errors import CosimInputError

    out = {}
    for item in items:
        if "=" not in item:
            raise CosimInputError(f"{what} {item!r} must look like NAME=VALUE")
        key, value = item.split("=", 1)
        out[key.strip()] = _parse_value(value.strip())
    return out


def _workload(name: str, items: list[str]):
    """A workload from the command line: a name (or trace file) and ``param=value`` items, checked by the API."""
    from cosim.api import load_workload

    return load_workload(name, **_pairs(items, "parameter"))


def cmd_sweep(args) -> int:
    from rich.console import Console

    from cosim.api import pareto_front, sweep

    console = Console(width=max(Console().width, 140))
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    if jobs < 1:
        from cosim.errors import CosimInputError

        raise CosimInputError(f"--jobs must be >= 1, got {jobs}")
    outcome = sweep(args.config, args.output, jobs=jobs, with_ops=args.ops, overwrite=args.overwrite,
                    resume=args.resume, progress=not args.no_progress)
    results, files = outcome.results, outcome.files
    _print_pareto(console, pareto_front(results))
    n_ok = int(results["feasible"].astype(bool).sum()) if not results.empty else 0
    rate = outcome.evaluated / outcome.elapsed_s if outcome.elapsed_s else 0.0
    console.print(f"{len(results)} design points ({n_ok} feasible); evaluated {outcome.evaluated} in "
                  f"{outcome.elapsed_s:.1f} s ({rate:,.0f} points/s)")
    for key, path in files.items():
        console.print(f"  {key:8s} {path}")
    if outcome.interrupted:
        console.print("[yellow]interrupted[/yellow]: finished points are saved; rerun with --resume to complete")
        return EXIT_INTERRUPTED
    return 0


def cmd_serve(args) -> int:
    from rich.console import Console

    from cosim.api import serve_study

    console = Console(width=max(Console().width, 140))
    result = serve_study(args.config, args.output, rates=args.rate,
                         capacity=args.capacity, requests=args.requests, progress=not args.no_progress)
    _print_serving(console, result)
    console.print(f"{len(result.summary)} runs in {result.elapsed_s:.1f} s")
    for key, path in result.files.items():
        console.print(f"  {key:15s} {path}")
    if result.interrupted:
        console.print("[yellow]interrupted[/yellow]: the finished runs are saved")
        return EXIT_INTERRUPTED
    return 0


SERVING_COLUMNS = {"throughput_rps": ("done req/s", 1.0), "output_tokens_per_s": ("tokens/s", 1.0),
                   "ttft_p50_s": ("TTFT P50 ms", 1e3), "ttft_p99_s": ("TTFT P99 ms", 1e3),
                   "tbt_p99_s": ("TBT P99 ms", 1e3), "e2e_p50_s": ("E2E P50 s", 1.0), "e2e_p99_s": ("E2E P99 s", 1.0),
                   "kv_occupancy_mean": ("KV used", 1.0), "energy_per_output_token_j": ("mJ/token", 1e3)}


def _print_serving(console, result) -> None:
    from rich.table import Table

    summary = result.summary
    table = Table(title=f"Serving study {result.config.name!r}: {result.config.model}")
    table.add_column("system")
    table.add_column("req/s", justify="right")
    shown = {k: v for k, v in SERVING_COLUMNS.items() if k in summary}
    goodput = [c for c in summary.columns if c.startswith("goodput_") and c.endswith("_rps")]
    for label, _ in shown.values():
        table.add_column(label, justify="right")
    for column in goodput:
        table.add_column(f"goodput {column[8:-4]} req/s (meets)", justify="right", no_wrap=True)
    for _, row in summary.iterrows():
        cells = [row["system"], "–" if row["rate_per_s"] != row["rate_per_s"] else f"{row['rate_per_s']:g}"]
        if isinstance(row.get("reason"), str):
            table.add_row(*cells, f"[red]failed[/red]: {row['reason']}")
            continue
        cells += [_number(row[k] * scale) for k, (_, scale) in shown.items()]
        cells += [f"{_number(row[c])} ({'yes' if row[f'meets_{c[8:-4]}'] else 'no'})" for c in goodput]
        table.add_row(*cells)
    console.print(table)
    for row in result.capacity.to_dict("records"):
        found = "" if row["found"] else f"no closed bracket: {row['reason']}"
        if "capacity_per_s" in row and row["capacity_per_s"] == row["capacity_per_s"]:
            found = (f"{row['capacity_per_s']:.3g} requests/s (bracket {row['bracket_low_per_s']:.3g} to "
                     f"{row['bracket_high_per_s']:.3g}, {row['probes']:.0f} runs){'; ' if found else ''}{found}")
        console.print(f"capacity of {row['system']} within SLO {row['slo']!r}: {found}")


def _number(value) -> str:
    return "–" if value is None or value != value else f"{value:.4g}"


def _print_pareto(console, front) -> None:
    from rich.table import Table

    if front.empty:
        console.print("no feasible design points")
        return
    table = Table(title="Pareto set per task: throughput vs energy per item")
    shown = front.copy()
    shown["energy_per_item_j"] *= 1e3
    shown["latency_s"] *= 1e3
    shown = shown.rename(columns={"energy_per_item_j": "mJ/item", "latency_s": "latency ms", "power_w": "W",
                                  "throughput": "items/s"})
    short = [c.split(".")[-1] for c in shown.columns]  # keep the full name where the short one would clash
    shown.columns = [s if short.count(s) == 1 else c for s, c in zip(short, shown.columns)]
    for col in shown.columns:
        table.add_column(col, justify="right" if shown[col].dtype.kind in "if" else "left")
    for _, row in shown.head(30).iterrows():
        table.add_row(*["–" if v is None or (isinstance(v, float) and v != v) else
                        (f"{v:.4g}" if isinstance(v, float) else str(v)) for v in row])
    console.print(table)
    if len(front) > 30:
        console.print(f"... and {len(front) - 30} more in summary.md")


def cmd_run(args) -> int:
    import pandas as pd
    from rich.console import Console

    from cosim.api import load_hardware, simulate

    console = Console(width=max(Console().width, 140))
    hw = load_hardware(args.hardware, _pairs(args.overrides, "--set"), calibration=args.calibration,
                       force=args.force_calibration)
    wl = _workload(args.workload, args.params)
    result = simulate(hw, wl, objective=args.objective)
    console.print(f"[bold]{hw.name}[/bold] × [bold]{wl.name}[/bold] {wl.params}")
    if not result.feasible:
        console.print(f"[red]infeasible[/red]: {result.reason}")
        return 1
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_rows", 200):
        cols = ["op", "stage", "count", "time_s", "energy_j", "bound", "utilization", "intensity", "mapping"]
        print(result.ops[cols].to_string(float_format=lambda v: f"{v:.4g}"))
    t = result.totals
    err = {k: t.get(f"{k}_stderr") for k in ("latency_s", "throughput", "energy_j", "energy_per_item_j", "power_w")}
    console.print(f"latency {_value_with_error(t['latency_s'], err['latency_s'], 1e3)} ms | throughput "
                  f"{_value_with_error(t['throughput'], err['throughput'])} {result.throughput_unit} "
                  f"| energy {_value_with_error(t['energy_j'], err['energy_j'])} J "
                  f"({_value_with_error(t['energy_per_item_j'], err['energy_per_item_j'], 1e3)} mJ/{result.item_unit}) "
                  f"| power {_value_with_error(t['power_w'], err['power_w'])} W | EDP {t['edp_js']:.4g} J·s "
                  f"| devices {int(t['devices'])}")
    if args.calibration:
        console.print(f"calibrated with {args.calibration} (± one standard error of the fit)")
        if t.get("extrapolated"):
            console.print(f"[yellow]extrapolated[/yellow] beyond the calibration measurements: {t['extrapolated']}")
    if args.csv:
        result.ops.to_csv(args.csv, index=False)
        console.print(f"per-op table written to {args.csv}")
    return 0


def cmd_map(args) -> int:
    from cosim.api import load_hardware, mapping_report
    from cosim.errors import CosimInputError

    if args.top < 1:
        raise CosimInputError(f"--top must be >= 1, got {args.top}")
    hw = load_hardware(args.hardware, _pairs(args.overrides, "--set"))
    wl = _workload(args.workload, args.params)
    print(mapping_report(hw, wl, args.op, args.objective, args.top))
    return 0


def cmd_list(args) -> int:
    from cosim.api import available_hardware, available_workloads

    if args.what == "hardware":
        for hw in available_hardware().itertuples():
            print(f"{hw.name:24s} {hw.kind:5s} {hw.description}")
    else:
        for wl in available_workloads().itertuples():
            print(f"{wl.name:22s} {wl.family:22s} {wl.description}")
    return 0


def cmd_show(args) -> int:
    import yaml

    from cosim.api import HardwareDescription, describe, describe_hardware

    described = describe(args.name)
    if isinstance(described, HardwareDescription):
        overrides = _pairs(args.overrides, "--set")
        if overrides:  # validated as a run would validate them
            described = describe_hardware(described.name, overrides)
        print(f"{described.name} ({described.kind}) — {described.description}")
        print(f"file: {described.file}")
        for row in described.parameters.itertuples():
            unit = f"  [{row.unit}]" if row.unit and row.unit != "plain number" else ""
            if row.overridden:
                preset = f"{row.expression} = {row.preset_value}" if row.expression else row.preset_value
                was = "not set in this file" if row.preset_value is None else f"preset: {preset}"
                print(f"  {row.path} = {row.value}  override ({was}){unit}")
                print(f"      source: override (preset source: {row.preset_source or 'none'})"
                      if row.preset_value is not None else "      source: override (the preset leaves this parameter out)")
                continue
            derived = f"  (derived: {row.expression})" if row.expression else ""
            print(f"  {row.path} = {row.value}{derived}{unit}")
            numeric = isinstance(row.value, (int, float)) and not isinstance(row.value, bool)
            if numeric or row.source is not None:
                print(f"      source: {'MISSING' if row.source is None else row.source}")
        return 0
    print(f"{described.name} ({described.family}) — {described.description}")
    if described.config is not None:
        print(yaml.safe_dump(described.config, sort_keys=False).rstrip())
    for key, value in described.published.items():
        print(f"published {key}: {value:,.6g}")
    for source in described.sources:
        print(f"source: {source}")
    defaults = dict(zip(described.parameters["name"], described.parameters["default"]))
    print(f"parameters (workload): {defaults}")
    return 0


def _print_workload_totals(wl) -> None:
    sops = sum(op.ops_by_class.get("ac", 0.0) * op.count for op in wl.ops)
    work = f"FLOPs {wl.flops:,.6g}" + (f" (of which SOPs {sops:,.6g})" if sops else "")
    memory = wl.memory_bytes
    print(f"totals: {len(wl.ops)} ops | parameters {wl.parameters:,} | {work} | bytes moved {wl.bytes:,.6g} | "
          f"activations {memory.get('activations', 0.0):,.6g} B | weights {memory.get('weights', 0.0):,.6g} B | "
          f"{wl.items:g} {wl.item_unit}(s)")


def cmd_workload(args) -> int:
    if args.workload_command == "show":
        import pandas as pd

        from cosim.api import workload_ops

        wl = _workload(args.name, args.params)
        print(f"{wl.name} {wl.params}")
        with pd.option_context("display.width", 250, "display.max_columns", 20, "display.max_rows", 500,
                               "display.max_colwidth", 60):
            print(workload_ops(wl).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        _print_workload_totals(wl)
        return 0
    from pathlib import Path

    from cosim.api import import_onnx, save_trace

    bindings = {}
    for key, value in _pairs(args.bindings, "shape binding").items():
        if isinstance(value, str) and "," in value:
            try:
                value = tuple(int(v) for v in value.split(",") if v.strip())
            except ValueError:
                pass
        bindings[key] = value
    output = Path(args.output) if args.output else Path(args.model).with_suffix(".json")
    if output.suffix not in (".json", ".parquet"):
        from cosim.errors import CosimInputError

        raise CosimInputError(f"--output {output}: unknown trace format {output.suffix!r}; allowed: .json, .parquet")
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wl = import_onnx(args.model, **bindings)
    for warning in caught:
        print(f"cosim: warning: {warning.message}", file=sys.stderr)
    save_trace(wl, output)
    print(f"imported {args.model} → {output}")
    _print_workload_totals(wl)
    return 0


def cmd_reproduce(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from cosim.api import reproduction_cells, reproduction_output, reproduction_table, write_reproduction_table

    if args.output:  # a bad suffix is an input error before minutes of computation
        reproduction_output(args.output)
    table = reproduction_table(args.claim)
    header, rows = reproduction_cells(table)
    view = Table(title="Paper claims: published value vs the model")
    shown = [i for i, name in enumerate(header) if name != "compared"]  # the setup is in --output
    for i in shown:
        view.add_column(header[i], justify="right" if header[i] in ("paper", "model", "error") else "left",
                        no_wrap=header[i] != "why missed")
    for cells in rows:
        cells[-2] = "[green]yes[/]" if cells[-2] == "yes" else "[red]no[/]"
        view.add_row(*(cells[i] for i in shown))
    Console().print(view)
    print(f"{int(table['within_tolerance'].sum())} of {len(table)} claims within tolerance")
    if args.output:
        print(f"wrote {write_reproduction_table(table, args.output)}")
    return 0


def cmd_validate(args) -> int:
    from cosim.errors import CosimInputError

    if (args.dataset is None) == (args.measurements is None):
        raise CosimInputError("cosim validate takes a measurement table or --dataset NAME (one of the two)")
    return _validate_dataset(args) if args.dataset else _validate_measurements(args)


def _validate_dataset(args) -> int:
    """``cosim validate --dataset NAME``: every entry's measured and predicted value, the skipped ones with their
    reason, and MAPE per dataset and preset."""
    from rich.console import Console
    from rich.table import Table

    from cosim.api import (dataset_figures_cells, reproduction_output, validate_dataset, validation_datasets,
                           write_dataset_figures)

    console = Console(width=max(Console().width, 140))
    if args.dataset == "list":
        for d in validation_datasets().itertuples():
            print(f"{d.name:28s} {d.entries:3d} entries  {d.hardware}\n{'':28s} {d.title}")
        return 0
    if args.output:  # the same table formats as the reproduction table; checked before the predictions run
        reproduction_output(args.output)
    result = validate_dataset(args.dataset)
    view = Table(title="Published measurements vs the presets (uncalibrated; 0 fitted parameters)")
    for name in ("entry", "setup", "measured", "predicted", "error"):
        view.add_column(name, justify="right" if name in ("measured", "predicted", "error") else "left")
    for e in result.entries.itertuples():
        view.add_row(e.id, e.setup, f"{e.measured:.4g}", f"{e.predicted:.4g}", f"{100 * e.error:+.1f}%")
    console.print(view)
    header, rows = dataset_figures_cells(result)
    summary = Table(title="Error per dataset and preset")
    for name in header:
        summary.add_column(name, justify="left" if name in ("dataset", "preset") else "right")
    for cells in rows:
        summary.add_row(*cells)
    console.print(summary)
    for s in result.skipped.itertuples():
        print(f"skipped {s.id}: {s.reason}")
    if args.output:
        print(f"wrote {write_dataset_figures(result, args.output)}")
    return 0


def cmd_calibrate(args) -> int:
    if args.calibrate_command == "measure":
        return _measure(args)
    if args.calibrate_command == "fit":
        return _fit(args)
    from cosim.api import convert_board_csv, read_measurements

    out = convert_board_csv(args.csv, args.board, args.output, overwrite=args.overwrite)
    print(f"wrote {len(read_measurements(out))} measurements to {out}")
    return 0


def _measure(args) -> int:
    from cosim.api import measure_board, measurement_rates, read_measurements

    outcome = measure_board(args.board, args.output, args.which, resume=args.resume, overwrite=args.overwrite,
                            progress=not args.no_progress, time_cap_s=args.time_cap)
    for label, why in outcome.skipped:
        if why != "already measured":
            print(f"skipped {label}: {why}", file=sys.stderr)
    if outcome.path.exists():
        rates = measurement_rates(read_measurements(outcome.path))
        with_rates = rates.assign(median_ms=rates["median_s"] * 1e3).drop(columns=["median_s"])
        print(with_rates.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"{outcome.written} measurements written to {outcome.path} in {outcome.elapsed_s:.1f} s")
    if outcome.interrupted:
        print("interrupted: the rows above are saved; rerun with --resume to measure the rest", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def cmd_app(args) -> int:
    import importlib.util

    from cosim.api import explorer_script, read_results
    from cosim.errors import CosimInputError

    if importlib.util.find_spec("streamlit") is None:
        raise CosimInputError("the explorer needs Streamlit: pip install 'cosim-hw[app]'")
    if not 0 < args.port < 65536:
        raise CosimInputError(f"--port must be between 1 and 65535, got {args.port}")
    env = dict(os.environ)
    if args.results:
        read_results(args.results)  # a folder without results.parquet is refused here, with the reason
        env["COSIM_APP_RESULTS"] = os.path.abspath(args.results)
    command = [sys.executable, "-m", "streamlit", "run", str(explorer_script()), "--server.address", args.address,
               "--server.port", str(args.port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--server.maxUploadSize", "64"]  # MB: the app's own limit on an uploaded table
    print(f"cosim explorer: http://{args.address}:{args.port}", flush=True)
    os.execve(sys.executable, command, env)  # the server takes this process over: stopping it stops the server
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: input errors print one clear message and exit with status 2, never a traceback."""
    args = _parser().parse_args(argv)
    handler = {"sweep": cmd_sweep, "serve": cmd_serve, "run": cmd_run, "map": cmd_map, "list": cmd_list,
               "show": cmd_show, "workload": cmd_workload, "reproduce": cmd_reproduce, "validate": cmd_validate,
               "calibrate": cmd_calibrate, "app": cmd_app}[args.command]
    from cosim.api import INPUT_ERRORS

    try:
        return handler(args)
    except INPUT_ERRORS as exc:
        print(f"cosim: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("cosim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr = open(os.devnull, "w")
        return 0


if __name__ == "__main__":
    sys.exit(main())
