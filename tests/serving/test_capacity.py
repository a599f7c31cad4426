"""Capacity search by bisection on the request rate."""

import math

import pandas as pd
import pytest
from serving_checks import AnalyticCost, poisson_requests, system

from cosim.errors import CosimInputError
from cosim.serving.capacity import capacity_search
from cosim.serving.requests import Request
from cosim.serving.run import ServingRun
from cosim.serving.simulation import simulate_system
from cosim.serving.spec import CapacitySpec, SLOSpec


def threshold(limit):
    """A stand-in simulator whose runs meet the SLO up to ``limit`` req/s."""
    def run(rate):
        return ServingRun("s", rate, pd.DataFrame(), pd.DataFrame(), {}, {"slo": {"meets": rate <= limit}})
    return run


def test_bisection_brackets_the_threshold_within_tolerance():
    result = capacity_search(threshold(7.3), "slo", CapacitySpec(slo="slo", low=1, high=20, tolerance=0.01))
    low, high = result.bracket
    assert result.found and low <= 7.3 < high and (high - low) / high <= 0.01
    assert result.rate_per_s == low
    assert [r.rate_per_s for r in result.runs][:2] == [1, 20]


def test_the_bracket_expands_when_it_does_not_hold():
    up = capacity_search(threshold(50.0), "slo", CapacitySpec(slo="slo", low=1, high=4))
    assert up.found and up.bracket[0] <= 50 < up.bracket[1]
    down = capacity_search(threshold(0.3), "slo", CapacitySpec(slo="slo", low=1, high=4))
    assert down.found and down.bracket[0] <= 0.3 < down.bracket[1]


def test_no_rate_meeting_or_missing_is_reported():
    never = capacity_search(threshold(-1), "slo", CapacitySpec(slo="slo", low=1, high=4))
    assert not never.found and math.isnan(never.rate_per_s) and "misses" in never.reason
    always = capacity_search(threshold(math.inf), "slo", CapacitySpec(slo="slo", low=1, high=4))
    assert not always.found and always.bracket[1] == math.inf and "no rate tried missed" in always.reason
    with pytest.raises(CosimInputError, match="must be below"):
        capacity_search(threshold(1), "slo", CapacitySpec(slo="slo", low=4, high=1))


def test_capacity_of_a_simulated_system_sits_where_its_latency_crosses_the_slo():
    slo = SLOSpec(ttft_s=0.5, attainment=0.9)
    base = poisson_requests(400, 1.0, (200, 600), (20, 100), seed=2)

    def run_at(rate):  # the same draws, time-scaled to the rate
        requests = [Request(b.id, b.arrival_s / rate, b.prompt_tokens, b.output_tokens) for b in base]
        return simulate_system(system(max_batch=32), requests, lambda pool: AnalyticCost(), {"ttft": slo},
                               rate_per_s=rate)

    result = capacity_search(run_at, "ttft", CapacitySpec(slo="ttft", low=1, high=200, tolerance=0.05))
    assert result.found
    below = run_at(result.bracket[0]).goodput["ttft"]["attainment"]
    above = run_at(result.bracket[1]).goodput["ttft"]["attainment"]
    assert below >= 0.9 > above
