"""CNN zoo: ResNet, MobileNetV2, VGG and DS-CNN from small layer specs (``workloads/configs/cnn/*.yaml``).

Each config names an ``arch`` and its spec (stages, inverted-residual settings, a VGG layer list …); the expanders
below turn a spec into ops through :class:`workloads.netspec.Net`. MACs are those of conv and fc layers
(``Op.macs``); parameters count conv/fc weights and biases plus 2×C per batch norm, as torchvision does.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable

from workloads.dtypes import DTYPE_BITS
from workloads.ir import Workload
from workloads.netspec import Net
from workloads.registry import WorkloadEntry, catalog_from_configs
from workloads.transformer import WorkloadParamError
from workloads.yaml_files import load_yaml

CONFIG_DIR = Path(__file__).parent / "configs" / "cnn"


@functools.lru_cache(maxsize=None)
def load_config(name: str, directory: Path = CONFIG_DIR) -> dict[str, Any]:
    """A network config by file stem; every config must cite ``sources``."""
    path = directory / f"{name}.yaml"
    cfg = load_yaml(path)
    if not cfg.get("sources"):
        raise ValueError(f"{path}: a config must list its sources")
    return cfg


def _resnet(net: Net, cfg: dict) -> None:
    net.conv("conv1", cfg["stem"], 7, 2, 3)
    net.bn("bn1"), net.act("relu1")
    net.pool("maxpool", 3, 2, 1)
    bottleneck = cfg["block"] == "bottleneck"
    for s, (blocks, width) in enumerate(cfg["stages"], start=1):
        for b in range(blocks):
            stride = 2 if (b == 0 and s > 1) else 1
            residual_block(net, f"layer{s}.{b}", width, stride, bottleneck)
    net.global_pool("avgpool")
    net.fc("fc", cfg["num_classes"])


def residual_block(net: Net, p: str, width: int, stride: int, bottleneck: bool) -> None:
    """A torchvision BasicBlock or Bottleneck (stride on the 3×3 conv, 1×1 projection shortcut when shapes change)."""
    in_shape = net.shape
    out_ch = width * 4 if bottleneck else width
    if bottleneck:
        net.conv(f"{p}.conv1", width, 1), net.bn(f"{p}.bn1"), net.act(f"{p}.relu1")
        net.conv(f"{p}.conv2", width, 3, stride), net.bn(f"{p}.bn2"), net.act(f"{p}.relu2")
        net.conv(f"{p}.conv3", out_ch, 1), net.bn(f"{p}.bn3")
    else:
        net.conv(f"{p}.conv1", width, 3, stride), net.bn(f"{p}.bn1"), net.act(f"{p}.relu1")
        net.conv(f"{p}.conv2", width, 3), net.bn(f"{p}.bn2")
    if stride != 1 or in_shape[0] != out_ch:
        main = net.shape
        net.c, net.h, net.w = in_shape
        net.conv(f"{p}.downsample", out_ch, 1, stride, 0), net.bn(f"{p}.downsample_bn")
        assert net.shape == main
    net.add(f"{p}.add"), net.act(f"{p}.relu_out")


def _mobilenet_v2(net: Net, cfg: dict) -> None:
    net.conv("features.0", cfg["stem"], 3, 2), net.bn("features.0.bn"), net.act("features.0.relu6", "relu6")
    i = 1
    for t, c, n, s in cfg["inverted_residual"]:
        for j in range(n):
            p, in_shape, stride = f"features.{i}", net.shape, s if j == 0 else 1
            hidden = in_shape[0] * t
            if t != 1:
                net.conv(f"{p}.expand", hidden, 1), net.bn(f"{p}.expand_bn"), net.act(f"{p}.expand_relu6", "relu6")
            net.conv(f"{p}.dw", hidden, 3, stride, groups=hidden), net.bn(f"{p}.dw_bn")
            net.act(f"{p}.dw_relu6", "relu6")
            net.conv(f"{p}.project", c, 1), net.bn(f"{p}.project_bn")
            if stride == 1 and in_shape[0] == c:
                net.add(f"{p}.add")
            i += 1
    net.conv(f"features.{i}", cfg["last_channels"], 1), net.bn(f"features.{i}.bn")
    net.act(f"features.{i}.relu6", "relu6")
    net.global_pool("avgpool")
    net.fc("classifier", cfg["num_classes"])


def _vgg(net: Net, cfg: dict) -> None:
    """VGG: numbers are 3×3 convs (+ReLU, optional BN), 'M'/'A' max/avg 2×2 pools; then the fc head."""
    n = 0
    for item in cfg["layers"]:
        if item in ("M", "A"):
            net.pool(f"pool{n}", 2, 2, 0, "max" if item == "M" else "avg")
            continue
        n += 1
        net.conv(f"conv{n}", int(item), 3, 1, 1, bias=cfg.get("conv_bias", True))
        if cfg.get("batch_norm"):
            net.bn(f"bn{n}")
        net.act(f"relu{n}")
    if cfg.get("adaptive_pool"):
        net.global_pool("avgpool", cfg["adaptive_pool"])
    fcs = list(cfg["classifier"]) + [cfg["num_classes"]]
    for j, width in enumerate(fcs, start=1):
        net.fc(f"fc{j}", width, bias=cfg.get("fc_bias", True))
        if j < len(fcs):
            net.act(f"fc{j}.relu")


def _ds_cnn(net: Net, cfg: dict) -> None:
    """Hello-Edge DS-CNN: one conv, then depthwise-separable blocks (TF SAME padding), average pool, fc."""
    first = cfg["first_conv"]
    net.conv("conv1", first["channels"], tuple(first["kernel"]), tuple(first["stride"]), None, bias=True)
    net.bn("conv1.bn"), net.act("conv1.relu")
    for i, (ch, stride) in enumerate(cfg["ds_layers"], start=1):
        net.conv(f"ds{i}.dw", net.c, 3, tuple(stride), None, groups=net.c, bias=True)
        net.bn(f"ds{i}.dw_bn"), net.act(f"ds{i}.dw_relu")
        net.conv(f"ds{i}.pw", ch, 1, 1, None, bias=True), net.bn(f"ds{i}.pw_bn"), net.act(f"ds{i}.pw_relu")
    net.global_pool("avgpool")
    net.fc("fc", cfg["num_classes"])


ARCHS: dict[str, Callable[[Net, dict], None]] = {"resnet": _resnet, "mobilenet_v2": _mobilenet_v2, "vgg": _vgg,
                                                  "ds_cnn": _ds_cnn}


def check_int(name: str, value: Any, minimum: int = 1) -> None:
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise WorkloadParamError(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_dtype(dtype: str) -> None:
    if dtype not in DTYPE_BITS:
        raise WorkloadParamError(f"dtype must be one of {', '.join(DTYPE_BITS)}, got {dtype!r}")


def build_from_config(cfg: dict, batch: int, resolution: int, dtype: str,
                      archs: dict[str, Callable[[Net, dict], None]] = ARCHS) -> Workload:
    """Expand a config into a forward-pass workload over ``batch`` inputs."""
    check_int("batch", batch)
    check_dtype(dtype)
    c, h, w = cfg["input"]
    if cfg.get("resizable"):
        check_int("image_size", resolution, cfg.get("min_size", 32))
        h = w = resolution
    wl = Workload(f"{cfg['name']}/forward", items=float(batch), item_unit=cfg.get("item_unit", "image"),
                  params=dict(model=cfg["name"], batch=batch, dtype=dtype))
    if cfg.get("resizable"):
        wl.params["image_size"] = resolution
    net = Net(wl, batch, (c, h, w), dtype)
    archs[cfg["arch"]](net, cfg)
    bits = net.bits / 8.0
    act = max(op.operand_bytes.get("output", 0.0) + op.operand_bytes.get("input", 0.0) for op in wl.ops)
    wl.memory_bytes = {"weights": wl.parameters * bits, "kv_cache": 0.0, "activations": act}
    return wl


def _builder(name: str) -> Callable[..., Workload]:
    cfg = load_config(name)
    if cfg.get("resizable"):
        def build(batch: int = 1, image_size: int = int(cfg["input"][1]), dtype: str = "fp16") -> Workload:
            return build_from_config(cfg, batch, image_size, dtype)
    else:
        def build(batch: int = 1, dtype: str = "fp16") -> Workload:
            return build_from_config(cfg, batch, 0, dtype)
    build.__doc__ = f"{cfg['name']} forward pass ({cfg.get('description', cfg['arch'])})."
    return build


def build_cnn(name: str, **params: Any) -> Workload:
    """Build a shipped CNN by config name."""
    return _builder(name)(**params)


def catalog() -> dict[str, WorkloadEntry]:
    return catalog_from_configs(CONFIG_DIR, "cnn", load_config, _builder)
