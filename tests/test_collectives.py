"""Collectives over nodes of NVLink-connected GPUs joined by a scale-out network, against hand calculations
(H100-SXM5-80GB: 450 GB/s NVLink per direction, 1.5 us per step; nodes of 8; 400 GB/s per node of InfiniBand, so
50 GB/s per GPU, 2 us per step)."""

from __future__ import annotations

import pytest

import cosim
from hw_models.collectives import collective_time
from hw_models.cost import O_E_LINK, O_TIME
from workloads.ir import Op, Workload
from workloads.table import ALL_GATHER, ALL_REDUCE, P2P, op_table

NV, NV_LAT, IB, IB_LAT = 450e9, 1.5e-6, 50e9, 2e-6
MSG = 64e6


def test_group_within_a_node_is_a_flat_nvlink_ring():
    t, up, net = collective_time(ALL_REDUCE, 8.0, MSG, 8.0, NV, NV_LAT, IB, IB_LAT)
    assert up == pytest.approx(2 * 7 / 8 * MSG) and net == 0.0
    assert t == pytest.approx(2 * 7 / 8 * MSG / NV + 14 * NV_LAT)
    # no node size: one NVLink domain of any size, as before
    t16, _, net16 = collective_time(ALL_REDUCE, 16.0, MSG, 0.0, NV, NV_LAT, IB, IB_LAT)
    assert net16 == 0.0 and t16 == pytest.approx(2 * 15 / 16 * MSG / NV + 30 * NV_LAT)


def test_all_reduce_across_two_nodes_is_hierarchical():
    t, up, net = collective_time(ALL_REDUCE, 16.0, MSG, 8.0, NV, NV_LAT, IB, IB_LAT)
    # reduce-scatter + all-gather in the node (7/8 M each), all-reduce of the M/8 shard between the 2 nodes
    assert up == pytest.approx(2 * 7 / 8 * MSG)
    assert net == pytest.approx(2 * 1 / 2 * MSG / 8)
    assert t == pytest.approx(2 * 7 / 8 * MSG / NV + 14 * NV_LAT + MSG / 8 / IB + 2 * IB_LAT)


def test_all_gather_across_two_nodes():
    t, up, net = collective_time(ALL_GATHER, 16.0, MSG, 8.0, NV, NV_LAT, IB, IB_LAT)
    assert net == pytest.approx(MSG)  # the other node's same-rank shard
    assert up == pytest.approx(7 * 2 * MSG)  # then 7 steps of the two shards inside the node
    assert t == pytest.approx(MSG / IB + IB_LAT + 7 * 2 * MSG / NV + 7 * NV_LAT)


def test_send_between_nodes_uses_the_network():
    t, up, net = collective_time(P2P, 16.0, MSG, 8.0, NV, NV_LAT, IB, IB_LAT)
    assert (up, net) == (0.0, MSG) and t == pytest.approx(MSG / IB + IB_LAT)


def _collective(hw, group):
    from mappings.driver import map_and_cost

    op = Op("ar", "collective", {"elements": 32e6, "group": group}, tags={"collective": "all_reduce"})
    return map_and_cost("gpu", op_table(Workload("t", [op])), hw.params[None, :], 0)[0, 0]


def test_h100_preset_crosses_infiniband_beyond_eight_gpus():
    h100 = cosim.load_hardware("H100-SXM5-80GB")
    one_domain = cosim.load_hardware("H100-SXM5-80GB", {"interconnect.devices_per_node": 0})
    inside = _collective(h100, 8)
    assert inside[O_TIME] == pytest.approx(_collective(one_domain, 8)[O_TIME])
    across, flat = _collective(h100, 16), _collective(one_domain, 16)
    from hw_models.gpu import P

    launch = h100.params[P["launch_s"]]  # the collective kernel's launch
    assert across[O_TIME] == pytest.approx(2 * 7 / 8 * MSG / NV + 14 * NV_LAT + MSG / 8 / IB + 2 * IB_LAT + launch)
    assert across[O_TIME] > flat[O_TIME]  # 50 GB/s per GPU of network is slower than NVLink
    assert across[O_E_LINK] == pytest.approx(2 * 7 / 8 * MSG * 5.5e-12 * 8 + MSG / 8 * 25e-12 * 8)


def test_nodes_without_a_network_are_rejected():
    from hw_models.errors import HardwareConfigError

    with pytest.raises(HardwareConfigError, match="network_bandwidth_gbps"):
        cosim.load_hardware("A100-SXM4-80GB", {"interconnect.devices_per_node": 8})
