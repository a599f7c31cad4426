"""Op placement on heterogeneous devices: the DP against brute force, limiting cases, and the engine integration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mappings.placement import _Problem, _solve, assign, evaluate, handover, loop_runs, split_options


def _random_problem(seed: int, n_ops: int, n_units: int, split: bool, missing_link: bool = False):
    rng = np.random.default_rng(seed)
    options = split_options(n_units, 4, split)
    time = rng.uniform(1e-4, 1e-3, (n_ops, len(options)))
    energy = rng.uniform(1e-2, 1e-1, (n_ops, len(options)))
    frac = np.zeros((n_ops, len(options), n_units))
    for o, (a, b, k) in enumerate(options):
        frac[:, o, a] += k / 4
        if a != b:
            frac[:, o, b] += 1 - k / 4
    counts = rng.choice([1, 1, 2, 3], size=n_ops).astype(float)
    out_bytes = rng.uniform(1e3, 1e6, n_ops)
    bw = np.full((n_units, n_units), 0.0)
    lat, e = np.zeros_like(bw), np.zeros_like(bw)
    for u in range(n_units):
        for v in range(n_units):
            if u != v:
                bw[u, v], lat[u, v], e[u, v] = rng.uniform(1e8, 1e10), rng.uniform(0, 1e-5), rng.uniform(0, 1e-10)
    if missing_link and n_units > 2:
        bw[0, 2] = bw[2, 0] = 0.0
    return time, energy, frac, out_bytes, counts, (bw, lat, e)


def _explicit_total(pb: _Problem, choice) -> tuple[float, float]:
    """Totals by unrolling every loop body into its instances and summing hand-overs one by one."""
    seq = []
    for s, e in loop_runs(pb.counts):
        seq += list(range(s, e)) * int(pb.counts[s])
    t = e_sum = 0.0
    links = pb._links
    for j, n in enumerate(seq):
        t += pb.time[n, choice[n]]
        e_sum += pb.energy[n, choice[n]]
        if j:
            m = seq[j - 1]
            ht, he, _ = handover(pb.frac[m, choice[m]], pb.frac[n, choice[n]], pb.out_bytes[m], *links)
            t, e_sum = t + ht, e_sum + he
    return t, e_sum + pb.static_w * t


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n_ops=st.integers(1, 5), n_units=st.integers(2, 3), split=st.booleans(),
       missing=st.booleans(), objective=st.sampled_from(["latency", "energy"]))
def test_dp_equals_brute_force(seed, n_ops, n_units, split, missing, objective):
    time, energy, frac, out_bytes, counts, links = _random_problem(seed, n_ops, n_units, split, missing)
    if split and n_units == 3 and n_ops > 3:
        n_ops = 3
        time, energy, frac, out_bytes, counts = time[:3], energy[:3], frac[:3], out_bytes[:3], counts[:3]
    static_w = 50.0
    pb = _Problem(time, energy, frac, out_bytes, counts, links, static_w)
    pb._links = links
    best = assign(time, energy, frac, out_bytes, counts, links, objective, static_w)
    key = (lambda p: p.total_time) if objective == "latency" else (lambda p: p.total_energy)
    brute = min(key(evaluate(pb, np.array(c), objective))
                for c in itertools.product(range(time.shape[1]), repeat=n_ops))
    assert key(best) <= brute * (1 + 1e-9) + 1e-15
    # the loop semantics: totals equal an explicit unrolled instance sequence (when unambiguous: no two adjacent
    # loop bodies both repeated, where the DP assumes they interleave, min(counts) hand-overs)
    runs = loop_runs(counts)
    if any(counts[a[0]] > 1 and counts[b[0]] > 1 for a, b in zip(runs, runs[1:])):
        return
    t, e = _explicit_total(pb, best.option)
    assert best.total_time == pytest.approx(t, rel=1e-9)
    assert best.total_energy == pytest.approx(e, rel=1e-9)


def test_edp_no_worse_than_latency_or_energy_optimum():
    for seed in range(10):
        args = _random_problem(seed, 6, 3, True)
        edp = assign(*args, objective="edp", static_w=30.0).edp
        assert edp <= assign(*args, objective="latency", static_w=30.0).edp * (1 + 1e-12)
        assert edp <= assign(*args, objective="energy", static_w=30.0).edp * (1 + 1e-12)


def test_free_transfers_put_each_op_on_its_cheapest_unit():
    time, energy, frac, out_bytes, counts, links = _random_problem(3, 8, 3, False)
    free = (np.full((3, 3), 1e300), np.zeros((3, 3)), np.zeros((3, 3)))
    p = assign(time, energy, frac, out_bytes, counts, free, "latency")
    assert list(p.option) == list(np.argmin(time, axis=1))


def test_expensive_links_keep_everything_on_one_unit():
    time, energy, frac, out_bytes, counts, links = _random_problem(4, 8, 3, False)
    costly = (np.full((3, 3), 1e-3), np.full((3, 3), 1e3), np.full((3, 3), 1.0))
    p = assign(time, energy, frac, out_bytes, counts, costly, "latency")
    assert len(set(p.option)) == 1
    assert p.option[0] == np.argmin((time * counts[:, None]).sum(axis=0))
    assert p.transfer_time.sum() == 0


def test_split_never_worse_than_no_split():
    for seed in range(8):
        time, energy, frac, out_bytes, counts, links = _random_problem(seed, 6, 2, True)
        singles = 2  # the first options are the single units
        whole = assign(time[:, :singles], energy[:, :singles], frac[:, :singles], out_bytes, counts, links)
        split = assign(time, energy, frac, out_bytes, counts, links)
        assert split.total_time <= whole.total_time * (1 + 1e-12)


def test_no_feasible_option_raises():
    time, energy, frac, out_bytes, counts, links = _random_problem(0, 3, 2, False)
    time[1] = np.inf
    with pytest.raises(ValueError, match="no feasible placement"):
        assign(time, energy, frac, out_bytes, counts, links)


# ---- engine integration --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def decode():
    from cosim.api import load_workload

    return load_workload("llama-2-7b", phase="decode", batch=128, context=512)


FREE_LINK = {"links.pcie.bandwidth_gbps": 1e6, "links.pcie.latency_us": 0.0}


def test_intensity_placement_attention_to_memory_unit_gemms_to_compute(decode):
    from cosim.api import load_hardware, simulate

    ops = simulate(load_hardware("A100+H20-PCIe", FREE_LINK), decode).ops.set_index("op")
    assert ops.loc["attention", "unit"] == "memory"  # ~1 FLOP/B: the 4 TB/s unit
    for gemm in ("qkv_proj", "o_proj", "mlp_gate_up", "mlp_down", "lm_head"):  # ~120 FLOP/B at batch 128
        assert ops.loc[gemm, "unit"] == "compute", gemm


def test_place_api_and_pins(decode):
    from cosim.api import load_hardware
    from cosim.hetero import place

    hw = load_hardware("A100+H20-PCIe")
    links = {"l": {"between": ["compute", "memory"], "bandwidth_gbps": 1e6, "latency_us": 0, "e_pj_per_bit": 0}}
    free = place(decode, hw.units, links)
    kinds = [op.kind for op in decode.ops]
    assert free.frac[kinds.index("attention"), 1] == 1.0
    pinned = place(decode, hw.units, links, pins={"attention": "compute", "qkv_proj": "memory"})
    assert pinned.frac[kinds.index("attention"), 0] == 1.0
    assert pinned.frac[[op.name for op in decode.ops].index("qkv_proj"), 1] == 1.0
    assert pinned.total_time >= free.total_time


def test_attention_offload_preset_pins_and_totals_are_sums_of_parts():
    from cosim.api import load_hardware, load_workload, simulate

    wl = load_workload("llama-2-7b", phase="decode", batch=64, context=2048)
    r = simulate(load_hardware("H100-attention-offload"), wl)
    assert r.feasible  # 82 GB does not fit one H100; the KV cache lives on the attention unit
    ops = r.ops
    assert set(ops.loc[ops.kind == "attention", "unit"]) == {"attn"}
    assert set(ops.loc[ops.kind == "matmul", "unit"]) == {"gpu"}
    assert ops.transfer_s.sum() > 0
    assert r.latency_s == pytest.approx(ops.time_s.sum(), rel=1e-12)
    assert r.energy_j == pytest.approx(ops.energy_j.sum(), rel=1e-12)
    assert r.energy_interconnect_j == pytest.approx(ops.energy_interconnect_j.sum(), rel=1e-12)
    assert r.energy_interconnect_j > 0
    again = simulate(load_hardware("H100-attention-offload"), wl)
    assert again.totals == r.totals  # deterministic


def test_split_preset_not_worse_and_overlap_period(decode):
    from cosim.api import load_hardware, simulate

    whole = simulate(load_hardware("A100+H20-PCIe"), decode)
    split = simulate(load_hardware("A100+H20-PCIe", {"allow_split": True}), decode)
    assert split.latency_s <= whole.latency_s * (1 + 1e-12)
    assert (split.ops.split_unit != "").any()
    overlap = simulate(load_hardware("A100+H20-PCIe", {**FREE_LINK, "concurrency": "overlap"}), decode)
    sequential = simulate(load_hardware("A100+H20-PCIe", FREE_LINK), decode)
    assert overlap.latency_s == pytest.approx(sequential.latency_s)
    assert overlap.period_s < sequential.period_s


def test_unit_overrides_and_errors_name_the_path():
    from cosim.api import load_hardware
    from hw_models.preset import HardwareConfigError

    hw = load_hardware("H100-attention-offload", {"units.attn.memory.hbm_bandwidth_gbps": 6000})
    assert hw.units["attn"].spec.memory.hbm_bandwidth_gbps == 6000
    with pytest.raises(HardwareConfigError, match="units.attn.*memory.hbm_bandwidth_gbs"):
        load_hardware("H100-attention-offload", {"units.attn.memory.hbm_bandwidth_gbs": 6000})
    with pytest.raises(HardwareConfigError, match="allowed: .*links.nvlink.bandwidth_gbps"):
        load_hardware("H100-attention-offload", {"links.nvlink.bandwidth": 1})
    with pytest.raises(HardwareConfigError, match="links.nvlink.bandwidth_gbps"):
        load_hardware("H100-attention-offload", {"links.nvlink.bandwidth_gbps": -1})
    with pytest.raises(HardwareConfigError, match="concurrency"):
        load_hardware("H100-attention-offload", {"concurrency": "parallel"})


def test_sweep_over_hetero_unit_parameters(tmp_path):
    import pandas as pd

    from cosim.api import sweep

    cfg = {"name": "hetero", "hardware": [
        {"preset": "H100-attention-offload", "grid": {"units.attn.memory.hbm_bandwidth_gbps": [3000, 4800, 8000]}},
        {"preset": "H100-SXM5-80GB"}],
        "workloads": [{"model": "llama-2-7b", "params": {"phase": "decode", "batch": 16, "context": 1024}}]}
    out = sweep(cfg, tmp_path / "out", with_ops=True)
    res = out.results
    het = res[res.preset == "H100-attention-offload"]
    assert len(het) == 3 and het.feasible.all()
    assert list(het.sort_values("hw.units.attn.memory.hbm_bandwidth_gbps").latency_s.diff().dropna() < 0) == [True,
                                                                                                          True]
    ops = pd.read_parquet(out.files["ops"])
    assert "unit" in ops.columns
