"""ANN twins of published spiking architectures (ResNet-19, Spikformer, spiking LMUFormer, the SDM spiking U-Net),
expanded from ``workloads/configs/snn/*.yaml`` specs. :func:`workloads.snn.to_spiking` turns them into SNNs.

Ops that stay analog in the published model carry tag ``snn``: ``per_timestep`` (a MAC layer run every timestep,
e.g. on the analog image or on membrane outputs) or ``once`` (computed once per inference, e.g. the diffusion-time
embedding). Spike × spike products are ``attention`` ops or weight-less matmuls.
"""

from __future__ import annotations

from workloads.cnn import residual_block
from workloads.netspec import Net


def resnet_cifar(net: Net, cfg: dict) -> None:
    """tdBN ResNet-19: 3×3 stem, basic-block stages (stride 2 from the second), avg pool, fc head."""
    net.conv("conv1", cfg["stem"], 3, 1), net.bn("bn1"), net.act("relu1")
    for s, (blocks, width) in enumerate(cfg["stages"], start=1):
        for b in range(blocks):
            residual_block(net, f"layer{s}.{b}", width, 2 if (b == 0 and s > 1) else 1, False)
    net.global_pool("avgpool")
    for j, width in enumerate(list(cfg["classifier"]) + [cfg["num_classes"]], start=1):
        net.fc(f"fc{j}", width)
        if j <= len(cfg["classifier"]):
            net.act(f"fc{j}.relu")


def _tokens_block(net: Net, p: str, dim: int, heads: int, mlp: int, tokens: int, b: int) -> None:
    """A Spikformer encoder block on ``tokens`` tokens: Q/K/V linears + BN, attention, projection, MLP."""
    rows = b * tokens
    net.c, net.h, net.w = dim, tokens, 1
    for x in ("q", "k", "v"):
        net.fc(f"{p}.{x}", dim, rows=rows), net.bn(f"{p}.{x}_bn"), net.act(f"{p}.{x}_act")
    net._op(f"{p}.ssa", "attention", "attn", batch=b, heads=heads, kv_heads=heads, q_len=tokens, kv_len=tokens,
            head_dim=dim // heads, causal=0, kv_cache=0)
    net.act(f"{p}.attn_act")
    net.fc(f"{p}.proj", dim, rows=rows), net.bn(f"{p}.proj_bn"), net.add(f"{p}.add1"), net.act(f"{p}.proj_act")
    net.fc(f"{p}.fc1", dim * mlp, rows=rows), net.bn(f"{p}.fc1_bn"), net.act(f"{p}.fc1_act")
    net.fc(f"{p}.fc2", dim, rows=rows), net.bn(f"{p}.fc2_bn"), net.add(f"{p}.add2"), net.act(f"{p}.fc2_act")


def spikformer(net: Net, cfg: dict) -> None:
    """Spikformer: spiking patch splitting (4 conv-BN stages with max pools, relative-position conv), encoder blocks
    of spiking self-attention and MLP (linears with BN), global average pool and a linear head."""
    dim, b = cfg["dim"], net.batch
    widths = [dim // 8, dim // 4, dim // 2, dim]
    for i, width in enumerate(widths):
        net.conv(f"sps.conv{i}", width, 3), net.bn(f"sps.bn{i}"), net.act(f"sps.act{i}")
        if i >= len(widths) - cfg["sps_pools"]:
            net.pool(f"sps.pool{i}", 3, 2, 1)
    net.conv("sps.rpe", dim, 3), net.bn("sps.rpe_bn"), net.add("sps.rpe_add"), net.act("sps.rpe_act")
    tokens = net.h * net.w
    for layer in range(cfg["depth"]):
        _tokens_block(net, f"block{layer}", dim, cfg["heads"], cfg["mlp_ratio"], tokens, b)
    net.c, net.h, net.w = dim, tokens, 1
    net.global_pool("avgpool")
    net.fc("head", cfg["num_classes"])


def lmuformer(net: Net, cfg: dict) -> None:
    """Spiking LMUFormer (slmu_rnn_ms_conv1d): 1-D conv patch embedding, LMU blocks (spiking input u, Legendre
    memory as a causal Toeplitz product, W_h on [m; x]), conv channel mixer, per-token head averaged."""
    dim, seq, mem, b = cfg["dim"], net.w, cfg["memory_factor"] * cfg["dim"], net.batch
    net.conv("embed.conv0", dim, (1, 3)), net.bn("embed.bn0")
    for i in (1, 2, 3):
        net.act(f"embed.act{i - 1}"), net.conv(f"embed.conv{i}", dim, (1, 3)), net.bn(f"embed.bn{i}")
    net.act("embed.act3"), net.conv("embed.rpe", dim, (1, 3)), net.add("embed.rpe_add")
    rows = b * seq
    for layer in range(cfg["depth"]):
        p = f"block{layer}"
        net.bn(f"{p}.prev_bn"), net.act(f"{p}.prev_act")
        net.fc(f"{p}.w_u", 1, rows=rows), net.bn(f"{p}.u_bn"), net.act(f"{p}.u_act")
        # Legendre memory m[t] = sum_{tau<=t} u[tau] H[:, t-tau]: a (seq × seq lags) × (lags × memory) product whose
        # upper triangle is structurally zero (causal), so only (seq+1)/(2 seq) of its left operand is non-zero.
        net._op(f"{p}.memory", "matmul", "memory", m=rows, n=mem, k=seq, batch=1,
                _tags={"weight": False}).sparsity = 1.0 - (seq + 1) / (2.0 * seq)
        net.c = mem
        net.bn(f"{p}.m_bn"), net.act(f"{p}.m_act")
        net.c = mem + dim
        net.fc(f"{p}.w_h", dim, rows=rows), net.bn(f"{p}.h_bn"), net.act(f"{p}.h_act")
        net.fc(f"{p}.proj", dim, rows=rows), net.bn(f"{p}.proj_bn"), net.add(f"{p}.add1")
        net.bn(f"{p}.fc1_bn"), net.act(f"{p}.fc1_act"), net.fc(f"{p}.fc1", dim * cfg["mlp_ratio"], rows=rows)
        net.bn(f"{p}.fc2_bn"), net.act(f"{p}.fc2_act"), net.fc(f"{p}.fc2", dim, rows=rows), net.add(f"{p}.add2")
    net.bn("head_bn"), net.act("head_act")
    net.fc("head", cfg["num_classes"], rows=rows)


def spiking_unet(net: Net, cfg: dict) -> None:
    """SDM/SDDPM spiking U-Net (Spk_UNet_TSM): time embedding MLP, stem convs, residual blocks with spiking
    3×3 convs and a time projection, strided-conv down / nearest-upsample-conv up, analog tail."""
    ch, tdim, b = cfg["ch"], cfg["ch"] * 4, net.batch
    image = net.shape
    net.c, net.h, net.w = ch, 1, 1
    net.fc("temb.fc1", tdim, snn="once"), net.act("temb.swish", "swish"), net.fc("temb.fc2", tdim, snn="once")
    net.c, net.h, net.w = image
    net.conv("conv", ch, 3, bias=True), net.bn("bn"), net.act("act")
    net.conv("conv_identity", ch, 3, bias=True), net.bn("bn_identity")
    skips = [net.c]

    def res_block(p: str, out: int) -> None:
        in_shape = net.shape
        net.act(f"{p}.act1"), net.conv(f"{p}.conv1", out, 3, bias=True), net.bn(f"{p}.bn1")
        h = net.shape
        net.c, net.h, net.w = tdim, 1, 1
        net.fc(f"{p}.temb_proj", out, snn="once")
        net.c, net.h, net.w = h
        net.add(f"{p}.temb_add"), net.act(f"{p}.act2"), net.conv(f"{p}.conv2", out, 3, bias=True), net.bn(f"{p}.bn2")
        if in_shape[0] != out:
            net.c, net.h, net.w = in_shape
            net.conv(f"{p}.shortcut", out, 1, 1, 0, bias=True, snn="per_timestep")
        net.add(f"{p}.add")

    levels = cfg["ch_mult"]
    for i, mult in enumerate(levels):
        for j in range(cfg["num_res_blocks"]):
            res_block(f"down{i}.{j}", ch * mult)
            skips.append(net.c)
        if i != len(levels) - 1:
            net.act(f"down{i}.ds_act"), net.conv(f"down{i}.downsample", net.c, 3, 2, 1, bias=True)
            skips.append(net.c)
    res_block("mid.0", net.c), res_block("mid.1", net.c)
    for i, mult in reversed(list(enumerate(levels))):
        for j in range(cfg["num_res_blocks"] + 1):
            net.c += skips.pop()
            res_block(f"up{i}.{j}", ch * mult)
        if i != 0:
            net.upsample(f"up{i}.nearest"), net.act(f"up{i}.us_act"), net.conv(f"up{i}.upsample", net.c, 3, bias=True)
    net.bn("tail_bn"), net.act("tail_swish", "swish")
    net.conv("tail_conv", image[0], 3, bias=True, snn="per_timestep")
    net.conv("t_output", image[0], 3, bias=True, snn="per_timestep")  # Conv3d (3,3,1) over (H, W, T)
    net.bn("last_bn"), net.act("last_swish", "swish"), net.add("out_add")


ARCHS = {"resnet_cifar": resnet_cifar, "spikformer": spikformer, "lmuformer": lmuformer, "spiking_unet": spiking_unet}
