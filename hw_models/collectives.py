"""Ring collectives over a two-level network: nodes of ``node`` devices on a scale-up fabric (NVLink), nodes joined by
a scale-out network (InfiniBand), as multi-node tensor parallelism runs them.

A group that fits one node (``group <= node``, or ``node <= 0``: one scale-up domain of any size) runs a flat ring on
the scale-up links. A larger group runs hierarchically over ``nodes = group / node`` nodes (every device keeps its
share ``1 / node`` of its node's network bandwidth, one NIC per device):

- all-reduce of ``M`` bytes per device: reduce-scatter inside the node (``node - 1`` steps of ``M / node``), all-reduce
  of the ``M / node`` shard with the same-rank devices of the other nodes over the network (``2 (nodes - 1)`` steps of
  ``M / (node · nodes)``), all-gather inside the node (``node - 1`` steps of ``M / node``);
- all-gather of an ``M``-byte shard per device: all-gather across nodes over the network (``nodes - 1`` steps of
  ``M``), then inside the node (``node - 1`` steps of ``nodes · M``);
- a point-to-point send: one step, on the network when ``group`` spans nodes.

Each step costs its bytes over the link's one-direction bandwidth plus the link's latency. Returns
``(time, bytes sent on the scale-up links, bytes sent on the network)`` per device.
"""

from __future__ import annotations

from numba import njit

from workloads.table import ALL_GATHER, ALL_REDUCE


@njit(cache=True)
def _ring(kind, g, msg):
    """(steps, bytes sent) of a flat ring among ``g`` participants of ``msg`` bytes each (a send: one step)."""
    if kind != ALL_REDUCE and kind != ALL_GATHER:
        return 1.0, msg
    if g <= 1.0:
        return 0.0, 0.0
    if kind == ALL_REDUCE:
        return 2.0 * (g - 1.0), 2.0 * (g - 1.0) * msg / g
    return g - 1.0, (g - 1.0) * msg


@njit(cache=True)
def collective_time(kind, group, msg, node, up_bw, up_lat, net_bw, net_lat):
    """Time and bytes sent (scale-up, network) of one collective; see the module docstring."""
    if node <= 0.0 or group <= node:
        steps, sent = _ring(kind, group, msg)
        return sent / up_bw + steps * up_lat, sent, 0.0
    nodes = group / node
    if kind == ALL_REDUCE:
        s_in, b_in = _ring(ALL_REDUCE, node, msg)  # reduce-scatter + all-gather inside the node
        s_out, b_out = _ring(ALL_REDUCE, nodes, msg / node)
    elif kind == ALL_GATHER:
        s_out, b_out = _ring(ALL_GATHER, nodes, msg)
        s_in, b_in = _ring(ALL_GATHER, node, nodes * msg)
    else:
        s_in, b_in = 0.0, 0.0
        s_out, b_out = 1.0, msg
    time = b_in / up_bw + s_in * up_lat + b_out / net_bw + s_out * net_lat
    return time, b_in, b_out
