"""LLM serving: the closed-form steady state (``steady_state``) and the request-level SimPy simulation.

The request-level simulation is split the way serving systems are: ``requests`` (the entity), ``traffic`` (arrival
processes, length distributions, dataset profiles, trace replay), ``step`` (what one engine iteration runs and the
step-cost predictor protocol), ``step_cost`` (step costs from cosim's engine), ``kv_cache`` (paged KV blocks),
``schedulers/`` (one module per batching policy), ``instance`` and ``router`` (SimPy processes of replicas behind
a router), ``disaggregated`` and ``kv_transfer`` (prefill and decode pools and the link between them),
``nanoflow`` (nano-batch overlap inside one device), ``simulation`` (one system driven by one traffic),
``metrics`` (latency, throughput, goodput, energy, time series), ``capacity`` (the highest rate meeting an SLO),
``spec`` and ``load`` (the pydantic config and its checks), ``study`` (systems x rates) and ``outputs`` (Parquet,
plots).
"""

from cosim.serving.steady_state import Routing, ServingEstimate, serve, tokens_per_dollar_s

__all__ = ["Routing", "ServingEstimate", "serve", "tokens_per_dollar_s"]
