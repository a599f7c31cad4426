"""Reading the small tables traffic comes from (arrival traces, length samples): CSV or JSONL, validated by column.

Rows are counted from 1 over the data rows (a CSV's header is not a row; a JSONL file's blank lines are skipped), so
an error names the file, the row, the column, the bad value and what is allowed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cosim.errors import CosimInputError

SUFFIXES = (".csv", ".jsonl", ".txt")


@dataclass(frozen=True)
class Table:
    """A file's columns as raw values (strings from a CSV, JSON values from a JSONL file), in file order."""

    path: Path
    columns: dict[str, list]

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
        values = np.array([_to_float(v) for v in raw], dtype=np.float64)
        bad = ~np.isfinite(values) | (values < minimum)
        if integer:
            bad |= values != np.round(values)
        if bad.any():
            row = int(np.argmax(bad))
            raise CosimInputError(f"row {row + 1}, column {name!r}: {raw[row]!r} is not allowed; {name} must be {allowed}",
                                  str(self.path))
        return values


def _to_float(value) -> float:
    if isinstance(value, bool) or value is None:
        return np.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def read_table(path: Path, *, header: bool = True) -> Table:
    """Read ``path``: CSV (``.csv``, ``.txt``; with a header row unless ``header`` is False, then one column named
    ``value``) or JSONL (one JSON object per line, or one number per line, named ``value``)."""
    if not path.is_file():
        raise CosimInputError("file not found", str(path))
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise CosimInputError(f"unknown table format {suffix!r}; allowed: {', '.join(SUFFIXES)}", str(path))
    text = path.read_text()
    table = _read_jsonl(path, text) if suffix == ".jsonl" else _read_csv(path, text, header)
    if table.rows == 0:
        raise CosimInputError("the file has no data rows", str(path))
    return table


def _read_csv(path: Path, text: str, header: bool) -> Table:
    import csv

    lines = [row for row in csv.reader(text.splitlines()) if row and any(cell.strip() for cell in row)]
    if not header:
        if any(len(row) != 1 for row in lines):
            raise CosimInputError("a headerless file must have exactly one column", str(path))
        return Table(path, {"value": [row[0].strip() for row in lines]})
    if not lines:
        raise CosimInputError("the file is empty", str(path))
    names = [cell.strip() for cell in lines[0]]
    columns: dict[str, list] = {name: [] for name in names}
    for i, row in enumerate(lines[1:], start=1):
        if len(row) != len(names):
            raise CosimInputError(f"row {i} has {len(row)} fields, the header has {len(names)} ({names})", str(path))
        for name, cell in zip(names, row):
            columns[name].append(cell.strip())
    return Table(path, columns)


def _read_jsonl(path: Path, text: str) -> Table:
    records = []
    for line in text.splitlines():
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
            columns.setdefault(name, [None] * i)
        for name, values in columns.items():
            values.append(record.get(name))
    return Table(path, columns)
