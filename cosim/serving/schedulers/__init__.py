"""Batching policies, one module each: ``vllm`` (prefill-first continuous batching), ``orca`` (iteration-level,
reserved KV), ``sarathi`` (chunked prefill, stall-free hybrid batches); ``base`` holds what they share."""

from __future__ import annotations

from collections.abc import Callable

from cosim.serving.kv_cache import KVCache
from cosim.serving.metrics import TokenGaps
from cosim.serving.schedulers.base import Scheduler, Step
from cosim.serving.schedulers.orca import OrcaScheduler
from cosim.serving.schedulers.sarathi import SarathiScheduler
from cosim.serving.schedulers.vllm import VLLMScheduler
from cosim.serving.spec import SchedulerSpec

POLICIES: dict[str, type[Scheduler]] = {"vllm": VLLMScheduler, "orca": OrcaScheduler, "sarathi": SarathiScheduler}


def make_scheduler(spec: SchedulerSpec, cache: KVCache, gaps: TokenGaps,
                   kv_bytes: Callable[[int], float] | None = None) -> Scheduler:
    """The scheduler of ``spec.policy`` over ``cache``."""
    return POLICIES[spec.policy](spec, cache, gaps, kv_bytes)


__all__ = ["POLICIES", "Scheduler", "Step", "make_scheduler"]
