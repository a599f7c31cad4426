"""The compiled sub-batch schedule equals the SimPy model (cosim.schedulers.subbatch) exactly, for two sub-batches
(NeuPIMs) and for more (nano-batches)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cosim.schedulers.subbatch import interleave
from cosim.schedulers.subbatch_batch import interleave_points

# Op times drawn partly from a small set, so that ties between the two sub-batches and between ops are common (equal
# half batches give equal times), partly arbitrary; zero times are ops that are skipped.
_time = st.one_of(st.sampled_from([0.0, 1.0, 2.0, 3.0, 0.5]), st.floats(0.0, 10.0, allow_nan=False))


@st.composite
def _case(draw):
    n_ops = draw(st.integers(1, 9))
    n_units = draw(st.integers(1, 3))
    n_sb = draw(st.sampled_from([2, 2, 3, 4]))
    times = np.array([[draw(_time) for _ in range(n_ops)] for _ in range(n_sb)])
    if draw(st.booleans()):
        times[1:] = times[0]  # equal sub-batches
    units = np.array([draw(st.integers(0, n_units - 1)) for _ in range(n_ops)])
    # counts: a prologue and epilogue of count 1 around a block repeated `layers` times (or any counts)
    if draw(st.booleans()):
        start = draw(st.integers(0, n_ops - 1))
        end = draw(st.integers(start + 1, n_ops))
        counts = np.ones(n_ops)
        counts[start:end] = draw(st.integers(1, 5))
    else:
        counts = np.array([float(draw(st.integers(1, 4))) for _ in range(n_ops)])
    return times, units, counts, n_units, draw(st.booleans()), draw(st.integers(1, 4))


@settings(max_examples=400, deadline=None)
@given(_case())
def test_compiled_schedule_equals_simpy(case):
    times, units, counts, n_units, blocked, passes = case
    ref = interleave(times, units, counts, n_units, blocked, passes)
    period, busy = interleave_points(times[None], units[None], counts, n_units, np.array([blocked]), passes)
    assert period[0] == ref.period_s
    assert np.array_equal(busy[0], ref.busy_s)


def test_batch_of_points_equals_one_at_a_time():
    rng = np.random.default_rng(7)
    times = rng.choice([0.0, 1.0, 2.5, 4.0], size=(6, 2, 7))
    units = rng.integers(0, 2, size=(6, 7))
    counts = np.array([1, 1, 3, 3, 3, 1, 1], dtype=float)
    blocked = np.array([True, False, True, False, False, True])
    period, busy = interleave_points(times, units, counts, 2, blocked)
    for p in range(6):
        ref = interleave(times[p], units[p], counts, 2, bool(blocked[p]))
        assert period[p] == ref.period_s
        assert np.array_equal(busy[p], ref.busy_s)
