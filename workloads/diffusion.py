"""Diffusion pipelines as workloads: Stable Diffusion 1.5, a latent-consistency (LCM) few-step variant, DiT-XL/2.

One workload is one text-to-image (or class-to-image) generation of ``batch`` images: the text encoder once, the
denoiser once per step, the VAE decoder once. Identical denoising steps are one op set whose ``count`` is the number
of such steps (tag ``step``: ``full`` or, with step caching, ``cached``); every op carries a ``component`` tag
(``text_encoder``, ``unet`` / ``dit``, ``scheduler``, ``vae_decoder``).

Classifier-free guidance follows diffusers' ``StableDiffusionPipeline`` and DiT's ``sample.py``: it is on when
``guidance_scale > 1``; the denoiser then runs on a doubled batch (unconditional + conditional latents in one call)
and, for Stable Diffusion, the text encoder runs a second time on the negative (empty) prompt. The VAE decodes only
the ``batch`` final latents. LCM embeds the guidance scale in the time embedding instead: one prompt encoding, no
doubled batch, whatever ``guidance_scale`` is.
"""

from __future__ import annotations

from typing import Any

from workloads.diffusion_config import DiffusionConfig, available_diffusion_configs, load_diffusion_config
from workloads.diffusion_nets import Net, clip_text_encoder, dit, unet, unet_shallow_prefixes, vae_decoder
from workloads.act_quant import insert_act_quant
from workloads.diffusion_options import apply_quant, cache_schedule, quant_rules
from workloads.dtypes import DTYPE_BITS
from workloads.ir import Op, Workload
from workloads.registry import WorkloadEntry
from workloads.transformer import WorkloadParamError

_DTYPES = ("fp16", "bf16", "fp32")


def _positive_int(name: str, value: Any, low: int = 1, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value or value < low or (
            high is not None and value > high):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise WorkloadParamError(f"{name} must be an integer {bound}, got {value!r}")
    return int(value)


def _check_common(cfg: DiffusionConfig, batch: Any, steps: Any, guidance_scale: Any, dtype: Any) -> tuple[int, int]:
    b = _positive_int("batch", batch)
    s = _positive_int("steps", steps, cfg.defaults.min_steps, cfg.defaults.max_steps)
    if isinstance(guidance_scale, bool) or not isinstance(guidance_scale, (int, float)) or guidance_scale < 0:
        raise WorkloadParamError(f"guidance_scale must be a number >= 0 (CFG runs when > 1), got {guidance_scale!r}")
    if dtype not in _DTYPES:
        raise WorkloadParamError(f"dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}")
    return b, s


def _repeat(ops: list[Op], count: int, weight_copies: int, **tags: Any) -> list[Op]:
    """The ops of one network call, run ``count`` times, holding ``weight_copies`` parameter sets."""
    for op in ops:
        op.count = count
        op.tags.update(tags, weight_copies=weight_copies)
    return ops


def _scheduler_ops(b: int, channels: int, h: int, w: int, steps: int, cfg_on: bool, bits: int, dtype: str) -> list[Op]:
    """Per-step latent update (and the guidance combination uncond + s·(cond − uncond) under CFG)."""
    net = Net("scheduler", bits, dtype)
    if cfg_on:
        net.eltwise("cfg_combine", b * channels * h * w, inputs=2, flops=3)
    net.eltwise("step", b * channels * h * w, inputs=2, flops=6)
    return _repeat(net.ops, steps, 0)


def _finish(wl: Workload, quant: Any, act_quant: str, extra_activation_elements: int, bits: int) -> None:
    """Apply the quantization map and its activation quantizers, record them, and set resident memory (all networks
    stay on the device)."""
    formats = apply_quant(wl.ops, quant_rules(quant))
    wl.ops = insert_act_quant(wl.ops, act_quant, bits, wl.params["dtype"])
    wl.params["quant"], wl.params["act_quant"] = quant, act_quant
    wl.params["quantized_layers"] = len(formats)
    weights = wl.parameter_bytes
    largest = max(op.operand_bytes.get("input", 0.0) + op.operand_bytes.get("output", 0.0) for op in wl.ops)
    wl.memory_bytes = {"weights": weights, "kv_cache": 0.0,
                       "activations": 2.0 * largest + extra_activation_elements * bits / 8.0}


def build_unet_pipeline(cfg: DiffusionConfig, batch: int = 1, steps: int = 50, guidance_scale: float = 7.5,
                        resolution: int = 512, dtype: str = "fp16", quant: Any = "none", cache_interval: int = 1,
                        cache_plan: Any = "", cache_branch: Any = None, act_quant: str = "static") -> Workload:
    """Text-to-image with a CLIP text encoder, a conditional U-Net and a VAE decoder.

    ``cache_interval`` / ``cache_plan`` select DeepCache steps (Ma et al., arXiv:2312.00858): on a cached step only
    the shallow branch runs — time embedding, conv_in, the first down block's ResNet/attention layers, the last up
    block and conv_out — and the deep features (the input of the last up block) are reused from the last full step.
    ``cache_branch`` is DeepCache's ``cache_block_id`` (layers 0..branch of the first down block and the last
    branch + 2 layers of the last up block run on a cached step); the default, ``layers_per_block - 1``, is the
    whole first down block and last up block. ``act_quant`` is how W8A8 / W4A8 layers get their int8 inputs
    (``workloads.act_quant``: a separate ``static`` or ``dynamic`` quantize op before each, or ``fused``).
    """
    b, s = _check_common(cfg, batch, steps, guidance_scale, dtype)
    f = cfg.vae.downscale * 2 ** (len(cfg.unet.block_out_channels) - 1)
    if _positive_int("resolution", resolution, f) % f:
        raise WorkloadParamError(f"resolution must be a multiple of {f} (VAE ×{cfg.vae.downscale}, U-Net "
                                 f"downsamplers), got {resolution!r}")
    plan = cache_schedule(s, cache_interval, cache_plan)
    layers = cfg.unet.layers_per_block
    branch = layers - 1 if cache_branch is None else _positive_int("cache_branch", cache_branch, 0, layers - 1)
    full, cached = plan.count(0), plan.count(1)
    cfg_on = guidance_scale > 1.0 and not cfg.guidance_embedded
    ub = 2 * b if cfg_on else b
    lat = resolution // cfg.vae.downscale
    bits = DTYPE_BITS[dtype]
    te, ctx = cfg.text_encoder, cfg.text_encoder.max_position_embeddings
    wl = Workload(f"{cfg.name}/txt2img", items=float(b), item_unit="image", params=dict(
        model=cfg.name, batch=b, steps=s, guidance_scale=float(guidance_scale), cfg=cfg_on, denoiser_batch=ub,
        resolution=resolution, latent=lat, dtype=dtype, cache_interval=cache_interval,
        cache_plan=",".join(map(str, plan)), cache_branch=branch, full_steps=full, cached_steps=cached))
    hidden = 0
    for component, encoder in (("text_encoder", te), ("text_encoder_2", cfg.text_encoder_2)):
        if encoder is None:
            continue
        text = Net(component, bits, dtype)
        clip_text_encoder(text, encoder, b)
        wl.extend(_repeat(text.ops, 2 if cfg_on else 1, 1))  # diffusers encodes the negative prompt in a second call
        hidden += encoder.hidden_size
    net = Net("unet", bits, dtype)
    skip_elements = unet(net, cfg.unet, ub, lat, lat, ctx)
    shallow = unet_shallow_prefixes(cfg.unet, branch)
    shallow_ops = [Op(op.name, op.kind, dict(op.dims), op.act_bits, op.weight_bits, op.out_bits, 1, op.sparsity,
                      dict(op.tags), op.dtype) for op in net.ops if op.name.startswith(shallow)]
    wl.extend(_repeat(net.ops, full, 1, step="full"))
    cache_elements = 0
    if cached:
        wl.extend(_repeat(shallow_ops, cached, 0, step="cached"))
        cache_elements = ub * cfg.unet.block_out_channels[1] * lat * lat  # output of the second-to-last up block
    wl.extend(_scheduler_ops(b, cfg.unet.out_channels, lat, lat, s, cfg_on, bits, dtype))
    vae = Net("vae_decoder", bits, dtype)
    vae_decoder(vae, cfg.vae, b, lat, lat)
    wl.extend(_repeat(vae.ops, 1, 1))
    _finish(wl, quant, act_quant, skip_elements + cache_elements + ub * ctx * hidden, bits)
    return wl


def build_dit_pipeline(cfg: DiffusionConfig, batch: int = 1, steps: int = 250, guidance_scale: float = 4.0,
                       resolution: int = 256, dtype: str = "fp16", quant: Any = "none",
                       act_quant: str = "static") -> Workload:
    """Class-conditional generation with DiT: the transformer once per step, then the VAE decoder.
    Step caching (DeepCache) is defined for U-Nets and is not offered here; ``act_quant`` as for U-Net pipelines."""
    b, s = _check_common(cfg, batch, steps, guidance_scale, dtype)
    d = cfg.dit
    if resolution not in d.resolutions:
        raise WorkloadParamError(f"resolution must be one of {d.resolutions} (released {cfg.name} checkpoints), "
                                 f"got {resolution!r}")
    cfg_on = guidance_scale > 1.0
    ub = 2 * b if cfg_on else b
    lat = resolution // cfg.vae.downscale
    bits = DTYPE_BITS[dtype]
    wl = Workload(f"{cfg.name}/class2img", items=float(b), item_unit="image", params=dict(
        model=cfg.name, batch=b, steps=s, guidance_scale=float(guidance_scale), cfg=cfg_on, denoiser_batch=ub,
        resolution=resolution, latent=lat, dtype=dtype, full_steps=s, cached_steps=0))
    net = Net("dit", bits, dtype)
    dit(net, d, ub, lat)
    wl.extend(_repeat(net.ops, s, 1, step="full"))
    wl.extend(_scheduler_ops(b, d.in_channels, lat, lat, s, cfg_on, bits, dtype))
    vae = Net("vae_decoder", bits, dtype)
    vae_decoder(vae, cfg.vae, b, lat, lat)
    wl.extend(_repeat(vae.ops, 1, 1))
    _finish(wl, quant, act_quant, 0, bits)
    return wl


def _builder(cfg: DiffusionConfig):
    """A keyword-only builder for one config, with that config's sampling defaults (so every parameter can be a
    sweep axis and ``load_workload(name)`` works)."""
    dflt = cfg.defaults
    if cfg.kind == "unet":
        def build(batch: int = 1, steps: int = dflt.steps, guidance_scale: float = float(dflt.guidance_scale),
                  resolution: int = dflt.resolution, dtype: str = "fp16", quant: Any = "none",
                  cache_interval: int = 1, cache_plan: Any = "", cache_branch: Any = None,
                  act_quant: str = "static") -> Workload:
            return build_unet_pipeline(cfg, batch, steps, guidance_scale, resolution, dtype, quant, cache_interval,
                                       cache_plan, cache_branch, act_quant)
        build.__doc__ = build_unet_pipeline.__doc__
    else:
        def build(batch: int = 1, steps: int = dflt.steps, guidance_scale: float = float(dflt.guidance_scale),
                  resolution: int = dflt.resolution, dtype: str = "fp16", quant: Any = "none",
                  act_quant: str = "static") -> Workload:
            return build_dit_pipeline(cfg, batch, steps, guidance_scale, resolution, dtype, quant, act_quant)
        build.__doc__ = build_dit_pipeline.__doc__
    return build


def catalog() -> dict[str, WorkloadEntry]:
    entries = {}
    for name in available_diffusion_configs():
        cfg = load_diffusion_config(name)
        entries[cfg.name] = WorkloadEntry(name=cfg.name, family="diffusion", builder=_builder(cfg),
                                          description=cfg.description, published=dict(cfg.published),
                                          sources=tuple(cfg.sources))
    return entries
