"""Mapping spaces, searches and the evaluation driver.

- ``driver``: the one batched loop over (design point × op) cells, dispatching to each kind's op-cost kernel
  ``op_cost(row, params, objective, settings, out)``; ``bindings`` binds a device kind to it as
  ``map_and_cost(table, params, objective) -> (points, ops, N_OUT)`` (cost records, ``hw_models.cost``).
- ``scoring``: the one ranking of cost records (objective, then tie-breakers within ``TIE_TOLERANCE``).
- per-kind searches: ``gpu_tiles`` (threadblock tile × split-K), ``spatial_search`` (dataflow × loop order × tiles,
  with ``cache`` reusing results across a sweep), ``iot_tiling`` (L1 tiles × loop order).
- ``evaluate``: an explicit mapping as input (``evaluate_mapping``), an op's top mappings, mapping fields by name.
- ``placement`` assigns ops to the units of heterogeneous devices from per-unit costs.
"""

import hw_models  # noqa: F401  (sets Numba's kernel cache folder before any kernel here is compiled)
