"""Mapping spaces and search kernels.

Every device kind exposes the same mapping interface, used by the engine for every op:

- ``map_and_cost(table, params, objective) -> costs`` (Numba, batched): for each design point (row of ``params``)
  and each op (row of ``table``, see ``workloads.table``) search the op's mapping space under the objective
  (0 latency, 1 energy, 2 EDP) and return the best mapping's cost record (``hw_models.cost`` slots, including the
  mapping fields) — ``gpu_tiles`` (threadblock tile × split-K) and ``spatial_search`` (dataflow × loop order × tiles).
- a top-k search for one op, used by ``cosim map`` to show the runners-up.
- ``placement`` assigns ops to the units of heterogeneous devices from per-unit costs.
"""
