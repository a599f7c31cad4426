"""The operation counts of a scalar ``kernel`` op, read from its table row, for the kinds that price them one by one
(the IoT core and the CPU)."""

from __future__ import annotations

from numba import njit

from workloads.table import C_KERNEL_COUNTS


@njit(cache=True)
def kernel_counts(row):
    """(int_add, int_mul, int_div, int_cmp, fp_add, fp_mul, fp_div, fp_cmp, fp_exp, fp_sqrt, loads, stores) of a
    ``kernel`` op's row."""
    c = C_KERNEL_COUNTS
    return (row[c], row[c + 1], row[c + 2], row[c + 3], row[c + 4], row[c + 5], row[c + 6], row[c + 7], row[c + 8],
            row[c + 9], row[c + 10], row[c + 11])


@njit(cache=True)
def is_kernel_op(row):
    """Whether a row is a scalar ``kernel`` op: it has an operation count."""
    for j in range(12):
        if row[C_KERNEL_COUNTS + j] > 0.0:
            return True
    return False
