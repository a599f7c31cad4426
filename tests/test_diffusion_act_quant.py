"""Activation quantisation of W8A8 / W4A8 diffusion layers: the separate quantise op before each integer layer
(``static``, ``dynamic-token``; ``dynamic-tensor`` after an absmax reduction) or none (``fused``), checked against
hand counts of bytes and operations."""

import pytest

from workloads import load_workload
from workloads.act_quant import ACT_QUANT_MODES
from workloads.ir import reductions_per_element
from workloads.transformer import WorkloadParamError

# sd-1.5, one step, CFG on: the U-Net runs on a doubled batch of 2; the mid block works on 64 / 8 = 8x8 latents.
Q = "unet.mid_block.attentions.0.transformer_blocks.0.attn1.to_q"
TOKENS, D = 2 * 8 * 8, 1280            # rows (batch 2 x 64 positions) and model width of the mid block
CONV_IN = 2 * 4 * 64 * 64              # conv_in input: batch 2, 4 latent channels, 64 x 64


def _ops(fmt="W8A8", act_quant="static", layer=Q):
    wl = load_workload("sd-1.5", steps=1, quant={layer: fmt}, act_quant=act_quant)
    return wl, {op.name: op for op in wl.ops}


@pytest.mark.parametrize("mode, flops", [("static", 5), ("dynamic-token", 7), ("dynamic-tensor", 5)])
def test_quantise_op_bytes_and_operations(mode, flops):
    wl, ops = _ops(act_quant=mode)
    q = ops[f"{Q}.quantize_input"]
    # one pass: read the fp16 input (2 B an element), write int8 (1 B an element)
    assert (q.kind, q.dim("elements"), q.act_bits, q.out_bits) == ("elementwise", TOKENS * D, 16, 8)
    assert q.bytes == TOKENS * D * (2 + 1)
    assert q.flops == flops * TOKENS * D
    assert reductions_per_element(q) == (1.0 if mode == "dynamic-token" else 0.0)  # the per-token absmax
    assert q.count == ops[Q].count and q.parameters == 0
    names = [op.name for op in wl.ops]
    assert names.index(f"{Q}.quantize_input") == names.index(Q) - 1  # right before its layer
    assert sum(n.endswith(".quantize_input") for n in names) == 1  # only the quantised layer gets one
    absmax = ops.get(f"{Q}.absmax")
    if mode != "dynamic-tensor":
        assert absmax is None
    else:  # a whole-tensor reduction first: reads the fp16 input, abs and max an element, writes one fp32 scale
        assert names.index(f"{Q}.absmax") == names.index(Q) - 2
        assert (absmax.bytes, absmax.flops, reductions_per_element(absmax)) == (TOKENS * D * 2 + 4, 2 * TOKENS * D, 1)


def test_w8a8_layer_total_hbm_bytes():
    _, ops = _ops()
    # quantise: 2 + 1 B an input element; GEMM: int8 input, int8 weight D x D, fp16 output (dequantised epilogue)
    total = ops[f"{Q}.quantize_input"].bytes + ops[Q].bytes
    assert total == TOKENS * D * (2 + 1) + TOKENS * D * 1 + D * D * 1 + TOKENS * D * 2
    _, fused = _ops(act_quant="fused")
    assert f"{Q}.quantize_input" not in fused
    assert fused[Q].bytes == TOKENS * D * 1 + D * D * 1 + TOKENS * D * 2


def test_conv_input_and_w4a8():
    _, ops = _ops("W4A8", layer="unet.conv_in")
    q = ops["unet.conv_in.quantize_input"]
    assert (q.dim("elements"), q.bytes) == (CONV_IN, CONV_IN * 3)  # W4A8 activations are int8 too


def test_fp16_layers_and_unquantised_workloads_add_nothing():
    for quant in ("none", "fp16"):
        wl = load_workload("sd-1.5", steps=1, quant=quant)
        assert not any(op.tags.get("role") == "act_quant" for op in wl.ops)
    wl = load_workload("dit-xl-2", steps=1, quant="W8A8")
    layers = [op for op in wl.ops if op.dtype == "int8"]
    quantisers = [op for op in wl.ops if op.tags.get("role") == "act_quant"]
    assert len(quantisers) == len(layers) > 0
    assert wl.params["act_quant"] == "static"


def test_bad_mode_is_named():
    assert ACT_QUANT_MODES == ("static", "dynamic-token", "dynamic-tensor", "fused")
    with pytest.raises(WorkloadParamError, match="act_quant must be one of static, dynamic-token, dynamic-tensor, fused"):
        load_workload("sd-1.5", steps=1, quant="W8A8", act_quant="per-channel")


def test_gpu_prices_every_mode():
    import cosim

    hw = cosim.load_hardware("RTX-3090")
    times = {}
    for mode in ("fused", "static", "dynamic-tensor"):
        r = cosim.simulate(hw, load_workload("sd-1.5", steps=1, quant="W8A8", act_quant=mode))
        ops = r.ops.set_index("op")
        times[mode] = r.latency_s
        if mode != "fused":  # the quantise op streams its compulsory bytes through HBM
            assert ops.loc[f"{Q}.quantize_input", "dram_bytes"] == pytest.approx(TOKENS * D * 3)
    assert times["fused"] < times["static"] < times["dynamic-tensor"]
