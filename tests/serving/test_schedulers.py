"""What each batching policy puts in a step, and how the running table follows a request."""

import pytest

from cosim.serving.kv_cache import KVCache
from cosim.serving.metrics import TokenGaps
from cosim.serving.requests import Request
from cosim.serving.schedulers import make_scheduler
from cosim.serving.spec import SchedulerSpec


def scheduler(policy, capacity=4096, **spec):
    spec = SchedulerSpec(policy=policy, **spec)
    return make_scheduler(spec, KVCache(capacity, spec.block_tokens, watermark=0.0), TokenGaps(),
                          kv_bytes=lambda tokens: 1000.0 * tokens)


def run(s, now, energy=1.0):
    step = s.next_step(now)
    return step, s.complete(step, now + 1, energy)


def test_vllm_prefills_whole_prompts_first_then_decodes_everyone():
    s = scheduler("vllm")
    s.add(Request(0, 0.0, 100, 3))
    s.add(Request(1, 0.0, 50, 3))
    step, _ = run(s, 0.0)
    assert step.batch.prefill_chunks == ((100, 0), (50, 0)) and step.batch.decode_contexts == ()
    step, _ = run(s, 1.0)
    assert step.batch.decode_contexts == (100, 50) and not step.batch.prefill_chunks
    s.add(Request(2, 1.5, 30, 2))
    step, _ = run(s, 2.0)  # the new prompt stalls the decodes
    assert step.batch.prefill_chunks == ((30, 0),) and step.batch.decode_contexts == ()
    step, done = run(s, 3.0)
    assert step.batch.decode_contexts == (101, 51, 30)
    assert sorted(r.id for r in done) == [0, 1, 2]
    for r in done:
        assert r.generated == r.output_tokens and r.kv_tokens == r.prompt_tokens + r.output_tokens - 1
        assert r.finish_s == 4.0
    assert s.empty and s.cache.used_blocks == 0


def test_vllm_prefill_step_respects_the_token_limit_and_batch_slots():
    s = scheduler("vllm", max_prefill_tokens=120, max_batch=3)
    for i, p in enumerate((100, 30, 10, 10, 10)):
        s.add(Request(i, 0.0, p, 5))
    step, _ = run(s, 0.0)
    assert step.batch.prefill_chunks == ((100, 0),)  # 100 + 30 > 120
    step, _ = run(s, 1.0)
    assert step.batch.prefill_chunks == ((30, 0), (10, 0))  # then the batch is full
    step, _ = run(s, 2.0)
    assert step.batch.decode_contexts == (100, 30, 10)


def test_orca_mixes_new_prompts_with_decodes_and_reserves_the_whole_output():
    s = scheduler("orca", block_tokens=16)
    s.add(Request(0, 0.0, 100, 50))
    step, _ = run(s, 0.0)
    assert s.cache.used_blocks == s.cache.blocks_for(100 + 50 - 1)
    s.add(Request(1, 0.5, 40, 5))
    step, _ = run(s, 1.0)
    assert step.batch.decode_contexts == (100,) and step.batch.prefill_chunks == ((40, 0),)


def test_sarathi_decodes_first_and_chunks_prompts_within_the_budget():
    s = scheduler("sarathi", token_budget=64)
    s.add(Request(0, 0.0, 10, 20))
    run(s, 0.0)
    s.add(Request(1, 0.5, 150, 5))
    chunks = []
    for t in range(1, 5):
        step, _ = run(s, float(t))
        assert step.batch.tokens <= 64 and step.batch.decode_contexts[0] == 10 + t - 1
        chunks.append(step.batch.prefill_chunks)
    assert chunks == [((63, 0),), ((63, 63),), ((24, 126),), ()]
    assert s.reqs[1].first_token_s == 4.0  # the third chunk's step emitted its first token
    assert step.batch.decode_contexts == (13, 150) and s._sync(1).generated == 2


def test_recompute_preemption_evicts_the_latest_admitted_to_the_front_of_the_queue():
    s = scheduler("vllm", capacity=64, block_tokens=16, max_prefill_tokens=16)
    a, b = Request(0, 0.0, 16, 40), Request(1, 0.0, 16, 40)
    s.add(a)
    s.add(b)
    run(s, 0.0)
    run(s, 1.0)
    assert s.cache.free_blocks == 2
    step, _ = run(s, 2.0)  # both need a second block: 2 free
    assert step.batch.decode_contexts == (16, 16)
    t = 3.0
    while s.n == 2:
        step, _ = run(s, t)
        t += 1
    assert s.reqs == [a] and list(s.waiting) == [b]
    assert b.preemptions == 1 and b.kv_tokens == 0 and b.prefill_target == 16 + b.generated
    assert s.cache.used_blocks == s.cap[0] // 16


def test_swap_preemption_keeps_the_kv_and_charges_its_move():
    s = scheduler("vllm", capacity=64, block_tokens=16, preemption="swap", max_prefill_tokens=16)
    s.add(Request(0, 0.0, 16, 40))
    s.add(Request(1, 0.0, 16, 40))
    t, extra = 0.0, []
    while not s.swapped:
        step, _ = run(s, t)
        extra.append(step.extra_s)
        t += 1
    b = s.swapped[0]
    assert b.kv_tokens == 32 and b.preemptions == 1
    assert extra[-1] == pytest.approx(1000.0 * 32 / 31.5e9)  # default swap link: PCIe 4.0 x16
