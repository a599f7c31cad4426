"""The measurement table: its columns, validated reading, crash-safe appending, and the measured workload of a row.

One row per measured thing (an IR op, ``scope='op'``, or a whole workload run back to back, ``scope='end_to_end'``).
Times are seconds per run of the measured thing; ``workload_json`` holds the measured workload as written by
:func:`workloads.trace_io.workload_to_dict`, the only way to rebuild what was measured.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

from cosim.errors import CosimInputError
from workloads.ir import Workload
from workloads.trace_io import TraceFormatError, workload_from_dict

# Column name -> kind: "str", "int", "float", "bool". The order is the file's column order.
COLUMNS: dict[str, str] = {
    "measurement_id": "str",
    "board": "str",
    "device_name": "str",
    "scope": "str",
    "label": "str",
    "op_kind": "str",
    "dtype": "str",
    "workload_json": "str",
    "repetitions": "int",
    "median_s": "float",
    "min_s": "float",
    "max_s": "float",
    "time_capped": "bool",
    "spread": "float",
    "energy_j": "float",
    "power_source": "str",
    "threads": "int",
    "clock_mhz": "float",
    "host": "str",
    "date": "str",
    "cosim_version": "str",
    "library_versions": "str",
}
BOARDS = ("host-cpu", "cuda", "gap8", "cortex-m", "fpga", "jetson")
SCOPES = ("op", "end_to_end")
TIME_COLUMNS = ("median_s", "min_s", "max_s")
# Unit-suffixed spellings people write by hand; naming them turns "missing column" into "wrong unit".
_OTHER_UNITS = ("_ms", "_us", "_ns", "_cycles", "_mj", "_uj")


def measurement_id(board: str, device_name: str, label: str, date: str) -> str:
    """A short stable id: the first 12 hex digits of the SHA-256 of board, device, label and date."""
    text = "\x1f".join((board, device_name, label, date))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _fail(path: Path, message: str) -> CosimInputError:
    return CosimInputError(message, source=str(path))


def _missing_column(path: Path, name: str, present: Iterable[str]) -> CosimInputError:
    stem = name.rsplit("_", 1)[0] if name.endswith(("_s", "_j")) else name
    wrong = [c for c in present if c.startswith(stem + "_") and c.endswith(_OTHER_UNITS)]
    if wrong:
        return _fail(path, f"column {wrong[0]!r} has the wrong unit: the table needs {name!r} "
                           f"({'seconds' if name.endswith('_s') else 'joules'})")
    return _fail(path, f"missing column {name!r}; required columns: {', '.join(COLUMNS)}")


def _kind_checks():
    from pandas.api import types

    return {"int": types.is_integer_dtype, "bool": types.is_bool_dtype,
            "float": lambda d: types.is_numeric_dtype(d) and not types.is_bool_dtype(d)}


def validate_frame(df, path: str | Path):
    """Check a measurement table (columns, types, positive times, known boards and scopes); returns it with the
    columns in :data:`COLUMNS` order first. Errors name ``path`` and the column."""
    path = Path(path)
    kind_checks = _kind_checks()
    for name in COLUMNS:
        if name not in df.columns:
            raise _missing_column(path, name, df.columns)
    for name, kind in COLUMNS.items():
        col = df[name]
        if kind == "str":
            bad = ~col.map(lambda v: isinstance(v, str))
            if bad.any():
                i = int(bad.to_numpy().nonzero()[0][0])
                raise _fail(path, f"column {name!r}, row {i}: {col.iloc[i]!r} is not a string")
        elif not kind_checks[kind](col.dtype):
            raise _fail(path, f"column {name!r} holds {col.dtype} values; it must hold {kind} values")
    for name in TIME_COLUMNS:
        times = df[name].astype(float)
        bad = ~(times > 0) | ~times.map(math.isfinite)
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise _fail(path, f"column {name!r}, row {i}: time {times.iloc[i]!r} must be a finite number of "
                              "seconds > 0")
    order = (df["min_s"] <= df["median_s"] * (1 + 1e-9)) & (df["median_s"] <= df["max_s"] * (1 + 1e-9))
    if not order.all():
        i = int((~order).to_numpy().nonzero()[0][0])
        raise _fail(path, f"columns 'min_s', 'median_s', 'max_s', row {i}: need min <= median <= max")
    if (df["repetitions"] < 1).any():
        raise _fail(path, "column 'repetitions': every row needs at least one repetition")
    for name, allowed in (("board", BOARDS), ("scope", SCOPES)):
        bad = ~df[name].isin(allowed)
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise _fail(path, f"column {name!r}, row {i}: unknown value {df[name].iloc[i]!r}; allowed: "
                              f"{', '.join(allowed)}")
    energy = df["energy_j"].astype(float)
    if (energy <= 0).any():
        raise _fail(path, "column 'energy_j': energies must be > 0 joules (NaN where no sensor)")
    if df["measurement_id"].duplicated().any():
        dup = df["measurement_id"][df["measurement_id"].duplicated()].iloc[0]
        raise _fail(path, f"column 'measurement_id': id {dup!r} appears more than once")
    for i, (ident, text) in enumerate(zip(df["measurement_id"], df["workload_json"])):
        try:
            workload_from_dict(json.loads(text), f"row {i}")
        except (ValueError, TraceFormatError) as exc:
            raise _fail(path, f"row {i}, measurement {ident}: column 'workload_json': {exc}") from None
    rest = [c for c in df.columns if c not in COLUMNS]
    return df[list(COLUMNS) + rest].reset_index(drop=True)


def read_measurements(path: str | Path):
    """A measurement table from Parquet, validated; a missing, unreadable or malformed file raises
    :class:`~cosim.errors.CosimInputError` naming the file (and the column)."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise _fail(path, "no such measurement file")
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # not Parquet, truncated, …
        raise _fail(path, f"cannot read as a Parquet measurement table: {exc}") from None
    return validate_frame(df, path)


def _frame(rows: list[Mapping[str, Any]]):
    import pandas as pd

    df = pd.DataFrame(list(rows))
    for name in COLUMNS:
        if name not in df.columns:
            raise ValueError(f"measurement row lacks column {name!r}")
    extra = [c for c in df.columns if c not in COLUMNS]
    df = df[list(COLUMNS) + extra]
    types = {"int": "int64", "float": "float64", "bool": "bool", "str": "object"}
    return df.astype({name: types[kind] for name, kind in COLUMNS.items()})


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, write) -> None:
    """Write ``path`` through ``write(tmp_path)`` into a temporary file in the same folder, fsync it and rename it
    over ``path``: a reader (or a crash) sees the old file or the new one, never a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; a table is an ordinary file
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def write_measurements(path: str | Path, df) -> Path:
    """Write a whole measurement table atomically (validated first)."""
    path = Path(path)
    df = validate_frame(df, path)
    write_atomic(path, lambda tmp: df.to_parquet(tmp, index=False))
    return path


def append_measurements(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    """Add ``rows`` to the table at ``path`` (created when absent), rewriting it atomically so an interrupted run
    keeps every row appended before."""
    import pandas as pd

    path = Path(path)
    new = _frame(list(rows))
    if path.exists():
        new = pd.concat([read_measurements(path), new], ignore_index=True)
    return write_measurements(path, new)


def measured_workload(row: Mapping[str, Any], source: str | None = None) -> Workload:
    """The workload a row measured (one op for ``scope='op'``), rebuilt from its ``workload_json``; errors name
    ``source`` (the file) when given."""
    ident = row.get("measurement_id", "?")
    where = f"{source}: measurement {ident}" if source else f"measurement {ident}"
    try:
        return workload_from_dict(json.loads(row["workload_json"]), where)
    except json.JSONDecodeError as exc:
        raise CosimInputError(f"{where}: column 'workload_json' is not JSON: {exc}") from None
