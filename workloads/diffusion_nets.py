"""Op emitters for the networks of diffusion pipelines: CLIP text encoder, SD U-Net, VAE decoder, DiT.

Ops are named by their module path in the published implementation (diffusers / facebookresearch DiT), prefixed with
the component, e.g. ``unet.down_blocks.0.attentions.1.transformer_blocks.0.attn2.to_k``; quantization maps match
these names. Every op is emitted once (count 1) at full precision; the pipeline builder sets counts and datatypes.
"""

from __future__ import annotations

from workloads.diffusion_config import DiTConfig, TextEncoderConfig, UNetConfig, VAEConfig
from workloads.ir import Op

# Arithmetic per element of non-GEMM layers (same convention as workloads.transformer).
_NORM_FLOPS = 7          # mean, variance, normalise, scale, shift
_SILU_FLOPS = 4
_GELU_FLOPS = 8
_QUICK_GELU_FLOPS = 5    # x * sigmoid(1.702 x)


class Net:
    """Collects the ops of one component (``text_encoder``, ``unet``, ``vae_decoder``, ``dit``)."""

    def __init__(self, component: str, act_bits: int = 16, dtype: str = "fp16") -> None:
        self.component, self.bits, self.dtype = component, act_bits, dtype
        self.ops: list[Op] = []

    def _add(self, name: str, kind: str, **dims: int) -> Op:
        op = Op(f"{self.component}.{name}", kind, dims, act_bits=self.bits, weight_bits=self.bits,
                out_bits=self.bits, tags={"stage": 0, "component": self.component}, dtype=self.dtype)
        self.ops.append(op)
        return op

    def conv(self, name: str, b: int, cin: int, cout: int, h: int, w: int, k: int, stride: int = 1,
             bias: bool = True) -> tuple[int, int]:
        """A 2-D convolution with 'same' padding (k // 2); returns the output size."""
        pad = k // 2 if stride == 1 or k > stride else 0
        oh, ow = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
        self._add(name, "conv", batch=b, in_ch=cin, out_ch=cout, in_h=h, in_w=w, out_h=oh, out_w=ow, kernel_h=k,
                  kernel_w=k, stride=stride, groups=1, bias=int(bias))
        return oh, ow

    def linear(self, name: str, m: int, k: int, n: int, bias: bool = True) -> None:
        op = self._add(name, "matmul", m=m, n=n, k=k, batch=1, bias=int(bias))
        op.tags["weight"] = True

    def norm(self, name: str, elements: int, params: int) -> None:
        self._add(name, "norm", elements=elements, inputs=1, flops_per_element=_NORM_FLOPS, params=params)

    def eltwise(self, name: str, elements: int, inputs: int = 1, flops: int = 1, params: int = 0) -> None:
        self._add(name, "elementwise", elements=elements, inputs=inputs, flops_per_element=flops, params=params)

    def attention(self, name: str, b: int, heads: int, q_len: int, kv_len: int, head_dim: int,
                  causal: bool = False) -> None:
        self._add(name, "attention", batch=b, heads=heads, kv_heads=heads, q_len=q_len, kv_len=kv_len,
                  head_dim=head_dim, causal=int(causal), kv_cache=0)

    def gather(self, name: str, rows: int, table_rows: int, row_elems: int) -> None:
        self._add(name, "gather", rows=rows, table_rows=table_rows, row_elems=row_elems)

    # ---- blocks shared by the U-Net and the VAE ----
    def resnet(self, p: str, b: int, cin: int, cout: int, h: int, w: int, groups_temb: int = 0) -> None:
        """``ResnetBlock2D``: GroupNorm, SiLU, 3×3 conv, (+ time-embedding projection), GroupNorm, SiLU, 3×3 conv,
        1×1 shortcut when the channel count changes, residual add. ``groups_temb`` is the time-embedding width."""
        hw = h * w
        self.norm(f"{p}.norm1", b * cin * hw, 2 * cin)
        self.eltwise(f"{p}.nonlinearity1", b * cin * hw, flops=_SILU_FLOPS)
        self.conv(f"{p}.conv1", b, cin, cout, h, w, 3)
        if groups_temb:
            self.eltwise(f"{p}.time_emb_act", b * groups_temb, flops=_SILU_FLOPS)
            self.linear(f"{p}.time_emb_proj", b, groups_temb, cout)
            self.eltwise(f"{p}.time_emb_add", b * cout * hw, flops=1)
        self.norm(f"{p}.norm2", b * cout * hw, 2 * cout)
        self.eltwise(f"{p}.nonlinearity2", b * cout * hw, flops=_SILU_FLOPS)
        self.conv(f"{p}.conv2", b, cout, cout, h, w, 3)
        if cin != cout:
            self.conv(f"{p}.conv_shortcut", b, cin, cout, h, w, 1)
        self.eltwise(f"{p}.residual_add", b * cout * hw, inputs=2, flops=1)

    def upsample(self, p: str, b: int, c: int, h: int, w: int) -> tuple[int, int]:
        """``Upsample2D``: nearest-neighbour ×2 (a copy, no arithmetic) then a 3×3 conv."""
        self.eltwise(f"{p}.interpolate", b * c * 4 * h * w, flops=0)
        return self.conv(f"{p}.conv", b, c, c, 2 * h, 2 * w, 3)


def clip_text_encoder(net: Net, cfg: TextEncoderConfig, b: int) -> None:
    """``CLIPTextModel`` over ``b`` prompts padded to ``max_position_embeddings`` tokens (causal self-attention)."""
    d, t = cfg.hidden_size, cfg.max_position_embeddings
    tokens, heads = b * t, cfg.num_attention_heads
    net.gather("embeddings.token_embedding", tokens, cfg.vocab_size, d)
    net.gather("embeddings.position_embedding", tokens, t, d)
    net.eltwise("embeddings.add", tokens * d, inputs=2)
    for i in range(cfg.num_hidden_layers):
        p = f"encoder.layers.{i}"
        net.norm(f"{p}.layer_norm1", tokens * d, 2 * d)
        for proj in ("q_proj", "k_proj", "v_proj"):
            net.linear(f"{p}.self_attn.{proj}", tokens, d, d)
        net.attention(f"{p}.self_attn.attention", b, heads, t, t, d // heads, causal=True)
        net.linear(f"{p}.self_attn.out_proj", tokens, d, d)
        net.eltwise(f"{p}.residual_add1", tokens * d, inputs=2)
        net.norm(f"{p}.layer_norm2", tokens * d, 2 * d)
        net.linear(f"{p}.mlp.fc1", tokens, d, cfg.intermediate_size)
        act = _QUICK_GELU_FLOPS if cfg.hidden_act == "quick_gelu" else _GELU_FLOPS
        net.eltwise(f"{p}.mlp.activation_fn", tokens * cfg.intermediate_size, flops=act)
        net.linear(f"{p}.mlp.fc2", tokens, cfg.intermediate_size, d)
        net.eltwise(f"{p}.residual_add2", tokens * d, inputs=2)
    net.norm("final_layer_norm", tokens * d, 2 * d)
    if cfg.projection_dim:
        net.linear("text_projection", b, d, cfg.projection_dim, bias=False)  # on the pooled (end-of-text) token


def _transformer2d(net: Net, p: str, b: int, c: int, h: int, w: int, heads: int, ctx_len: int, ctx_dim: int,
                   depth: int = 1, linear_projection: bool = False) -> None:
    """``Transformer2DModel`` with ``depth`` ``BasicTransformerBlock``s: GroupNorm, proj_in (1×1 conv, or a Linear
    over tokens), per block self-attention, cross-attention to the text context and a GEGLU feed-forward (inner 4c),
    then proj_out and the residual."""
    t = h * w
    tok, hd = b * t, c // heads

    def proj(name: str) -> None:
        if linear_projection:
            net.linear(f"{p}.{name}", tok, c, c)
        else:
            net.conv(f"{p}.{name}", b, c, c, h, w, 1)

    net.norm(f"{p}.norm", b * c * t, 2 * c)
    proj("proj_in")
    for k in range(depth):
        q = f"{p}.transformer_blocks.{k}"
        for a, kv_len, kv_dim in (("attn1", t, c), ("attn2", ctx_len, ctx_dim)):
            n = "norm1" if a == "attn1" else "norm2"
            net.norm(f"{q}.{n}", tok * c, 2 * c)
            net.linear(f"{q}.{a}.to_q", tok, c, c, bias=False)
            net.linear(f"{q}.{a}.to_k", b * kv_len, kv_dim, c, bias=False)
            net.linear(f"{q}.{a}.to_v", b * kv_len, kv_dim, c, bias=False)
            net.attention(f"{q}.{a}.attention", b, heads, t, kv_len, hd)
            net.linear(f"{q}.{a}.to_out.0", tok, c, c)
            net.eltwise(f"{q}.{a}.residual_add", tok * c, inputs=2)
        net.norm(f"{q}.norm3", tok * c, 2 * c)
        net.linear(f"{q}.ff.net.0.proj", tok, c, 8 * c)
        net.eltwise(f"{q}.ff.net.0.geglu", tok * 4 * c, inputs=2, flops=_GELU_FLOPS + 1)
        net.linear(f"{q}.ff.net.2", tok, 4 * c, c)
        net.eltwise(f"{q}.ff.residual_add", tok * c, inputs=2)
    proj("proj_out")
    net.eltwise(f"{p}.residual_add", b * c * t, inputs=2)


def unet_shallow_prefixes(cfg: UNetConfig, branch: int) -> tuple[str, ...]:
    """Module-path prefixes of the U-Net's shallow branch (DeepCache): what still runs on a cached step.

    ``branch`` is DeepCache's ``cache_block_id`` with ``cache_layer_id`` 0 (Ma et al., arXiv:2312.00858, Sec. 3.2 and
    the authors' ``unet_2d_condition.py``): layers 0..branch of the first down block run, then the last
    ``branch + 2`` layers of the last up block take the cached deep feature."""
    last_up, layers = len(cfg.up_block_types) - 1, cfg.layers_per_block
    down = [f"unet.down_blocks.0.{part}.{j}." for j in range(branch + 1) for part in ("resnets", "attentions")]
    up = [f"unet.up_blocks.{last_up}.{part}.{j}." for j in range(layers - 1 - branch, layers + 1)
          for part in ("resnets", "attentions")]
    return ("unet.time_", "unet.add_", "unet.conv_in", *down, *up, "unet.conv_norm_out", "unet.conv_act",
            "unet.conv_out")


def unet(net: Net, cfg: UNetConfig, b: int, h: int, w: int, ctx_len: int) -> int:
    """``UNet2DConditionModel`` forward on a ``b``×in_channels×h×w latent with a ``ctx_len``-token text context.
    Returns the elements of the skip connections held from the down path to the up path."""
    ch = cfg.block_out_channels
    temb = 4 * ch[0]
    last = len(ch) - 1

    def attn(p: str, i: int, c: int, h: int, w: int) -> None:
        _transformer2d(net, p, b, c, h, w, cfg.per_block("attention_head_dim", i), ctx_len, cfg.cross_attention_dim,
                       cfg.per_block("transformer_layers_per_block", i), cfg.use_linear_projection)

    net.eltwise("time_proj", b * ch[0], flops=4)  # sinusoidal timestep features
    if cfg.time_cond_proj_dim:
        net.eltwise("time_cond_embedding", b * cfg.time_cond_proj_dim, flops=4)  # guidance-scale w features
        net.linear("time_embedding.cond_proj", b, cfg.time_cond_proj_dim, ch[0], bias=False)
    net.linear("time_embedding.linear_1", b, ch[0], temb)
    net.eltwise("time_embedding.act", b * temb, flops=_SILU_FLOPS)
    net.linear("time_embedding.linear_2", b, temb, temb)
    if cfg.addition_embed_type == "text_time":  # SDXL: six size/crop ids and the pooled text embedding
        ids = 6 * cfg.addition_time_embed_dim
        net.eltwise("add_time_proj", b * ids, flops=4)
        net.linear("add_embedding.linear_1", b, cfg.projection_class_embeddings_input_dim, temb)
        net.eltwise("add_embedding.act", b * temb, flops=_SILU_FLOPS)
        net.linear("add_embedding.linear_2", b, temb, temb)
        net.eltwise("add_embedding.add", b * temb, inputs=2)
    net.conv("conv_in", b, cfg.in_channels, ch[0], h, w, 3)
    skips = [(ch[0], h, w)]
    c = ch[0]
    for i, kind in enumerate(cfg.down_block_types):
        out = ch[i]
        for j in range(cfg.layers_per_block):
            net.resnet(f"down_blocks.{i}.resnets.{j}", b, c, out, h, w, temb)
            c = out
            if kind.startswith("CrossAttn"):
                attn(f"down_blocks.{i}.attentions.{j}", i, c, h, w)
            skips.append((c, h, w))
        if i < len(ch) - 1:
            h, w = net.conv(f"down_blocks.{i}.downsamplers.0.conv", b, c, c, h, w, 3, stride=2)
            skips.append((c, h, w))
    skip_elements = sum(b * sc * sh * sw for sc, sh, sw in skips)
    net.resnet("mid_block.resnets.0", b, c, c, h, w, temb)
    attn("mid_block.attentions.0", last, c, h, w)
    net.resnet("mid_block.resnets.1", b, c, c, h, w, temb)
    rev = list(reversed(ch))
    for i, kind in enumerate(cfg.up_block_types):
        out = rev[i]
        for j in range(cfg.layers_per_block + 1):
            skip_c, sh, sw = skips.pop()
            assert (sh, sw) == (h, w), "skip connection resolution mismatch"
            net.eltwise(f"up_blocks.{i}.resnets.{j}.concat", b * (c + skip_c) * h * w, flops=0)
            net.resnet(f"up_blocks.{i}.resnets.{j}", b, c + skip_c, out, h, w, temb)
            c = out
            if kind.startswith("CrossAttn"):
                attn(f"up_blocks.{i}.attentions.{j}", last - i, c, h, w)
        if i < len(ch) - 1:
            h, w = net.upsample(f"up_blocks.{i}.upsamplers.0", b, c, h, w)
    net.norm("conv_norm_out", b * c * h * w, 2 * c)
    net.eltwise("conv_act", b * c * h * w, flops=_SILU_FLOPS)
    net.conv("conv_out", b, c, cfg.out_channels, h, w, 3)
    return skip_elements


def vae_decoder(net: Net, cfg: VAEConfig, b: int, h: int, w: int) -> None:
    """``AutoencoderKL`` decode: unscale the latent, post_quant_conv, then the ``Decoder`` up to h·f × w·f pixels."""
    lat = cfg.latent_channels
    ch = list(reversed(cfg.block_out_channels))
    net.eltwise("latent_unscale", b * lat * h * w, flops=1)
    net.conv("post_quant_conv", b, lat, lat, h, w, 1)
    c = ch[0]
    net.conv("decoder.conv_in", b, lat, c, h, w, 3)
    net.resnet("decoder.mid_block.resnets.0", b, c, c, h, w)
    p, t = "decoder.mid_block.attentions.0", h * w
    net.norm(f"{p}.group_norm", b * c * t, 2 * c)
    for proj in ("to_q", "to_k", "to_v"):
        net.linear(f"{p}.{proj}", b * t, c, c)
    net.attention(f"{p}.attention", b, 1, t, t, c)
    net.linear(f"{p}.to_out.0", b * t, c, c)
    net.eltwise(f"{p}.residual_add", b * c * t, inputs=2)
    net.resnet("decoder.mid_block.resnets.1", b, c, c, h, w)
    for i, out in enumerate(ch):
        for j in range(cfg.layers_per_block + 1):
            net.resnet(f"decoder.up_blocks.{i}.resnets.{j}", b, c, out, h, w)
            c = out
        if i < len(ch) - 1:
            h, w = net.upsample(f"decoder.up_blocks.{i}.upsamplers.0", b, c, h, w)
    net.norm("decoder.conv_norm_out", b * c * h * w, 2 * c)
    net.eltwise("decoder.conv_act", b * c * h * w, flops=_SILU_FLOPS)
    net.conv("decoder.conv_out", b, c, cfg.out_channels, h, w, 3)


def dit(net: Net, cfg: DiTConfig, b: int, latent: int) -> None:
    """DiT forward (facebookresearch/DiT ``models.py``): patchify, timestep and class embeddings, ``depth``
    adaLN-Zero blocks (LayerNorm without affine, shift/scale/gate from SiLU(c) → Linear(6d)), final adaLN layer."""
    d, p = cfg.hidden_size, cfg.patch_size
    t = (latent // p) ** 2
    tok, heads, ff = b * t, cfg.num_heads, cfg.mlp_ratio * d
    out_ch = cfg.in_channels * (2 if cfg.learn_sigma else 1)
    net.conv("x_embedder.proj", b, cfg.in_channels, d, latent, latent, p, stride=p)
    net.eltwise("pos_embed_add", tok * d, inputs=2, params=t * d)  # fixed sin-cos table, stored as a parameter
    f = cfg.frequency_embedding_size
    net.eltwise("t_embedder.timestep_embedding", b * f, flops=4)
    net.linear("t_embedder.mlp.0", b, f, d)
    net.eltwise("t_embedder.mlp.1", b * d, flops=_SILU_FLOPS)
    net.linear("t_embedder.mlp.2", b, d, d)
    net.gather("y_embedder.embedding_table", b, cfg.num_classes + 1, d)  # + the null class of CFG
    net.eltwise("c_add", b * d, inputs=2)
    for i in range(cfg.depth):
        q = f"blocks.{i}"
        net.eltwise(f"{q}.adaLN_modulation.0", b * d, flops=_SILU_FLOPS)
        net.linear(f"{q}.adaLN_modulation.1", b, d, 6 * d)
        for half, (pre, post) in (("attn", ("norm1", "attn")), ("mlp", ("norm2", "mlp"))):
            net.norm(f"{q}.{pre}", tok * d, 0)  # elementwise_affine=False
            net.eltwise(f"{q}.{pre}.modulate", tok * d, flops=2)
            if half == "attn":
                net.linear(f"{q}.attn.qkv", tok, d, 3 * d)
                net.attention(f"{q}.attn.attention", b, heads, t, t, d // heads)
                net.linear(f"{q}.attn.proj", tok, d, d)
            else:
                net.linear(f"{q}.mlp.fc1", tok, d, ff)
                net.eltwise(f"{q}.mlp.act", tok * ff, flops=_GELU_FLOPS)
                net.linear(f"{q}.mlp.fc2", tok, ff, d)
            net.eltwise(f"{q}.{post}.gate_residual", tok * d, inputs=2, flops=2)
    net.eltwise("final_layer.adaLN_modulation.0", b * d, flops=_SILU_FLOPS)
    net.linear("final_layer.adaLN_modulation.1", b, d, 2 * d)
    net.norm("final_layer.norm_final", tok * d, 0)
    net.eltwise("final_layer.modulate", tok * d, flops=2)
    net.linear("final_layer.linear", tok, d, p * p * out_ch)
