"""Reading a measurement table (the columns of the calibration contract that fitting and validation use).

Private: the measurement part's ``cosim.calibration.schema`` owns the full schema (``read_measurements``,
``measured_workload``); this reader checks only what fitting needs, so a fit can run on any file that follows the
contract, and is replaced by the schema module's functions where both exist.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from cosim.errors import CosimInputError

# Column → what a value must be (the contract's names and units).
NEEDED = {"measurement_id": "text", "board": "text", "device_name": "text", "scope": "'op' or 'end_to_end'",
          "label": "text", "op_kind": "text", "workload_json": "a JSON workload trace",
          "median_s": "seconds, > 0", "energy_j": "joules (NaN without a power sensor)"}
SCOPES = ("op", "end_to_end")


def read_table(path: str | Path):
    """The measurement table at ``path`` as a DataFrame; a missing file or column, or a bad value, raises
    ``CosimInputError`` naming the file, the column and the measurement."""
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise CosimInputError("no such measurement file", str(path))
    try:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # pyarrow/pandas raise many types for a corrupt file
        raise CosimInputError(f"not a readable measurement table ({type(exc).__name__}: {exc})", str(path)) from None
    missing = [c for c in NEEDED if c not in frame.columns]
    if missing:
        raise CosimInputError(f"missing column(s) {', '.join(missing)}; a measurement table needs: "
                              + ", ".join(f"{c} ({what})" for c, what in NEEDED.items()), str(path))
    if frame.empty:
        raise CosimInputError("the measurement table has no rows", str(path))
    if frame["measurement_id"].duplicated().any():
        dup = frame.loc[frame["measurement_id"].duplicated(), "measurement_id"].iloc[0]
        raise CosimInputError(f"column measurement_id: {dup!r} appears more than once; ids must be unique", str(path))
    for column in ("median_s", "energy_j"):
        if not pd.api.types.is_numeric_dtype(frame[column]):
            raise CosimInputError(f"column {column}: expected numbers in {NEEDED[column]}, got {frame[column].dtype}",
                                  str(path))
    bad = frame[~(frame["median_s"] > 0) | ~frame["median_s"].map(math.isfinite)]
    if not bad.empty:
        row = bad.iloc[0]
        raise CosimInputError(f"column median_s: measurement {row['measurement_id']!r} has {row['median_s']}; "
                              f"times are seconds, finite and > 0", str(path))
    bad = frame[frame["energy_j"].notna() & ~(frame["energy_j"] > 0)]
    if not bad.empty:
        row = bad.iloc[0]
        raise CosimInputError(f"column energy_j: measurement {row['measurement_id']!r} has {row['energy_j']}; "
                              f"energies are joules > 0, or NaN without a power sensor", str(path))
    bad = frame[~frame["scope"].isin(SCOPES)]
    if not bad.empty:
        row = bad.iloc[0]
        raise CosimInputError(f"column scope: measurement {row['measurement_id']!r} has {row['scope']!r}; allowed: "
                              f"{', '.join(SCOPES)}", str(path))
    return frame.reset_index(drop=True)


def row_workload(row, source: str):
    """The workload a measurement row measured, rebuilt from its ``workload_json``."""
    from workloads.trace_io import workload_from_dict

    where = f"{source}: column workload_json, measurement {row['measurement_id']!r}"
    try:
        data = json.loads(row["workload_json"])
    except (TypeError, ValueError) as exc:
        raise CosimInputError(f"not valid JSON ({exc})", where) from None
    try:
        return workload_from_dict(data, where)
    except ValueError as exc:  # TraceFormatError names the op and the problem
        raise CosimInputError(str(exc)) from None
