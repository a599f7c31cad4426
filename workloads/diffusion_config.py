"""Diffusion model configurations (``workloads/configs/diffusion/*.yaml``), in the published configs' field names."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from workloads.yaml_files import load_yaml

CONFIG_DIR = Path(__file__).parent / "configs" / "diffusion"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TextEncoderConfig(_Frozen):
    """A CLIP text transformer (``CLIPTextModel``): pre-LayerNorm, quick-GELU MLP, learned positions."""

    vocab_size: int = Field(gt=0)
    hidden_size: int = Field(gt=0)
    intermediate_size: int = Field(gt=0)
    num_hidden_layers: int = Field(gt=0)
    num_attention_heads: int = Field(gt=0)
    max_position_embeddings: int = Field(gt=0)
    hidden_act: Literal["quick_gelu", "gelu"] = "quick_gelu"
    projection_dim: int = Field(default=0, ge=0)  # CLIPTextModelWithProjection: pooled-token text_projection width


class UNetConfig(_Frozen):
    """A ``UNet2DConditionModel`` (SD-1.x and SDXL layouts). ``attention_head_dim`` and
    ``transformer_layers_per_block`` are one value for every block or one per down block (SDXL), as diffusers takes
    them; the up blocks use them reversed and the mid block the last one."""

    in_channels: int = Field(gt=0)
    out_channels: int = Field(gt=0)
    block_out_channels: list[int] = Field(min_length=1)
    down_block_types: list[Literal["CrossAttnDownBlock2D", "DownBlock2D"]]
    up_block_types: list[Literal["CrossAttnUpBlock2D", "UpBlock2D"]]
    layers_per_block: int = Field(gt=0)
    attention_head_dim: int | list[int]  # number of heads in SD-1.x/SDXL configs (a diffusers naming quirk)
    transformer_layers_per_block: int | list[int] = 1
    use_linear_projection: bool = False  # proj_in/proj_out as Linear over tokens instead of 1x1 convolutions
    cross_attention_dim: int = Field(gt=0)
    norm_num_groups: int = Field(gt=0)
    time_cond_proj_dim: int = Field(default=0, ge=0)
    addition_embed_type: Literal["", "text_time"] = ""  # SDXL: pooled text embedding + size/crop time ids
    addition_time_embed_dim: int = Field(default=0, ge=0)
    projection_class_embeddings_input_dim: int = Field(default=0, ge=0)

    def per_block(self, field: str, block: int) -> int:
        """``field`` (``attention_head_dim`` or ``transformer_layers_per_block``) of down block ``block``."""
        value = getattr(self, field)
        return value if isinstance(value, int) else value[block]


class VAEConfig(_Frozen):
    """The decoder half of an ``AutoencoderKL``."""

    latent_channels: int = Field(gt=0)
    out_channels: int = Field(gt=0)
    block_out_channels: list[int] = Field(min_length=1)
    layers_per_block: int = Field(gt=0)
    norm_num_groups: int = Field(gt=0)

    @property
    def downscale(self) -> int:
        """Image pixels per latent pixel along one side (8 for the SD VAE)."""
        return 2 ** (len(self.block_out_channels) - 1)


class DiTConfig(_Frozen):
    """A DiT backbone (facebookresearch/DiT ``models.py``)."""

    depth: int = Field(gt=0)
    hidden_size: int = Field(gt=0)
    num_heads: int = Field(gt=0)
    patch_size: int = Field(gt=0)
    in_channels: int = Field(gt=0)
    mlp_ratio: int = Field(gt=0)
    learn_sigma: bool = True
    num_classes: int = Field(gt=0)
    frequency_embedding_size: int = Field(gt=0)
    resolutions: list[int] = Field(min_length=1)


class Defaults(_Frozen):
    steps: int = Field(gt=0)
    guidance_scale: float = Field(ge=0)
    resolution: int = Field(gt=0)
    min_steps: int = Field(default=1, gt=0)
    max_steps: int = Field(default=1000, gt=0)


class DiffusionConfig(_Frozen):
    """One diffusion pipeline: its networks, sampling defaults, published figures and sources."""

    name: str
    kind: Literal["unet", "dit"]
    description: str
    defaults: Defaults
    guidance_embedded: bool = False
    text_encoder: TextEncoderConfig | None = None
    text_encoder_2: TextEncoderConfig | None = None  # SDXL's second (OpenCLIP ViT-bigG) text encoder
    unet: UNetConfig | None = None
    dit: DiTConfig | None = None
    vae: VAEConfig
    published: dict[str, float]
    sources: list[str] = Field(min_length=1)


def available_diffusion_configs() -> dict[str, Path]:
    """Lower-case model names → YAML files."""
    return {p.stem.lower(): p for p in sorted(CONFIG_DIR.glob("*.yaml"))}


def load_diffusion_config(name: str) -> DiffusionConfig:
    """Load a shipped diffusion config by name (KeyError when unknown)."""
    return _parse(available_diffusion_configs()[name.lower()])


@functools.lru_cache(maxsize=16)
def _parse(path: Path) -> DiffusionConfig:
    return DiffusionConfig(**load_yaml(path))
