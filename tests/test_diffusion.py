"""Diffusion workloads: published parameter counts and compute, step/CFG/cache scaling, quantization, simulation."""

from __future__ import annotations

import json
import math

import pytest

import cosim
from sim_checks import assert_simulates
from workloads import WorkloadParamError, load_workload
from workloads.registry import catalog

DIFFUSION = sorted(n for n, e in catalog().items() if e.family == "diffusion")


def _part(wl, component, what="flops", step=None):
    """Total of ``what`` (flops, macs, bytes, parameters) over the ops of one component (and step kind)."""
    ops = [op for op in wl.ops if op.tags["component"] == component and (step is None or op.tags.get("step") == step)]
    assert ops, f"no {component} ops in {wl.name}"
    if what == "parameters":
        return sum(op.parameters * op.tags["weight_copies"] for op in ops)
    return sum(getattr(op, what) * op.count for op in ops)


# ---------------------------------------------------------------- published figures

@pytest.mark.parametrize("name, component, exact", [
    ("sd-1.5", "unet", 859_520_964),
    ("sd-1.5", "text_encoder", 123_060_480),
    ("sd-1.5", "vae_decoder", 49_490_199),
    ("lcm-sd-1.5", "unet", 859_602_884),
    ("dit-xl-2", "dit", 675_129_632),
    ("dit-xl-2", "vae_decoder", 49_490_199),
    ("sdxl-turbo", "unet", 2_567_463_684),
    ("sdxl-turbo", "text_encoder", 123_060_480),
    ("sdxl-turbo", "text_encoder_2", 694_659_840),
    ("sdxl-turbo", "vae_decoder", 49_490_199),
])
def test_parameter_counts(name, component, exact):
    # Exact counts of the released checkpoints (diffusers UNet2DConditionModel / CLIPTextModel / AutoencoderKL
    # decoder + post_quant_conv; DiT models.py including its fixed pos_embed parameter). The nominal figures in the
    # configs' `published:` (≈860 M, ≈123 M, ≈49.5 M, ≈675 M) agree to 0.1 %.
    wl = load_workload(name)
    assert _part(wl, component, "parameters") == exact
    key = "dit_parameters" if component == "dit" else f"{component}_parameters"
    assert exact == pytest.approx(catalog()[name].published[key], rel=1e-3)


def test_whole_pipeline_parameters_count_each_network_once():
    # 50 steps and a doubled text-encoder call must not multiply parameters (tag weight_copies).
    wl = load_workload("sd-1.5", steps=50, guidance_scale=7.5, cache_interval=3)
    assert wl.parameters == 859_520_964 + 123_060_480 + 49_490_199


def test_dit_xl2_gflops_counts_multiply_adds_once():
    """Peebles & Xie Table 4: DiT-XL/2 at 256×256 costs 118.6 "Gflops" per forward pass. The figure counts a
    multiply-add as ONE operation (it equals our MAC count of one forward at batch 1, within 0.5 %, the rounding of
    the published figure plus the small embedding layers); with the IR's FLOPs (2 per MAC) it would be 237."""
    wl = load_workload("dit-xl-2", batch=1, steps=1, guidance_scale=1.0)
    macs = _part(wl, "dit", "macs")
    assert macs / 1e9 == pytest.approx(118.6, rel=0.005)
    assert _part(wl, "dit", "flops") / 1e9 != pytest.approx(118.6, rel=0.5)


def test_sd_unet_macs_match_bk_sdm():
    """BK-SDM (Kim et al., arXiv:2305.15798, Table 1) lists the SD-v1.x U-Net at 339 G MACs per forward (512×512,
    batch 1). Their counter skips the attention score/value products (QKᵀ, AV); conv + linear MACs match within
    0.5 %. The attention products add another ~63 G MACs, dominated by the 4096-token self-attention at 64²."""
    wl = load_workload("sd-1.5", steps=1, guidance_scale=1.0)
    ops = [op for op in wl.ops if op.tags["component"] == "unet"]
    gemm = sum(op.macs for op in ops if op.kind in ("conv", "matmul"))
    attn = sum(op.macs for op in ops if op.kind == "attention")
    assert gemm / 1e9 == pytest.approx(339, rel=0.005)
    assert 55e9 < attn < 70e9


# ---------------------------------------------------------------- steps, guidance

def test_steps_scale_denoiser_linearly_only():
    a, b = load_workload("sd-1.5", steps=10), load_workload("sd-1.5", steps=30)
    assert _part(b, "unet") == pytest.approx(3 * _part(a, "unet"), rel=1e-12)
    for c in ("text_encoder", "vae_decoder"):
        assert _part(b, c) == _part(a, c)
    # Identical steps are one op set: more steps change counts, not the op list.
    assert len(a.ops) == len(b.ops)
    assert {op.count for op in b.ops if op.tags["component"] == "unet"} == {30}
    assert len(b.deduplicated().ops) == len(b.ops)


def test_cfg_doubles_unet_and_text_encoder_not_vae():
    # diffusers' StableDiffusionPipeline (guidance_scale > 1): the U-Net sees cat([latents] * 2), and encode_prompt
    # runs the text encoder a second time on the negative (empty) prompt; the VAE decodes `batch` latents only.
    on, off = load_workload("sd-1.5", guidance_scale=7.5), load_workload("sd-1.5", guidance_scale=1.0)
    assert on.params["cfg"] and not off.params["cfg"]
    assert _part(on, "unet") == pytest.approx(2 * _part(off, "unet"), rel=1e-12)
    assert _part(on, "text_encoder") == pytest.approx(2 * _part(off, "text_encoder"), rel=1e-12)
    assert _part(on, "vae_decoder") == _part(off, "vae_decoder")
    dit_on, dit_off = load_workload("dit-xl-2", guidance_scale=4.0), load_workload("dit-xl-2", guidance_scale=1.0)
    assert _part(dit_on, "dit") == pytest.approx(2 * _part(dit_off, "dit"), rel=1e-12)


def test_lcm_embeds_guidance_and_takes_few_steps():
    a, b = load_workload("lcm-sd-1.5", guidance_scale=8.5), load_workload("lcm-sd-1.5", guidance_scale=1.0)
    assert not a.params["cfg"] and a.params["denoiser_batch"] == 1
    assert a.flops == b.flops
    sd = load_workload("sd-1.5", steps=4, guidance_scale=1.0)
    # The same U-Net plus the w-embedding projection (cond_proj): within 0.01 % of SD-1.5 per step.
    assert _part(a, "unet") == pytest.approx(_part(sd, "unet"), rel=1e-4)
    with pytest.raises(WorkloadParamError, match="steps"):
        load_workload("lcm-sd-1.5", steps=20)


# ---------------------------------------------------------------- step caching

def _shallow_macs(b=1, t=64 * 64, ctx=77, ctx_dim=768):
    """Hand count (independent of the emitters) of one DeepCache shallow pass of the SD-1.5 U-Net at 64×64:
    time embedding, conv_in, down block 0 (2 ResNets + 2 transformers, no downsampler), up block 3 (3 ResNets with
    960/640/640 → 320 channels and 1×1 shortcuts, 3 transformers), conv_out."""
    c = 320

    def resnet(cin):
        return t * (cin * c * 9 + c * c * 9 + (cin * c if cin != c else 0)) + 1280 * c

    def transformer():
        linear = t * c * c * (2 + 4 + 2) + ctx * ctx_dim * c * 2 + t * c * 8 * c + t * 4 * c * c
        return linear + 2 * t * t * c + 2 * t * ctx * c

    temb = 320 * 1280 + 1280 * 1280
    down = 2 * resnet(c) + 2 * transformer()
    up = resnet(960) + 2 * resnet(640) + 3 * transformer()
    return b * (temb + t * 4 * c * 9 + down + up + t * c * 4 * 9)


@pytest.mark.parametrize("interval", [2, 3, 5])
def test_cache_interval_reduces_unet_work_by_expected_fraction(interval):
    steps = 50
    base = load_workload("sd-1.5", steps=steps, guidance_scale=1.0)
    wl = load_workload("sd-1.5", steps=steps, guidance_scale=1.0, cache_interval=interval)
    full_macs = _part(base, "unet", "macs") / steps
    shallow = _part(wl, "unet", "macs", step="cached") / wl.params["cached_steps"]
    assert shallow == pytest.approx(_shallow_macs(), rel=1e-12)
    n_full = math.ceil(steps / interval)
    assert (wl.params["full_steps"], wl.params["cached_steps"]) == (n_full, steps - n_full)
    expected = (n_full * full_macs + (steps - n_full) * shallow) / (steps * full_macs)
    assert _part(wl, "unet", "macs") / _part(base, "unet", "macs") == pytest.approx(expected, rel=1e-12)
    assert 0.3 < shallow / full_macs < 0.45  # the 64² blocks carry the 4096-token attention
    for c in ("text_encoder", "vae_decoder"):
        assert _part(wl, c) == _part(base, c)


def test_cache_branch_runs_deepcache_block_layers():
    """DeepCache's cache_block_id b (layer 0): layers 0..b of down block 0 and the last b + 2 layers of the last up
    block run on a cached step; the default is the whole first and last blocks."""
    def cached_layers(**kw):
        wl = load_workload("sd-1.5", steps=2, guidance_scale=1.0, cache_interval=2, **kw)
        parts = [op.name.split(".") for op in wl.ops if op.tags.get("step") == "cached"]
        return {".".join(p[1:5]) for p in parts
                if p[1] in ("down_blocks", "up_blocks") and p[3] in ("resnets", "attentions")}
    assert cached_layers(cache_branch=0) == {"down_blocks.0.resnets.0", "down_blocks.0.attentions.0",
                                             "up_blocks.3.resnets.1", "up_blocks.3.attentions.1",
                                             "up_blocks.3.resnets.2", "up_blocks.3.attentions.2"}
    default = cached_layers()
    assert default == cached_layers(cache_branch=1) and len(default) == 10


def test_cache_plan_equal_to_interval_schedule_gives_identical_totals():
    steps, n = 12, 3
    by_interval = load_workload("sd-1.5", steps=steps, cache_interval=n)
    plan = [0 if i % n == 0 else 1 for i in range(steps)]
    hw = cosim.load_hardware("H100-SXM5-80GB")
    for given in (plan, ",".join(map(str, plan))):
        by_plan = load_workload("sd-1.5", steps=steps, cache_plan=given)
        assert by_plan.flops == by_interval.flops and by_plan.bytes == by_interval.bytes
        assert by_plan.params["cache_plan"] == by_interval.params["cache_plan"]
        assert cosim.simulate(hw, by_plan).latency_s == cosim.simulate(hw, by_interval).latency_s
    # A different plan with the same number of cached steps gives the same totals too (steps are independent).
    assert load_workload("sd-1.5", steps=4, cache_plan="0,0,1,1").flops == load_workload(
        "sd-1.5", steps=4, cache_plan="0,1,0,1").flops


# ---------------------------------------------------------------- quantization

def _weight_bytes(wl):
    return sum(op.operand_bytes["weight"] * op.count for op in wl.ops if op.kind in ("conv", "matmul"))


@pytest.mark.parametrize("name", DIFFUSION)
def test_uniform_quantization_scales_weight_bytes(name):
    fp16 = load_workload(name, quant="fp16")
    w8, w4 = load_workload(name, quant="W8A8"), load_workload(name, quant="W4A8")
    assert _weight_bytes(w8) == pytest.approx(_weight_bytes(fp16) / 2, rel=1e-12)
    assert _weight_bytes(w4) == pytest.approx(_weight_bytes(fp16) / 4, rel=1e-12)
    # Resident weights: conv/linear layers shrink by the same ratio; norms and embedding tables stay 16-bit.
    layers = sum(op.parameters * op.tags["weight_copies"] * 2.0 for op in fp16.ops if op.kind in ("conv", "matmul"))
    rest = fp16.memory_bytes["weights"] - layers
    assert 0 < rest < 0.05 * fp16.memory_bytes["weights"]
    assert w8.memory_bytes["weights"] == pytest.approx(rest + layers / 2, rel=1e-12)
    assert w4.memory_bytes["weights"] == pytest.approx(rest + layers / 4, rel=1e-12)
    gemm = [op for op in w4.ops if op.kind == "conv"]
    assert all((op.weight_bits, op.act_bits, op.dtype) == (4, 8, "int8") for op in gemm)
    attn = [op for op in w8.ops if op.kind == "attention"]
    assert all(op.dtype == "fp16" for op in attn)  # activation × activation products keep the base dtype


def test_mixed_quant_map_applies_per_layer(tmp_path):
    mapping = {"unet.down_blocks.*": "W4A8", "unet.*": "W8A8", "text_encoder.*.mlp.*": "W8A8"}
    wl = load_workload("sd-1.5", steps=2, quant=mapping)
    by_name = {op.name: op for op in wl.ops}
    assert by_name["unet.down_blocks.1.resnets.0.conv1"].weight_bits == 4  # first matching pattern wins
    assert by_name["unet.up_blocks.2.attentions.0.transformer_blocks.0.ff.net.2"].weight_bits == 8
    assert by_name["text_encoder.encoder.layers.3.mlp.fc1"].dtype == "int8"
    assert by_name["text_encoder.encoder.layers.3.self_attn.q_proj"].dtype == "fp16"
    assert by_name["vae_decoder.decoder.conv_in"].weight_bits == 16
    as_json = tmp_path / "q.json"
    as_json.write_text(json.dumps(mapping))
    as_yaml = tmp_path / "q.yaml"
    as_yaml.write_text("".join(f"'{k}': {v}\n" for k, v in mapping.items()))
    for path in (as_json, as_yaml):
        other = load_workload("sd-1.5", steps=2, quant=str(path))
        assert [(o.weight_bits, o.act_bits, o.dtype) for o in other.ops] == [
            (o.weight_bits, o.act_bits, o.dtype) for o in wl.ops]
    assert _weight_bytes(load_workload("sd-1.5", steps=2, quant="fp16")) > _weight_bytes(wl)


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize("name, params, message", [
    ("sd-1.5", {"batch": 0}, "batch"),
    ("sd-1.5", {"steps": 2.5}, "steps"),
    ("sd-1.5", {"guidance_scale": -1.0}, "guidance_scale"),
    ("sd-1.5", {"resolution": 500}, "resolution"),
    ("sd-1.5", {"dtype": "int3"}, "dtype"),
    ("sd-1.5", {"quant": "W3A8"}, "W8A8, W4A8, fp16"),
    ("sd-1.5", {"quant": {"unet.*": "int2"}}, "allowed formats"),
    ("sd-1.5", {"quant": {"unet.nothing.*": "W8A8"}}, "matches no weight layer"),
    ("sd-1.5", {"cache_interval": 0}, "cache_interval"),
    ("sd-1.5", {"cache_branch": 2}, "cache_branch"),
    ("sd-1.5", {"steps": 3, "cache_plan": "0,1"}, "cache_plan has 2 entries"),
    ("sd-1.5", {"steps": 3, "cache_plan": "1,0,0"}, "start with 0"),
    ("sd-1.5", {"steps": 3, "cache_plan": "0,2,1"}, "0/1"),
    ("sd-1.5", {"steps": 3, "cache_interval": 2, "cache_plan": "0,1,0"}, "not both"),
    ("dit-xl-2", {"resolution": 384}, "resolution"),
    ("dit-xl-2", {"cache_interval": 2}, "unknown parameter"),
])
def test_bad_parameters_are_named(name, params, message):
    with pytest.raises(WorkloadParamError, match=message):
        load_workload(name, **params)


def test_effective_parameters_are_recorded():
    wl = load_workload("sd-1.5", batch=2, steps=6, cache_interval=2, quant="W8A8")
    p = wl.params
    assert (p["batch"], p["steps"], p["cfg"], p["denoiser_batch"], p["cache_plan"]) == (2, 6, True, 4, "0,1,0,1,0,1")
    assert (p["full_steps"], p["cached_steps"], p["quant"]) == (3, 3, "W8A8")
    assert wl.items == 2 and wl.item_unit == "image"
    assert {op.tags["component"] for op in wl.ops} == {"text_encoder", "unet", "scheduler", "vae_decoder"}
    assert {op.tags["stage"] for op in wl.ops} == {0}


# ---------------------------------------------------------------- simulation

@pytest.mark.parametrize("name", DIFFUSION)
def test_catalog_entry_simulates_on_h100(name):
    assert {"sd-1.5", "lcm-sd-1.5", "dit-xl-2"} <= set(DIFFUSION)
    assert_simulates(cosim.load_workload(name))
