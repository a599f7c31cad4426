"""Best mappings of one op, as data: the search's top mappings with their mapping fields and named cost fields."""

from __future__ import annotations

import numpy as np

from hw_models.cost import FIELDS, O_BOUND, O_TIME
from hw_models.hardware import Hardware
from mappings.evaluate import MAPPING_FIELDS, gemm_parts, mapping_of, top_mappings
from mappings.objectives import objective_code
from mappings.scoring import energy, score
from workloads.ir import Workload
from workloads.table import op_table

# Cost fields reported per mapping (the mapping slots are reported as named mapping fields instead).
COST_FIELDS = tuple(f for f in FIELDS if f not in ("bound", "mapping") and not f.startswith("map_"))


def best_mappings(hardware: Hardware, workload: Workload, op_index: int, objective: str = "latency",
                  top: int = 5):
    """The ``top`` best mappings of op ``op_index`` by ``objective``, best first, as a pandas DataFrame: ``part``
    (which GEMM of the op), ``rank``, the kind's mapping fields, ``score`` (the objective value), ``energy_j`` and the
    named cost fields of one instance (``hw_models.cost``), ``bound``. ``frame.attrs["evaluated"]`` lists how many
    mappings each part's search evaluated. ValueError when the device or op has no mapping space."""
    import pandas as pd

    kind = hardware.kind
    if kind not in MAPPING_FIELDS:
        raise ValueError(f"{hardware.name} is a {kind} device: its ops run fixed kernels, with no mapping space "
                         f"(kinds with mappings: {', '.join(MAPPING_FIELDS)})")
    if top < 1:
        raise ValueError(f"top must be >= 1, got {top}")
    if not 0 <= op_index < len(workload.ops):
        raise ValueError(f"op index {op_index} out of range 0..{len(workload.ops) - 1}")
    row = op_table(workload)[op_index]
    code = objective_code(objective)
    rows, evaluated = [], []
    for part, (label, _) in enumerate(gemm_parts(kind, row)):
        records, count = top_mappings(kind, row, hardware.params, code, top, part)
        evaluated.append(count)
        for rank, rec in enumerate(records):
            if not np.isfinite(rec[O_TIME]):
                break
            entry = {"part": label, "rank": rank + 1, **mapping_of(kind, rec), "score": score(rec, code),
                     "energy_j": energy(rec)}
            entry.update({f: rec[FIELDS.index(f)] for f in COST_FIELDS})
            entry["bound"] = hardware.device.bound_names[int(rec[O_BOUND])]
            rows.append(entry)
    columns = ["part", "rank", *MAPPING_FIELDS[kind], "score", "energy_j", *COST_FIELDS, "bound"]
    frame = pd.DataFrame(rows, columns=columns)
    frame.attrs["evaluated"] = evaluated
    return frame
