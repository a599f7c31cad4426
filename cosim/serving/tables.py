"""Reading the small tables traffic comes from (arrival traces, length samples): CSV or JSONL, validated by column.

Rows are counted from 1 over the data rows (a CSV's header is not a row; a JSONL file's blank lines are skipped), so
an error names the file, the row, the column, the bad value and what is allowed.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cosim.errors import CosimInputError

SUFFIXES = (".csv", ".jsonl", ".txt")


@dataclass(frozen=True)
class Table:
    """A file's columns as raw values (numpy arrays from a CSV, lists of JSON values from a JSONL file), in file
    order."""

    path: Path
    columns: dict[str, np.ndarray | list]

    @property
    def rows(self) -> int:
        """Number of data rows."""
        return len(next(iter(self.columns.values()), []))

    def require(self, names: tuple[str, ...], what: str) -> str:
        """The first of ``names`` this table has; else an error listing the columns it has."""
        for name in names:
            if name in self.columns:
                return name
        wanted = " or ".join(repr(n) for n in names)
        raise CosimInputError(f"{what} needs a column {wanted}; the file has {sorted(self.columns)}", str(self.path))

    def numbers(self, name: str, *, integer: bool, minimum: float, allowed: str) -> np.ndarray:
        """Column ``name`` as float64, every value finite, ``>= minimum`` and (when ``integer``) whole."""
        raw = self.columns[name]
        values = _as_floats(raw)
        bad = ~np.isfinite(values) | (values < minimum)
        if integer:
            bad |= values != np.round(values)
        if bad.any():
            row = int(np.argmax(bad))
            value = raw[row].item() if isinstance(raw[row], np.generic) else raw[row]
            missing = value is None or value == "" or (isinstance(value, float) and math.isnan(value))
            shown = "an empty, missing or NaN value" if missing else repr(value)
            raise CosimInputError(f"row {row + 1}, column {name!r}: {shown} is not allowed; {name} must be {allowed}",
                                  str(self.path))
        return values


def _as_floats(raw) -> np.ndarray:
    """Values as float64, NaN where one is not a number (booleans and nulls are not)."""
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "iuf":  # a CSV column pandas parsed as numbers
        return raw.astype(np.float64)
    if not isinstance(raw, np.ndarray) and not any(v is True or v is False for v in raw):
        try:
            return np.asarray(raw, dtype=np.float64)  # fast path: numbers or numeric strings, None -> NaN
        except (TypeError, ValueError):
            pass
    return np.array([_to_float(v) for v in raw], dtype=np.float64)


def _to_float(value) -> float:
    if isinstance(value, (bool, np.bool_)) or value is None:
        return np.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def resolve(path: str | Path, base_dir: Path | None) -> Path:
    """``path`` with ``~`` expanded, relative to ``base_dir`` (the config's folder) when it is relative."""
    p = Path(path).expanduser()
    return p if p.is_absolute() or base_dir is None else base_dir / p


def read_table(path: Path, *, header: bool = True) -> Table:
    """Read ``path``: CSV (``.csv``, ``.txt``; with a header row unless ``header`` is False, then one column named
    ``value``) or JSONL (one JSON object per line, or one number per line, named ``value``)."""
    if not path.is_file():
        raise CosimInputError("file not found", str(path))
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise CosimInputError(f"unknown table format {suffix!r}; allowed: {', '.join(SUFFIXES)}", str(path))
    table = _read_jsonl(path) if suffix == ".jsonl" else _read_csv(path, header)
    if table.rows == 0:
        raise CosimInputError("the file has no data rows", str(path))
    return table


def _read_csv(path: Path, header: bool) -> Table:
    """Columns as numpy arrays: numbers where pandas parses a whole column as numbers, else the cells as text
    (empty cells stay empty text, a short row's missing cells are NaN; ``Table.numbers`` rejects both)."""
    import pandas as pd

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)  # more fields than the header: not dropped
            frame = pd.read_csv(path, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig",
                                header=0 if header else None, index_col=False)
    except pd.errors.EmptyDataError:
        raise CosimInputError("the file is empty", str(path)) from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as err:
        raise CosimInputError(f"not a valid CSV table (rows must have the header's fields): {err}", str(path)) from None
    if not header:
        if frame.shape[1] != 1:
            raise CosimInputError(f"a file without a header row must have one column, this one has {frame.shape[1]}",
                                  str(path))
        frame.columns = ["value"]
    return Table(path, {str(name).strip(): frame[name].to_numpy() for name in frame.columns})


def _read_jsonl(path: Path) -> Table:
    records = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise CosimInputError(f"row {len(records) + 1} is not valid JSON ({err.msg})", str(path)) from None
    if records and all(not isinstance(r, (dict, list)) for r in records):
        return Table(path, {"value": records})
    columns: dict[str, list] = {}
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise CosimInputError(f"row {i + 1} is {record!r}; every row must be a JSON object", str(path))
        for name in record:
            if name not in columns:
                columns[name] = [None] * i
        for name, values in columns.items():
            values.append(record.get(name))
    return Table(path, columns)
