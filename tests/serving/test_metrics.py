"""Token gaps, the bounded timeline, summaries and goodput."""

import math

import numpy as np
import pandas as pd
import pytest

from cosim.serving.metrics import GAP_RELATIVE_ERROR, Recorder, TokenGaps, goodput, stats
from cosim.serving.requests import Request
from cosim.serving.spec import SLOSpec


def test_gaps_are_exact_while_few():
    gaps = TokenGaps()
    values = np.random.default_rng(0).lognormal(-4, 1, 5000)
    gaps.add(values[:3000])
    for v in values[3000:]:
        gaps.add_repeat(float(v), 1)
    assert gaps.exact and gaps.count == 5000
    assert gaps.quantile(0.99) == np.quantile(values, 0.99)
    assert gaps.mean() == pytest.approx(values.mean(), rel=1e-12)


def test_binned_gap_quantiles_are_within_the_stated_error():
    values = np.random.default_rng(1).lognormal(-4, 1.5, 300_000)
    gaps = TokenGaps(exact_limit=1000)
    for chunk in np.array_split(values, 997):
        gaps.add(chunk)
    for v in values[:2000]:  # single gaps take the histogram's scalar path
        gaps.add_repeat(float(v), 1)
    values = np.concatenate([values, values[:2000]])
    assert not gaps.exact and gaps.count == values.size
    ordered = np.sort(values)
    for q in (0.01, 0.5, 0.9, 0.99, 0.999):
        k = int(q * (values.size - 1))
        got = gaps.quantile(q)
        assert ordered[k] * (1 - GAP_RELATIVE_ERROR) <= got <= ordered[k + 1] * (1 + GAP_RELATIVE_ERROR), q
    assert gaps.mean() == pytest.approx(values.mean(), rel=1e-9)
    assert GAP_RELATIVE_ERROR < 6e-4


def recorder(n=3, rows=8):
    return Recorder(np.arange(n), np.zeros(n), np.full(n, 10), np.full(n, 5), timeline_rows=rows)


def test_the_timeline_keeps_a_uniform_subsample_and_exact_averages():
    rec = recorder(rows=8)
    rec.kv_capacity_tokens = 100
    for k in range(100):
        rec.step(float(k + 1), 0, 1.0, 2, 0, 2, k, 100, k % 3, 1.0)
    tl = rec.timeline_frame()
    assert rec._stride == 16 and len(tl) <= 8
    assert (tl["time_s"].to_numpy() - 1) % 16 == pytest.approx(0)  # every 16th step, from the first
    rec.end_s = 100.0
    s = rec.summary(rec.requests_frame())
    assert s["kv_occupancy_mean"] == pytest.approx(np.mean(np.arange(100)) / 100)
    assert s["queue_length_mean"] == pytest.approx(np.mean(np.arange(100) % 3))
    assert s["energy_j"] == 100.0 and s["steps"] == 100


def test_a_request_is_recorded_once():
    rec = recorder()
    req = Request(1, 0.0, 10, 5, scheduled_s=0.0, first_token_s=0.1, finish_s=0.5, energy_j=2.0)
    rec.leave(req, 1)
    with pytest.raises(RuntimeError, match="twice"):
        rec.leave(req, 1)


def frame(ttft, tpot, finished):
    n = len(ttft)
    return pd.DataFrame({"ttft_s": ttft, "tpot_s": tpot, "e2e_s": np.add(ttft, 1.0), "finished": finished,
                         "queue_s": np.zeros(n)})


def test_goodput_counts_requests_meeting_every_limit():
    req = frame([0.1, 0.2, 0.9, 0.1], [0.01, 0.05, 0.01, np.nan], [True, True, True, False])
    summary = {"span_s": 2.0, "tbt_p99_s": 0.04, "queue_p50_s": 0.0}
    g = goodput(req, summary, SLOSpec(ttft_s=0.5, tpot_s=0.02, attainment=0.25))
    assert g == {"goodput_rps": 0.5, "attainment": 0.25, "meets": True}
    assert not goodput(req, summary, SLOSpec(ttft_s=0.5, attainment=0.75))["meets"]
    assert not goodput(req, summary, SLOSpec(ttft_s=1.0, attainment=0.5, p99_tbt_s=0.03))["meets"]
    one_token = frame([0.1], [np.nan], [True])
    assert goodput(one_token, summary, SLOSpec(tpot_s=0.01))["attainment"] == 1.0


def test_stats_ignore_unreached_times():
    s = stats(np.array([1.0, 2.0, np.nan, 3.0]), "ttft")
    assert s["ttft_mean_s"] == 2.0 and s["ttft_p50_s"] == 2.0
    assert math.isnan(stats(np.array([np.nan]), "e2e")["e2e_p99_s"])
