"""Command-level PIM timing (all-bank issue) against hand calculations on the NeuPIMs HBM2 preset: tRRD and tFAW on
the ganged activations, the column commands of a row step, results read out over the channel bus, row reuse across
the vectors a row holds, and refresh taking whole steps."""

import pytest

import cosim
from hw_models.cost import O_BYTES_OFFCHIP, O_TIME
from hw_models.pim_kernels import activation_span, gemv_banks, lockstep_steps
from mappings.driver import map_and_cost
from workloads.ir import Op, Workload
from workloads.table import op_table

NS = 1e-9
NO_REFRESH = {"timing.trefi_ns": 1e9, "timing.trfc_ns": 0}  # refresh so rare its rounding is below 1e-6


def _params(overrides=None):
    return cosim.load_hardware("NeuPIMs-PIM", overrides).params


def test_activation_span_is_tfaw_bound_on_neupims():
    # 32 banks in G_ACTs of 4 = 8 commands; tRRD_S 4 ns: 7 x 4 = 28 ns; 8 bank activations per tFAW 30 ns: 4 windows,
    # the last one opening 3 x 30 = 90 ns after the first
    assert activation_span(_params()) == pytest.approx(90 * NS)
    assert activation_span(_params({"timing.tfaw_ns": 0})) == pytest.approx(28 * NS)  # tRRD binds
    assert activation_span(_params({"organization.banks_per_activation": 32, "timing.tfaw_ns": 0})) == 0.0


def test_gemv_time_from_first_principles():
    # A 512 x 2048 fp16 weight matrix, one input vector: each output's 512 weights fill one 1 KB row (one result per
    # row), 2048 rows over 32 ch x 32 banks = 2 row steps. A step: span 90 + tRCD 14 + 32 column commands x 2 ns
    # + readout of 32 banks x 1 result x 2 B = 64 B at 32 B/ns (2 ns) = 170 ns > span + tRAS 124 ns; + tRP 14 = 184 ns.
    # Refresh: (tREFI 3900 - tRFC 260) / 184 = 19.8, so 19 steps per 3900 ns.
    op = Op(name="g", kind="matmul", dims={"m": 1, "n": 2048, "k": 512, "batch": 1})
    hw = cosim.load_hardware("NeuPIMs-PIM")
    out = map_and_cost("pim", op_table(Workload(name="t", ops=[op])), hw.params[None], 0)[0, 0]
    assert out[O_TIME] == pytest.approx(2 * 3900 * NS / 19, rel=1e-12)
    assert out[O_BYTES_OFFCHIP] == 512 * 2 + 2048 * 2  # input in, outputs out (results are the outputs)
    t, acts, cols, macs, readout = gemv_banks(1.0, 512 * 2048 * 2, 1.0, 2.0, 512.0, _params(NO_REFRESH))
    assert t == pytest.approx(2 * 184 * NS, rel=1e-6) and acts == 2048 and cols == 2048 * 32 and readout == 4096


def test_tfaw_slows_every_step():
    # tFAW 60 ns: span 3 x 60 = 180; step max(180 + 34, 180 + 14 + 64 + 2) + 14 = 274 ns
    t = gemv_banks(1.0, 512 * 2048 * 2, 1.0, 2.0, 512.0, _params({**NO_REFRESH, "timing.tfaw_ns": 60}))[0]
    assert t == pytest.approx(2 * 274 * NS, rel=1e-6)


def test_row_reuse_across_vectors_of_a_row():
    # KV keys of head_dim 128: a 1 KB row holds 4 vectors, each giving one dot product per query: 4 results per
    # bank read out per step (32 banks x 4 x 2 B = 256 B = 8 ns); two queries sharing the open row (GQA) double the
    # column commands and readouts but not the activations.
    p = _params(NO_REFRESH)
    t1, acts1, cols1, _, r1 = gemv_banks(1.0, 2048 * 512 * 2, 1.0, 2.0, 128.0, p)
    assert t1 == pytest.approx(2 * (90 + 14 + 64 + 8 + 14) * NS, rel=1e-6) and r1 == 2048 * 4 * 2
    t2, acts2, cols2, _, r2 = gemv_banks(1.0, 2048 * 512 * 2, 2.0, 2.0, 128.0, p)
    assert t2 == pytest.approx(2 * (90 + 14 + 128 + 16 + 14) * NS, rel=1e-6)
    assert acts2 == acts1 and cols2 == 2 * cols1 and r2 == 2 * r1


def test_refresh_takes_whole_steps():
    p = _params()
    assert lockstep_steps(19.0, 64 * NS, 64.0, p) == pytest.approx(3900 * NS)  # 19 steps of 184 ns per tREFI
    assert lockstep_steps(20.0, 64 * NS, 64.0, p) == pytest.approx(20 * 3900 * NS / 19)
    # a step longer than tREFI - tRFC cannot fit between refreshes: refresh stretches it instead
    long = lockstep_steps(1.0, 4000 * NS, 0.0, p)
    assert long == pytest.approx((90 + 14 + 4000 + 14) * NS / (1 - 260 / 3900))


def test_all_bank_issue_is_slower_than_free_running_banks():
    # the same decode attention on the same banks: lockstep row steps pay the activation span every row
    op = Op(name="a", kind="attention", dims={"batch": 8, "heads": 8, "kv_heads": 8, "q_len": 1, "kv_len": 1024,
                                             "head_dim": 128, "causal": 1, "kv_cache": 1})
    table = op_table(Workload(name="t", ops=[op]))
    lock = cosim.load_hardware("NeuPIMs-PIM").params
    free = cosim.load_hardware("NeuPIMs-PIM", {"organization.command_issue": "per_bank"}).params
    t_lock, t_free = (map_and_cost("pim", table, p[None], 0)[0, 0, O_TIME] for p in (lock, free))
    assert t_lock > t_free


def test_blocked_mode_times_the_readout_once():
    # blocked: the results' readout is in the row steps; only the input vector (1 KB over 1024 GB/s, stretched by
    # refresh) is added to them
    op = Op(name="g", kind="matmul", dims={"m": 1, "n": 2048, "k": 512, "batch": 1})
    hw = cosim.load_hardware("NeuPIMs-PIM", {"organization.mode": "blocked"})
    out = map_and_cost("pim", op_table(Workload(name="t", ops=[op])), hw.params[None], 0)[0, 0]
    assert out[O_TIME] == pytest.approx(2 * 3900 * NS / 19 + 1024 / 1024e9 / (1 - 260 / 3900), rel=1e-12)
