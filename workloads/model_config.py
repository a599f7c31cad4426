"""Transformer model configurations in Hugging-Face style, loaded from ``workloads/configs/*.yaml``."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workloads.yaml_files import load_yaml

CONFIG_DIR = Path(__file__).parent / "configs"


class ModelConfig(BaseModel):
    """Architecture hyper-parameters of a transformer, plus its published parameter count and sources."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    family: Literal["decoder", "encoder", "vit"]
    hidden_size: int = Field(gt=0)
    num_layers: int = Field(gt=0)
    num_heads: int = Field(gt=0)
    num_kv_heads: Optional[int] = Field(default=None, gt=0)
    head_dim: Optional[int] = Field(default=None, gt=0)
    intermediate_size: int = Field(gt=0)
    vocab_size: int = Field(default=0, ge=0)
    gated_mlp: bool = False
    activation: Literal["silu", "gelu", "relu"] = "gelu"
    norm: Literal["rmsnorm", "layernorm"] = "layernorm"
    linear_bias: bool = False
    tied_embeddings: bool = False
    position_embedding: Literal["rotary", "learned", "none"] = "learned"
    max_position_embeddings: int = Field(default=2048, gt=0)
    position_offset: int = Field(default=0, ge=0)  # OPT keeps 2 extra learned positions
    type_vocab_size: int = Field(default=0, ge=0)  # BERT segment embeddings
    pooler: bool = False  # BERT pooler dense layer
    image_size: int = Field(default=224, gt=0)
    patch_size: int = Field(default=16, gt=0)
    patch_stride: Optional[int] = Field(default=None, gt=0)  # overlapping patches (AST); default patch_size
    extra_tokens: int = Field(default=0, ge=0)  # learned tokens besides the class token (DeiT distillation)
    channels: int = Field(default=3, gt=0)
    num_classes: int = Field(default=0, ge=0)
    published_parameters: float = Field(gt=0, description="parameter total stated by the authors")
    sources: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_heads(self) -> "ModelConfig":
        if self.num_heads % self.kv_heads:
            raise ValueError(f"num_heads={self.num_heads} is not a multiple of num_kv_heads={self.kv_heads}")
        return self

    @property
    def kv_heads(self) -> int:
        return self.num_kv_heads or self.num_heads

    @property
    def dim_head(self) -> int:
        return self.head_dim or self.hidden_size // self.num_heads

    @property
    def norm_params(self) -> int:
        """Parameters of one norm layer (scale, plus bias for LayerNorm)."""
        return self.hidden_size * (2 if self.norm == "layernorm" else 1)

    @property
    def patches(self) -> int:
        """Patches per image: ``((image - patch) // stride + 1)²``, with stride = patch size unless overlapping."""
        stride = self.patch_stride or self.patch_size
        return ((self.image_size - self.patch_size) // stride + 1) ** 2


def load_model_config(name: str) -> ModelConfig:
    """Load a shipped model config by name (case-insensitive); KeyError lists close matches."""
    configs = available_model_configs()
    key = name.lower()
    if key not in configs:
        raise KeyError(name)
    return _parse(configs[key], configs[key].stat().st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _parse(path: Path, mtime_ns: int) -> ModelConfig:
    """Parse and validate a config file once per modification time (ModelConfig is frozen, so sharing is safe)."""
    return ModelConfig(**load_yaml(path))


def available_model_configs() -> dict[str, Path]:
    """Map lower-case model names to their YAML files."""
    return {p.stem.lower(): p for p in sorted(CONFIG_DIR.glob("*.yaml"))}
