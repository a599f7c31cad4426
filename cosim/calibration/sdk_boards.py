"""Boards measured with their own SDKs (GAP8/PULP performance counters, a Cortex-M cycle counter, an FPGA run,
Jetson power rails): a CSV in the template's format becomes a measurement table.

One CSV row per measured thing. Columns (``templates/sdk_board_template.csv``):

- ``label`` (required): what was measured, unique within the file.
- ``scope``: ``op`` (default) or ``end_to_end``.
- for ``op``: ``op_kind`` (an IR op kind), ``dims`` (``m=64;n=64;k=64``), optional ``tags`` (``weight=1``);
  for ``end_to_end``: ``workload``, a catalog workload and its parameters (``ds-cnn-s batch=1 dtype=int8``).
- ``dtype`` (required): an IR dtype name.
- time, either ``time_s`` (seconds per run) or ``cycles`` with ``clock_mhz``; optional ``min_s`` / ``max_s`` or
  ``min_cycles`` / ``max_cycles`` (default: the median).
- ``repetitions`` (default 1), ``energy_j`` (empty when not measured) and ``power_source`` (``rails``, ``meter``…),
  ``threads`` (cores used, default 1), ``device_name``, ``host``, ``date`` (ISO 8601), ``sdk`` (SDK and version).
- ``origin``: ``measured`` (your board), ``published`` (from a paper or datasheet; put the citation in ``source``)
  or ``example`` (illustrative rows of the shipped example file). Rows marked ``example`` are refused: they show the
  format and are not measurements.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from cosim.calibration.environment import cosim_version, utc_now
from cosim.calibration.schema import measurement_id, write_measurements
from cosim.errors import CosimInputError
from workloads.dtypes import DTYPE_BITS
from workloads.ir import OP_KINDS, Op, Workload
from workloads.trace_io import workload_to_dict

SDK_BOARDS = ("gap8", "cortex-m", "fpga", "jetson")
ORIGINS = ("measured", "published", "example")
TEMPLATE = Path(__file__).parent / "templates" / "sdk_board_template.csv"
EXAMPLE = Path(__file__).parent / "templates" / "sdk_board_example.csv"


class _RowError(Exception):
    pass


def _pairs(text: str, column: str) -> dict[str, str]:
    out = {}
    for item in filter(None, (p.strip() for p in text.split(";"))):
        if "=" not in item:
            raise _RowError(f"column {column!r}: {item!r} must look like name=value (items separated by ';')")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def _number(row: dict, column: str, default: float | None = None) -> float | None:
    text = (row.get(column) or "").strip()
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise _RowError(f"column {column!r}: {text!r} is not a number") from None


def _workload(row: dict, dtype: str) -> tuple[Workload, str, str]:
    scope = (row.get("scope") or "op").strip()
    if scope == "end_to_end":
        spec = (row.get("workload") or "").split()
        if not spec:
            raise _RowError("column 'workload': an end_to_end row names a catalog workload and its parameters")
        from workloads.registry import load_workload

        params = _pairs(";".join(spec[1:]), "workload")
        try:
            wl = load_workload(spec[0], **{k: int(v) if v.isdigit() else v for k, v in params.items()})
        except (KeyError, ValueError, TypeError) as exc:
            raise _RowError(f"column 'workload': {exc}") from None
        return wl, scope, "workload"
    if scope != "op":
        raise _RowError(f"column 'scope': {scope!r} is unknown; allowed: op, end_to_end")
    kind = (row.get("op_kind") or "").strip()
    if kind not in OP_KINDS:
        raise _RowError(f"column 'op_kind': {kind!r} is unknown; allowed: {', '.join(OP_KINDS)}")
    try:
        dims = {k: int(v) for k, v in _pairs(row.get("dims") or "", "dims").items()}
    except ValueError as exc:
        raise _RowError(f"column 'dims': {exc}") from None
    tags = {k: int(v) if v.lstrip("-").isdigit() else v for k, v in _pairs(row.get("tags") or "", "tags").items()}
    bits = DTYPE_BITS[dtype]
    try:
        op = Op(row["label"], kind, dims, act_bits=bits, weight_bits=bits, out_bits=bits, tags=tags, dtype=dtype)
    except ValueError as exc:
        raise _RowError(f"columns 'op_kind'/'dims': {exc}") from None
    return Workload(row["label"], [op], params={"calibration": "op"}), scope, kind


def _seconds(row: dict, which: str, median: float | None = None) -> float | None:
    """A time of the row in seconds: ``{which}_s``, else ``{which}_cycles`` / clock."""
    direct = _number(row, "time_s" if which == "median" else f"{which}_s")
    cycles = _number(row, "cycles" if which == "median" else f"{which}_cycles")
    if direct is not None:
        return direct
    if cycles is not None:
        clock = _number(row, "clock_mhz")
        if not clock or clock <= 0:
            raise _RowError("column 'clock_mhz': cycles need the clock in MHz (> 0) to become seconds")
        return cycles / (clock * 1e6)
    if which == "median":
        raise _RowError("columns 'time_s' / 'cycles': each row needs a time in seconds or a cycle count")
    return median


def convert_rows(rows: list[dict], board: str, source: str, line_numbers: list[int] | None = None):
    """Measurement-table rows (a DataFrame) from CSV rows; errors name ``source``, the line and the column
    (``line_numbers[i]`` is row i's line in the file; default: the header on line 1, then one row a line)."""
    import pandas as pd

    if board not in SDK_BOARDS:
        raise CosimInputError(f"board {board!r} is not an SDK board; allowed: {', '.join(SDK_BOARDS)}", source)
    out, seen = [], set()
    for n, row in enumerate(rows):
        i = line_numbers[n] if line_numbers else n + 2
        try:
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            origin = row.get("origin") or "measured"
            if origin not in ORIGINS:
                raise _RowError(f"column 'origin': {origin!r} is unknown; allowed: {', '.join(ORIGINS)}")
            if origin == "example":
                raise _RowError("column 'origin': this row is an illustrative example of the format, not a "
                                "measurement; put your board's numbers in its place and mark it 'measured'")
            if not row.get("label"):
                raise _RowError("column 'label': every row needs a label")
            if row["label"] in seen:
                raise _RowError(f"column 'label': {row['label']!r} appears twice")
            seen.add(row["label"])
            dtype = row.get("dtype", "")
            if dtype not in DTYPE_BITS:
                raise _RowError(f"column 'dtype': {dtype!r} is unknown; allowed: {', '.join(DTYPE_BITS)}")
            wl, scope, kind = _workload(row, dtype)
            median = _seconds(row, "median")
            energy = _number(row, "energy_j", math.nan)
            date = row.get("date") or utc_now()
            device = row.get("device_name") or board
            versions = {"sdk": row.get("sdk", ""), "origin": origin, "source": row.get("source", "")}
            out.append({
                "measurement_id": measurement_id(board, device, row["label"], date), "board": board,
                "device_name": device, "scope": scope, "label": row["label"], "op_kind": kind, "dtype": dtype,
                "workload_json": json.dumps(workload_to_dict(wl), sort_keys=True),
                "repetitions": int(_number(row, "repetitions", 1)), "median_s": median,
                "min_s": _seconds(row, "min", median), "max_s": _seconds(row, "max", median),
                "time_capped": False, "spread": 0.0, "energy_j": energy,
                "power_source": (row.get("power_source") or "none") if math.isfinite(energy) else "none",
                "threads": int(_number(row, "threads", 1)), "clock_mhz": _number(row, "clock_mhz", math.nan),
                "host": row.get("host") or "", "date": date, "cosim_version": cosim_version(),
                "library_versions": json.dumps(versions, sort_keys=True),
            })
            last = out[-1]
            last["spread"] = (last["max_s"] - last["min_s"]) / last["median_s"] if last["median_s"] else 0.0
        except _RowError as exc:
            raise CosimInputError(f"line {i}: {exc}", source) from None
    if not out:
        raise CosimInputError("no measurement rows", source)
    return pd.DataFrame(out)


def convert(csv_path: str | Path, board: str, output: str | Path, overwrite: bool = False) -> Path:
    """Convert an SDK board's CSV into a measurement table at ``output`` (written atomically)."""
    csv_path, output = Path(csv_path), Path(output)
    if not csv_path.is_file():
        raise CosimInputError("no such CSV file", str(csv_path))
    if output.suffix != ".parquet":
        raise CosimInputError(f"output {output}: a measurement table is a .parquet file")
    if output.exists() and not overwrite:
        raise CosimInputError(f"output {output} exists; pass --overwrite to replace it")
    with open(csv_path, newline="") as f:
        lines = f.read().splitlines()
    kept = [(n, line) for n, line in enumerate(lines, start=1) if line.strip() and not line.startswith("#")]
    rows = list(csv.DictReader(line for _, line in kept))
    return write_measurements(output, convert_rows(rows, board, str(csv_path), [n for n, _ in kept[1:]]))
