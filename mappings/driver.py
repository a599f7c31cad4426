"""The one evaluation driver: a batched loop over (design point × op) cells that calls the op-cost kernel of a
device kind.

Every kind plugs in one Numba function ``op_cost(row, params, objective, settings, out)`` that fills the cost record
(``hw_models.cost``) of one op at one design point under the op's best mapping (``mappings.scoring`` ranks them);
``settings`` carries kind-specific search settings (the spatial search's max_tiles, budget, seed). The loop
dispatches on a kind code inside one ``@njit(parallel=True, cache=True)`` function, so Numba's on-disk cache keeps
it (a kernel built by a closure or factory cannot be cached and would recompile in every process). Adding a kind is
one ``elif`` branch here and one entry in ``KERNEL_CODES``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from hw_models.cost import N_OUT
from hw_models.cpu_kernels import op_cost as cpu_op_cost
from hw_models.logic_pim_kernels import op_cost as logic_pim_op_cost
from hw_models.pim_kernels import op_cost as pim_op_cost
from mappings.gpu_tiles import op_cost as gpu_op_cost
from mappings.iot_tiling import op_cost as iot_op_cost
from mappings.spatial_search import op_cost as spatial_op_cost

# Kernel codes of the op-cost functions (an FPGA design is a spatial-template instance).
GPU, SPATIAL, PIM, LOGIC_PIM, IOT, CPU = range(6)
KERNEL_CODES = {"gpu": GPU, "spatial": SPATIAL, "fpga": SPATIAL, "pim": PIM, "logic_pim": LOGIC_PIM, "iot": IOT,
                "cpu": CPU}
NO_SETTINGS = np.zeros(0)


@njit(cache=True)
def op_cost(code, row, params, objective, settings, out):
    """The cost record of one op at one design point on the kind with kernel ``code``."""
    if code == GPU:
        gpu_op_cost(row, params, objective, settings, out)
    elif code == SPATIAL:
        spatial_op_cost(row, params, objective, settings, out)
    elif code == PIM:
        pim_op_cost(row, params, objective, settings, out)
    elif code == LOGIC_PIM:
        logic_pim_op_cost(row, params, objective, settings, out)
    elif code == CPU:
        cpu_op_cost(row, params, objective, settings, out)
    else:
        iot_op_cost(row, params, objective, settings, out)


@njit(parallel=True, cache=True)
def cost_pairs(code, table, params, op_index, point_index, objective, settings):
    """Cost records of the cells (table[op_index[j]], params[point_index[j]]), in parallel: (cells, N_OUT)."""
    result = np.zeros((op_index.size, N_OUT))
    for j in prange(op_index.size):
        op_cost(code, table[op_index[j]], params[point_index[j]], objective, settings, result[j])
    return result


def map_and_cost(kind: str, table: np.ndarray, params: np.ndarray, objective: int,
                 settings: np.ndarray = NO_SETTINGS) -> np.ndarray:
    """Costs of every op (rows of ``table``) at every design point (rows of ``params``): (points, ops, N_OUT)."""
    table = np.ascontiguousarray(table, dtype=np.float64)
    params = np.ascontiguousarray(np.atleast_2d(params), dtype=np.float64)
    n_points, n_ops = params.shape[0], table.shape[0]
    cells = np.arange(n_points * n_ops, dtype=np.int64)
    flat = cost_pairs(KERNEL_CODES[kind], table, params, cells % max(n_ops, 1), cells // max(n_ops, 1),
                      int(objective), np.asarray(settings, dtype=np.float64))
    return flat.reshape(n_points, n_ops, N_OUT)
