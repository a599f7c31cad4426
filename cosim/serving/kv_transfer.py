"""Moving a request's KV cache from a prefill instance to a decode instance (disaggregated serving).

A link is described per device and direction, as the hardware presets describe theirs: ``bandwidth_Bps`` (bytes/s),
``latency_s`` and ``energy_per_byte_j``. An instance of ``d`` devices holds its KV cache sharded over them (tensor
parallel: heads; pipeline parallel: layers), so each device sends its shard over its own link and the transfer runs
on ``lanes = min(d_prefill, d_decode)`` links at once: time = latency + bytes / (lanes x bandwidth).

Contention: each prefill instance has one egress port and each decode instance one ingress port, each a SimPy
resource serving one transfer at a time, first come first served; a transfer holds the sender's port, then the
receiver's. One at a time rather than bandwidth shared because a KV transfer is one large bulk send (tens to hundreds
of MB) that saturates the link by itself: serving transfers in turn finishes the last of them when sharing would,
and every earlier one sooner, without re-timing the transfers in flight at every arrival.

Link presets (``LinkSpec.preset``): ``nvlink`` or ``network`` — the scale-up or scale-out link of a GPU preset's
``interconnect`` (NVLink: half its bidirectional figure; network: the node's NIC bandwidth over its devices, as the
collectives use them), with the preset's latency and energy per bit — of the prefill pool's hardware (a
heterogeneous device: its GPU unit); or ``PRESET:LINK`` for another preset's link, where LINK is ``nvlink``,
``network`` or one of a heterogeneous preset's ``links`` (e.g. ``A100+H20-PCIe:pcie``). Fields given in the
``LinkSpec`` (``bandwidth_gbps``, ``latency_s``, ``e_pj_per_bit``) override the preset's.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

from cosim.errors import CosimInputError
from cosim.serving.spec import LinkSpec
from hw_models.hardware import Hardware

_GPU_LINKS = {"nvlink": ("link_bw", "link_latency_s", "e_link_byte"),
              "network": ("net_bw", "net_latency_s", "e_net_byte")}


@dataclass(frozen=True)
class KVLink:
    """A KV-transfer path between one prefill and one decode instance: per-device, one-direction link figures and
    the ``lanes`` (devices) sending at once."""

    bandwidth_Bps: float
    latency_s: float
    energy_per_byte_j: float
    lanes: int = 1

    def time_s(self, nbytes: float) -> float:
        """Seconds to move ``nbytes``: latency plus the bytes over every lane's bandwidth."""
        return self.latency_s + nbytes / (self.lanes * self.bandwidth_Bps)

    def energy_j(self, nbytes: float) -> float:
        """Energy of moving ``nbytes`` (every byte crosses one link)."""
        return nbytes * self.energy_per_byte_j


def _gpu_link(hardware: Hardware, name: str, where: str) -> tuple[float, float, float]:
    gpus = [hardware] if hardware.kind == "gpu" else [
        u for u in getattr(hardware, "units", {}).values() if u.kind == "gpu"]
    if not gpus:
        raise CosimInputError(f"{where}: {hardware.name!r} has no GPU interconnect for link {name!r}; give "
                              f"bandwidth_gbps, or a PRESET:LINK naming a GPU preset or a heterogeneous preset's link")
    gpu = gpus[0]
    if name == "network" and gpu.param("node_devices") <= 0:
        raise CosimInputError(f"{where}: {gpu.name!r} gives no scale-out network (interconnect.devices_per_node is "
                              f"0); use 'nvlink', or give bandwidth_gbps")
    return tuple(gpu.param(p) for p in _GPU_LINKS[name])


def _preset_link(preset: str, hardware: Hardware | None, where: str) -> tuple[float, float, float]:
    """(bandwidth B/s, latency s, J/byte) of a link preset (see the module docstring)."""
    from hw_models.hardware import load_hardware
    from hw_models.preset import HardwareConfigError

    if ":" in preset:
        name, link = preset.rsplit(":", 1)
        try:
            hardware = load_hardware(name)
        except HardwareConfigError as exc:
            raise CosimInputError(f"{where}: {exc}") from None
    elif hardware is None:
        raise CosimInputError(f"{where}: {preset!r} names a link of the prefill pool's hardware, which is unknown "
                              f"here; write PRESET:{preset}")
    else:
        link = preset
    links = getattr(hardware.spec, "links", {}) if hardware.kind == "hetero" else {}
    if link in links:
        spec = links[link]
        return spec.bandwidth_gbps * 1e9, spec.latency_us * 1e-6, spec.e_pj_per_bit * 8e-12
    if link in _GPU_LINKS:
        return _gpu_link(hardware, link, where)
    raise CosimInputError(f"{where}: unknown link {link!r} of {hardware.name!r}; allowed: "
                          f"{', '.join([*_GPU_LINKS, *links])}")


def resolve_link(spec: LinkSpec, hardware: Hardware | None = None, lanes: int = 1,
                 where: str = "disaggregated.link") -> KVLink:
    """The :class:`KVLink` a ``LinkSpec`` describes; ``hardware`` is the prefill pool's (for short preset names)."""
    if spec.preset is None:
        if spec.bandwidth_gbps is None:
            raise CosimInputError(f"{where}: give a link 'preset' (nvlink, network, PRESET:LINK) or 'bandwidth_gbps'")
        bandwidth, latency, energy = spec.bandwidth_gbps * 1e9, 0.0, 0.0
    else:
        bandwidth, latency, energy = _preset_link(spec.preset, hardware, f"{where}.preset")
    given = spec.model_fields_set
    if "bandwidth_gbps" in given and spec.bandwidth_gbps is not None:
        bandwidth = spec.bandwidth_gbps * 1e9
    if "latency_s" in given or spec.preset is None:
        latency = spec.latency_s
    if "e_pj_per_bit" in given or spec.preset is None:
        energy = spec.e_pj_per_bit * 8e-12
    return KVLink(bandwidth, latency, energy, max(int(lanes), 1))


class KVTransfers:
    """The ports of a disaggregated system: one egress per prefill instance, one ingress per decode instance."""

    def __init__(self, env, link: KVLink, senders: int, receivers: int) -> None:
        import simpy

        self.env, self.link = env, link
        self.egress = [simpy.Resource(env, capacity=1) for _ in range(senders)]
        self.ingress = [simpy.Resource(env, capacity=1) for _ in range(receivers)]
        self.bytes_moved = 0.0
        self.energy_j = 0.0

    def send(self, sender: int, receiver: int, nbytes: float) -> Generator:
        """SimPy process: move ``nbytes`` from prefill instance ``sender`` to decode instance ``receiver``; its value
        is the transfer's energy (J)."""
        with self.egress[sender].request() as out:
            yield out
            with self.ingress[receiver].request() as into:
                yield into
                yield self.env.timeout(self.link.time_s(nbytes))
        energy = self.link.energy_j(nbytes)
        self.bytes_moved += nbytes
        self.energy_j += energy
        return energy
