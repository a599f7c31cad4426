"""Routing requests over replicas."""

import pytest
from serving_checks import AnalyticCost, check_run, poisson_requests, system

from cosim.errors import CosimInputError
from cosim.serving.requests import Request
from cosim.serving.router import Router
from cosim.serving.simulation import simulate_system


def test_round_robin_cycles_over_the_replicas():
    requests = poisson_requests(30, 5.0, (10, 50), (5, 20), seed=1)
    run = simulate_system(system(replicas=3), requests, lambda pool: AnalyticCost())
    check_run(run, requests)
    assert run.requests.sort_values("arrival_s")["instance"].tolist() == [k % 3 for k in range(30)]


def test_least_outstanding_sends_work_to_the_least_loaded_replica():
    requests = [Request(0, 0.0, 1000, 100), Request(1, 0.0, 10, 5), Request(2, 0.0, 10, 5)]
    run = simulate_system(system(replicas=2, router="least_outstanding"), requests, lambda pool: AnalyticCost())
    check_run(run, requests)
    assert run.requests["instance"].tolist() == [0, 1, 1]


def test_least_outstanding_balances_better_than_round_robin_with_uneven_requests():
    requests = poisson_requests(400, 30.0, (10, 2000), (1, 400), seed=9)
    e2e = {}
    for router in ("round_robin", "least_outstanding"):
        run = simulate_system(system(replicas=4, router=router, max_batch=4), requests,
                              lambda pool: AnalyticCost())
        check_run(run, requests)
        e2e[router] = run.summary["e2e_mean_s"]
    assert e2e["least_outstanding"] < e2e["round_robin"]


def test_unknown_router_is_an_input_error():
    with pytest.raises(CosimInputError, match="round_robin, least_outstanding"):
        Router("random", [object()])
