"""Fused attention on spatial arrays against hand calculations: scores stay in the buffer when a tile fits, KV tiling
re-reads K and V per Q tile and rescales with an online softmax, the vector unit pipelines with the array, and a
buffer too small for any fused tile falls back to the two GEMMs, whose scores go through DRAM byte for byte."""

from __future__ import annotations

import numpy as np
import pytest

from hw_models.cost import N_OUT, O_BYTES_OFFCHIP, O_E_COMPUTE, O_MAP_2, O_MAP_3, O_MAPPING, O_TIME
from hw_models.hardware import load_hardware
from hw_models.spatial import P
from hw_models.spatial_attention import FUSED_MAPPING, fused_attention_cost, fused_footprint, unbounded_params
from hw_models.spatial_kernels import gemm_mapping_cost
from mappings.evaluate import describe_mapping, mapping_of
from mappings.spatial_search import DEFAULT_SETTINGS, op_cost
from workloads.ir import Op
from workloads.table import COL, op_row

BASE = load_hardware("SCALE-Sim-32x32").params  # 32x32 int8 array, 192 KiB buffer, 1-byte words, 1 GHz
HEADS, Q, KV, D = 2, 256, 256, 32
PAIRS = HEADS * Q * KV


def params(fused=True, gb_kib=192.0, double=True, vector_ops_per_cycle=None, dram_gbps=None) -> np.ndarray:
    p = BASE.copy()
    p[P["fused_attention"]] = 1.0 if fused else 0.0
    p[P["gb_bytes"]] = gb_kib * 1024
    p[P["double_buffering"]] = 1.0 if double else 0.0
    if vector_ops_per_cycle is not None:
        p[P["vector_ops_per_cycle"]] = vector_ops_per_cycle
    if dram_gbps is not None:
        p[P["dram_bw"]] = dram_gbps * 1e9
    return p


def fused(p, tq, tkv, heads=HEADS, q=Q, kv=KV):
    out = np.zeros(N_OUT)
    dtype = int(op_row(attention_op())[COL["dtype"]])
    fused_attention_cost(float(heads), float(q), float(kv), float(D), 1.0, 1.0, 1.0, float(heads * q * kv), dtype, p,
                         unbounded_params(p), tq, tkv, out)
    return out


def attention_op(heads=HEADS, q=Q, kv=KV) -> Op:
    return Op("attention", "attention", dict(batch=1, heads=heads, kv_heads=heads, q_len=q, kv_len=kv, head_dim=D,
                                             causal=0, kv_cache=0), act_bits=8, weight_bits=8, out_bits=8,
              dtype="int8")


def searched(p, op=None) -> np.ndarray:
    out = np.zeros(N_OUT)
    op_cost(np.asarray(op_row(op or attention_op()), dtype=np.float64), p, 0, DEFAULT_SETTINGS, out)
    return out


def test_footprint_by_hand():
    # Q 64x32 + K, V chunk 2 x 256x32 + scores 64x256 + output 64x32, 1-byte words, twice over (double-buffered).
    assert fused_footprint(64, 256, D, 1, 1, 1, params()) == 2 * (2048 + 16384 + 16384 + 2048)
    assert fused_footprint(64, 256, D, 1, 1, 1, params(double=False)) == 2048 + 16384 + 16384 + 2048


def test_fitting_tile_never_touches_dram_for_scores():
    rec = fused(params(), 64, KV)
    # DRAM: Q and the output once, K and V once per head (they stay while the four Q tiles pass); no score byte.
    assert rec[O_BYTES_OFFCHIP] == HEADS * (Q * D + Q * D + 2 * KV * D)
    assert rec[O_MAPPING] == FUSED_MAPPING and (rec[O_MAP_2], rec[O_MAP_3]) == (64, KV)


def test_tile_over_the_buffer_is_illegal():
    p = params(gb_kib=64.0)  # 65536 B < 2 x (8192 + 16384 + 65536 + 8192) for a whole 256-row Q tile
    assert fused(p, Q, KV)[O_TIME] == np.inf
    assert np.isfinite(fused(p, 32, KV)[O_TIME])


def test_kv_tiling_rereads_kv_per_q_tile_and_rescales_online():
    p = params()
    whole, tiled = fused(p, 64, KV), fused(p, 64, 64)
    # Four Q tiles each stream K and V again in four chunks; scores still never leave the chip.
    assert tiled[O_BYTES_OFFCHIP] == HEADS * (Q * D + Q * D + 4 * 2 * KV * D)
    # Every chunk after the first rescales each row: one correction factor (a score's 5 softmax ops), d output
    # multiplies and the running sum: 2 heads x 256 rows x 3 chunks x (5 + 32 + 1) vector ops, at the vector energy.
    extra_ops = HEADS * Q * 3 * (5 + D + 1)
    assert tiled[O_E_COMPUTE] - whole[O_E_COMPUTE] == pytest.approx(extra_ops * p[P["e_vector_op"]], rel=1e-12)


def test_softmax_pipelines_with_the_array():
    slow = 1.0  # one vector op per cycle at 1 GHz: the softmax is the bottleneck
    t_vector = 5 * PAIRS / (slow * BASE[P["clock_hz"]])
    array_only = params(vector_ops_per_cycle=np.inf)
    t_array = fused(unbounded_params(array_only), 64, KV)[O_TIME]  # memory unbounded, vector free: the array alone
    tiles = HEADS * (Q // 64)
    # Double-buffered: the slowest stage plus one tile of the other (pipeline fill); DRAM is unbounded in the preset,
    # so the first tile's load is ~0.
    piped = fused(params(vector_ops_per_cycle=slow), 64, KV)[O_TIME]
    assert piped == pytest.approx(t_vector + t_array / tiles, rel=1e-6)
    # Without double buffering the stages run one after another.
    serial_params = params(vector_ops_per_cycle=slow, double=False)
    serial_params[P["gb_bw_bytes_per_cycle"]] = serial_params[P["dram_bw"]] = np.inf
    assert fused(serial_params, 64, KV)[O_TIME] == pytest.approx(t_vector + t_array, rel=1e-9)


def test_search_keeps_scores_on_chip_and_is_never_slower():
    on, off = searched(params()), searched(params(fused=False))
    assert on[O_MAPPING] == FUSED_MAPPING
    assert on[O_BYTES_OFFCHIP] == HEADS * (2 * Q * D + 2 * KV * D)
    assert on[O_TIME] <= off[O_TIME]
    assert off[O_BYTES_OFFCHIP] - on[O_BYTES_OFFCHIP] >= 2 * PAIRS  # every score out and every probability back
    assert mapping_of("spatial", on)["fused"] is True
    assert describe_mapping("spatial", mapping_of("spatial", on)).startswith("fused attention, Q tile ")


def test_two_gemm_attention_spills_exactly_the_scores():
    # Under mappings that hold whole operands (QK: tiles 256x256x32; PV: 256x32x256, order m,n,k), the two GEMMs move
    # Q, K, V and the output once, as the fused tile does, plus every score written and every probability read back.
    p, rec = params(fused=False), np.zeros(N_OUT)
    spilled = 0.0
    for m, n, k in ((Q, KV, D), (Q, D, KV)):
        gemm_mapping_cost(m, n, k, HEADS, 1.0, 1.0, 1.0, 1.0, int(op_row(attention_op())[COL["dtype"]]), p, 0, 0,
                          m, n, k, rec)
        spilled += rec[O_BYTES_OFFCHIP]
    assert spilled - fused(p, Q, KV)[O_BYTES_OFFCHIP] == 2 * PAIRS


def test_buffer_too_small_for_any_fused_tile_falls_back_to_two_gemms():
    # The smallest fused tile (32 rows, 32 keys) needs 2 x (1024 + 2048 + 1024 + 1024) = 10240 B; 8 KiB still holds
    # the GEMMs' smallest tiles, so the op runs as two GEMMs with its scores through DRAM, as a design without fusion.
    small_on, small_off = searched(params(gb_kib=8.0)), searched(params(fused=False, gb_kib=8.0))
    assert fused_footprint(32, 32, D, 1, 1, 1, params()) == 10240
    assert small_on[O_MAPPING] == 0.0
    np.testing.assert_array_equal(small_on, small_off)
    assert small_on[O_BYTES_OFFCHIP] >= HEADS * (2 * Q * D + 2 * KV * D) + 2 * PAIRS


@pytest.mark.parametrize("preset", ["TPU-like", "Eyeriss-like", "ZCU102", "ZCU104"])
def test_fusion_holds_on_every_spatial_and_fpga_device(preset):
    hw = load_hardware(preset)
    p = hw.params.copy()
    p[P["fused_attention"]] = 1.0
    op = Op("attention", "attention", dict(batch=1, heads=12, kv_heads=12, q_len=197, kv_len=197, head_dim=64,
                                           causal=0, kv_cache=0))  # ViT-B/16 at 224x224, fp16
    rec = searched(p, op)
    p[P["fused_attention"]] = 0.0
    base = searched(p, op)
    assert rec[O_TIME] <= base[O_TIME]
    if rec[O_MAPPING] == FUSED_MAPPING:
        kv_reads = 1 if rec[O_MAP_3] >= 197 else -(-197 // int(rec[O_MAP_2]))
        assert rec[O_BYTES_OFFCHIP] == 12 * 2 * (2 * 197 * 64 + kv_reads * 2 * 197 * 64)


def test_zcu104_design_fuses_attention():
    assert load_hardware("ZCU104").spec.design.fused_attention
    assert load_hardware("ZCU104").params[P["fused_attention"]] == 1.0
    assert load_hardware("TPU-like").params[P["fused_attention"]] == 0.0  # presets without a source stay unfused
