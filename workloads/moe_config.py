"""Mixture-of-experts model configurations, loaded from ``workloads/configs/moe/*.yaml``.

A config holds the dense transformer shape (attention, dense FFN) plus the MoE part: experts, top-k, shared experts,
which layers are MoE (``first_moe_layer`` and every ``moe_layer_freq``-th layer after it), and for the multi-task
MoE ViT its tasks and decoder head.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from workloads.model_config import ModelConfig
from workloads.yaml_files import load_yaml

MOE_CONFIG_DIR = Path(__file__).parent / "configs" / "moe"


class MoEConfig(BaseModel):
    """Hyper-parameters of an MoE transformer, its published totals and sources."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    family: Literal["decoder", "encoder_decoder", "vit"]
    hidden_size: int = Field(gt=0)
    num_layers: int = Field(gt=0)
    num_decoder_layers: int = Field(default=0, ge=0)
    num_heads: int = Field(gt=0)
    num_kv_heads: Optional[int] = Field(default=None, gt=0)
    head_dim: Optional[int] = Field(default=None, gt=0)
    intermediate_size: int = Field(gt=0, description="FFN width of the dense (non-MoE) layers")
    moe_intermediate_size: int = Field(gt=0, description="FFN width of one expert (and of one shared expert)")
    num_experts: int = Field(gt=0)
    top_k: int = Field(gt=0)
    num_shared_experts: int = Field(default=0, ge=0)
    first_moe_layer: int = Field(default=0, ge=0)
    moe_layer_freq: int = Field(default=1, gt=0)
    vocab_size: int = Field(default=0, ge=0)
    gated_mlp: bool = False
    activation: Literal["silu", "gelu", "relu"] = "gelu"
    norm: Literal["rmsnorm", "layernorm"] = "layernorm"
    linear_bias: bool = False
    expert_bias: bool = False
    tied_embeddings: bool = False
    position_embedding: Literal["rotary", "learned", "none"] = "rotary"
    max_position_embeddings: int = Field(default=4096, gt=0)
    relative_attention_buckets: int = Field(default=0, ge=0)
    image_size: int = Field(default=224, gt=0)
    patch_size: int = Field(default=16, gt=0)
    channels: int = Field(default=3, gt=0)
    tasks: dict[str, int] = Field(default_factory=dict, description="task name -> output channels of its head")
    head_channels: int = Field(default=0, ge=0)
    head_convs: int = Field(default=0, ge=0)
    published_parameters: Optional[float] = Field(default=None, gt=0)
    published_active_parameters: Optional[float] = Field(default=None, gt=0)
    published_inference_flops: Optional[float] = Field(default=None, gt=0)
    alternatives: dict[str, str] = Field(default_factory=dict)
    sources: list[str] = Field(min_length=1)

    def is_moe_layer(self, layer: int) -> bool:
        return layer >= self.first_moe_layer and (layer - self.first_moe_layer) % self.moe_layer_freq == 0

    def moe_layers(self, num_layers: int | None = None) -> list[int]:
        return [l for l in range(num_layers or self.num_layers) if self.is_moe_layer(l)]

    def expert_parameters(self, width: int | None = None) -> int:
        """Parameters of one expert FFN (gate/up and down projections, plus biases when the model has them)."""
        f, d = width or self.moe_intermediate_size, self.hidden_size
        mats = 3 if self.gated_mlp else 2
        bias = (f * (2 if self.gated_mlp else 1) + d) if self.expert_bias else 0
        return mats * d * f + bias

    def dense(self) -> ModelConfig:
        """The dense transformer these layers share (attention, norms, dense FFN), for the dense builders."""
        family = {"decoder": "decoder", "encoder_decoder": "encoder", "vit": "vit"}[self.family]
        return ModelConfig(
            name=self.name, family=family, hidden_size=self.hidden_size, num_layers=self.num_layers,
            num_heads=self.num_heads, num_kv_heads=self.num_kv_heads, head_dim=self.head_dim,
            intermediate_size=self.intermediate_size, vocab_size=self.vocab_size, gated_mlp=self.gated_mlp,
            activation=self.activation, norm=self.norm, linear_bias=self.linear_bias,
            tied_embeddings=self.tied_embeddings, position_embedding=self.position_embedding,
            max_position_embeddings=self.max_position_embeddings, image_size=self.image_size,
            patch_size=self.patch_size, channels=self.channels,
            published_parameters=self.published_parameters or 1.0, sources=self.sources)


def available_moe_configs() -> dict[str, Path]:
    """Lower-case model names → their YAML files."""
    return {p.stem.lower(): p for p in sorted(MOE_CONFIG_DIR.glob("*.yaml"))}


def load_moe_config(name: str) -> MoEConfig:
    """A shipped MoE config by name (case-insensitive); KeyError when unknown."""
    path = available_moe_configs()[name.lower()]
    return _parse(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _parse(path: Path, mtime_ns: int) -> MoEConfig:
    return MoEConfig(**load_yaml(path))
