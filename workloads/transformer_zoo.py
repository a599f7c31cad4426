"""Catalog of the shipped dense transformer configs (``workloads/configs/*.yaml``): decoders, BERT and ViT."""

from __future__ import annotations

import functools

from workloads.model_config import available_model_configs, load_model_config
from workloads.registry import WorkloadEntry
from workloads.transformer import build_decoder, build_encoder, build_vit

_BUILDERS = {"decoder": build_decoder, "encoder": build_encoder, "vit": build_vit}
_DESCRIPTIONS = {"decoder": "decoder-only LLM: one prefill, decode or mixed step", "encoder": "encoder forward pass",
                 "vit": "vision transformer forward pass"}


def catalog() -> dict[str, WorkloadEntry]:
    entries = {}
    for name in available_model_configs():
        cfg = load_model_config(name)
        entries[name] = WorkloadEntry(
            name=name, family=f"transformer-{cfg.family}", builder=functools.partial(_BUILDERS[cfg.family], cfg),
            description=_DESCRIPTIONS[cfg.family], published={"parameters": cfg.published_parameters},
            sources=tuple(cfg.sources))
    return entries
