"""Placement of many points at once (mappings.placement_batch) equals placing each point with mappings.placement."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mappings.placement import assign, split_options
from mappings.placement_batch import assign_points, handovers
from mappings.placement import handover


def _problem(seed: int, n_points: int, n_ops: int, n_units: int, split: bool, steps: int):
    """Random points sharing ops and options: some costs tied, some options excluded, some links missing."""
    rng = np.random.default_rng(seed)
    options = split_options(n_units, steps, split)
    n_opt = len(options)
    time = rng.choice([1e-4, 2e-4, 5e-4], size=(n_points, n_ops, n_opt)) * rng.choice([1.0, 1.0, 1.5], size=(
        n_points, n_ops, n_opt))
    time[rng.random(time.shape) < 0.15] = np.inf
    energy = rng.choice([1e-2, 3e-2], size=(n_points, n_ops, n_opt))
    frac = np.zeros((n_ops, n_opt, n_units))
    for o, (a, b, k) in enumerate(options):
        share = rng.choice([k / steps, np.round(k / steps, 1)], size=n_ops)  # per-op shares, as odd batch sizes give
        frac[:, o, a] += share if a != b else 1.0
        if a != b:
            frac[:, o, b] += 1 - share
    counts = np.array(sorted(rng.choice([1, 1, 3], size=n_ops), key=lambda c: rng.random()), dtype=float)
    out_bytes = rng.uniform(1e3, 1e6, n_ops)
    links = []
    for p in range(n_points):
        if p and rng.random() < 0.5:
            links.append(links[-1])
            continue
        bw = rng.choice([0.0, 1e9, 1e10], size=(n_units, n_units))
        lat, e = rng.uniform(0, 1e-5, bw.shape), rng.uniform(0, 1e-10, bw.shape)
        links.append((bw, lat, e))
    static_w = rng.choice([0.0, 50.0], size=n_points)
    return time, energy, frac, out_bytes, counts, links, static_w


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 100_000), n_points=st.integers(1, 4), n_ops=st.integers(1, 7), n_units=st.integers(1, 3),
       split=st.booleans(), steps=st.sampled_from([2, 4]), objective=st.sampled_from(["latency", "energy", "edp"]))
def test_batched_placement_equals_one_at_a_time(seed, n_points, n_ops, n_units, split, steps, objective):
    time, energy, frac, out_bytes, counts, links, static_w = _problem(seed, n_points, n_ops, n_units, split, steps)
    got = assign_points(time, energy, frac, out_bytes, counts, links, objective, static_w)
    for p in range(n_points):
        try:
            ref = assign(time[p], energy[p], frac, out_bytes, counts, links[p], objective, static_w[p])
        except ValueError:
            assert not got.ok[p]
            continue
        assert got.ok[p]
        assert np.array_equal(got.option[p], ref.option)
        assert np.array_equal(got.frac[p], ref.frac)
        for a, b in ((got.transfer_time[p], ref.transfer_time), (got.transfer_energy[p], ref.transfer_energy),
                     (got.transfer_bytes[p], ref.transfer_bytes)):
            assert np.array_equal(a, b)


def test_handovers_equal_the_scalar_hand_over():
    rng = np.random.default_rng(3)
    frac_a, frac_b = rng.dirichlet(np.ones(3), size=(5, 4)), rng.dirichlet(np.ones(3), size=(5, 6))
    frac_a[0, 0] = [1.0, 0.0, 0.0]
    bw = np.array([[0.0, 1e9, 0.0], [2e9, 0.0, 3e9], [1e9, 1e9, 0.0]])
    links = (bw, rng.uniform(0, 1e-6, (3, 3)), rng.uniform(0, 1e-11, (3, 3)))
    nbytes = rng.uniform(1e3, 1e6, 5)
    t, e, b = handovers(frac_a, frac_b, nbytes, links)
    for k in range(5):
        for i in range(4):
            for j in range(6):
                assert (t[k, i, j], e[k, i, j], b[k, i, j]) == handover(frac_a[k, i], frac_b[k, j], nbytes[k], *links)
