"""KV-transfer links of disaggregated serving: preset figures, time and energy by hand, port contention in SimPy."""

import pytest
import simpy

from cosim.errors import CosimInputError
from cosim.serving.kv_transfer import KVLink, KVTransfers, resolve_link
from cosim.serving.spec import LinkSpec
from hw_models.hardware import load_hardware


def test_nvlink_preset_of_the_prefill_hardware_by_hand():
    # H100 preset: NVLink 900 GB/s bidirectional -> 450 GB/s one way, 1.5 us, 5.5 pJ/bit; two lanes (TP=2 pools).
    link = resolve_link(LinkSpec(preset="nvlink"), load_hardware("H100-SXM5-80GB"), lanes=2)
    assert (link.bandwidth_Bps, link.latency_s, link.lanes) == (450e9, pytest.approx(1.5e-6), 2)
    assert link.time_s(1e9) == pytest.approx(1.5e-6 + 1e9 / 900e9)
    assert link.energy_j(1e9) == pytest.approx(1e9 * 8 * 5.5e-12)


def test_network_and_hetero_link_presets_by_name():
    # H100: 400 GB/s per node of 8 -> 50 GB/s per GPU, 2 us, 25 pJ/bit (the collectives' figures).
    net = resolve_link(LinkSpec(preset="H100-SXM5-80GB:network"))
    assert (net.bandwidth_Bps, net.latency_s, net.energy_per_byte_j) == pytest.approx((50e9, 2e-6, 25 * 8e-12))
    pcie = resolve_link(LinkSpec(preset="A100+H20-PCIe:pcie"))
    assert (pcie.bandwidth_Bps, pcie.latency_s) == pytest.approx((31.5e9, 3.5e-6))
    # A heterogeneous device with a GPU unit uses that unit's NVLink.
    duplex = resolve_link(LinkSpec(preset="nvlink"), load_hardware("Duplex"))
    assert duplex.bandwidth_Bps == 450e9


def test_given_fields_override_the_preset():
    link = resolve_link(LinkSpec(preset="H100-SXM5-80GB:nvlink", bandwidth_gbps=100, latency_s=1e-3))
    assert (link.bandwidth_Bps, link.latency_s, link.energy_per_byte_j) == pytest.approx((100e9, 1e-3, 44e-12))
    explicit = resolve_link(LinkSpec(bandwidth_gbps=25, latency_s=5e-6, e_pj_per_bit=10))
    assert explicit.time_s(25e9) == pytest.approx(1.0 + 5e-6)
    assert explicit.energy_j(1.0) == pytest.approx(80e-12)


@pytest.mark.parametrize("spec, hardware, match", [
    (LinkSpec(), None, "bandwidth_gbps"),
    (LinkSpec(preset="network"), "A100-SXM4-80GB", "devices_per_node"),
    (LinkSpec(preset="nvlink"), "NeuPIMs", "no GPU interconnect"),
    (LinkSpec(preset="H100-SXM5-80GB:warp"), None, "allowed: nvlink, network"),
    (LinkSpec(preset="No-Such-Board:nvlink"), None, "No-Such-Board"),
    (LinkSpec(preset="nvlink"), None, "PRESET:nvlink"),
])
def test_bad_links_name_the_field(spec, hardware, match):
    with pytest.raises(CosimInputError, match=match):
        resolve_link(spec, load_hardware(hardware) if hardware else None)


def _finish_times(pairs, link=KVLink(1e9, 0.5, 0.0), nbytes=1e9):
    env = simpy.Environment()
    ports = KVTransfers(env, link, senders=2, receivers=2)
    done = {}

    def one(k, s, r):
        yield env.process(ports.send(s, r, nbytes))
        done[k] = env.now

    for k, (s, r) in enumerate(pairs):
        env.process(one(k, s, r))
    env.run()
    return [done[k] for k in range(len(pairs))], ports


def test_ports_serve_one_transfer_at_a_time():
    # 1 GB at 1 GB/s + 0.5 s latency = 1.5 s each.
    assert _finish_times([(0, 0), (1, 1)])[0] == [1.5, 1.5]  # disjoint ports: in parallel
    assert _finish_times([(0, 0), (0, 1)])[0] == [1.5, 3.0]  # one sender: in turn
    times, ports = _finish_times([(0, 1), (1, 1)])  # one receiver: in turn
    assert times == [1.5, 3.0] and ports.bytes_moved == 2e9
