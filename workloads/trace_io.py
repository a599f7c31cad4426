"""Save and load workload traces as JSON or Parquet, with a schema version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workloads.ir import Op, Workload

SCHEMA_VERSION = 1


class TraceFormatError(ValueError):
    """A trace file is malformed or from a newer schema; the message names the file and the problem."""


def workload_to_dict(workload: Workload) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "name": workload.name,
        "items": workload.items,
        "item_unit": workload.item_unit,
        "params": workload.params,
        "memory_bytes": workload.memory_bytes,
        "devices": workload.devices,
        "ops": [op.to_dict() for op in workload.ops],
    }


def workload_from_dict(data: Any, source: str = "<dict>") -> Workload:
    """Rebuild a workload, checking the schema version and every op."""
    if not isinstance(data, dict) or "ops" not in data:
        raise TraceFormatError(f"{source}: not a cosim trace (expected a mapping with 'schema_version' and 'ops')")
    version = data.get("schema_version")
    if not isinstance(version, int):
        raise TraceFormatError(f"{source}: missing or invalid schema_version {version!r}")
    if version > SCHEMA_VERSION:
        raise TraceFormatError(f"{source}: schema_version {version} is newer than this cosim reads "
                               f"({SCHEMA_VERSION}); upgrade cosim")
    if not isinstance(data["ops"], list):
        raise TraceFormatError(f"{source}: 'ops' must be a list of op mappings, got {type(data['ops']).__name__}")
    ops = []
    for i, raw in enumerate(data["ops"]):
        try:
            if not isinstance(raw, dict):
                raise TypeError(f"expected a mapping, got {raw!r}")
            ops.append(Op(**raw))
        except (TypeError, ValueError) as exc:
            raise TraceFormatError(f"{source}: ops[{i}]: {exc}") from None
    try:
        return Workload(name=str(data.get("name", "trace")), ops=ops, items=float(data.get("items", 1.0)),
                        item_unit=str(data.get("item_unit", "item")), params=dict(data.get("params", {})),
                        memory_bytes=dict(data.get("memory_bytes", {})), devices=int(data.get("devices", 1)))
    except (TypeError, ValueError) as exc:
        raise TraceFormatError(f"{source}: invalid workload header: {exc}") from None


def save_trace(workload: Workload, path: str | Path) -> Path:
    """Write a trace; the suffix picks the format (``.json`` or ``.parquet``)."""
    path = Path(path)
    data = workload_to_dict(workload)
    if path.suffix == ".json":
        path.write_text(json.dumps(data, indent=1))
    elif path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = [{**op, "dims": json.dumps(op["dims"]), "tags": json.dumps(op["tags"])} for op in data.pop("ops")]
        table = pa.Table.from_pylist(rows) if rows else pa.table({})
        meta = {b"cosim": json.dumps(data).encode()}
        pq.write_table(table.replace_schema_metadata(meta), path)
    else:
        raise TraceFormatError(f"{path}: unknown trace format {path.suffix!r}; allowed: .json, .parquet")
    return path


def load_trace(path: str | Path) -> Workload:
    """Read a trace written by :func:`save_trace`."""
    path = Path(path)
    if not path.exists():
        raise TraceFormatError(f"{path}: no such trace file")
    try:
        if path.suffix == ".json":
            data = json.loads(path.read_text())
        elif path.suffix == ".parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            meta = (table.schema.metadata or {}).get(b"cosim")
            if meta is None:
                raise TraceFormatError(f"{path}: Parquet file has no cosim metadata")
            data = json.loads(meta)
            data["ops"] = [{**r, "dims": json.loads(r["dims"]), "tags": json.loads(r["tags"])}
                           for r in table.to_pylist()]
        else:
            raise TraceFormatError(f"{path}: unknown trace format {path.suffix!r}; allowed: .json, .parquet")
    except TraceFormatError:
        raise
    except Exception as exc:  # corrupt JSON or Parquet
        raise TraceFormatError(f"{path}: cannot read trace: {exc}") from None
    return workload_from_dict(data, str(path))
