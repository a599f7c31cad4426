"""Paper reproductions: each published claim (``claims.yaml``) computed through the same public models users run.

One module per paper (``neupims``, ``duplex``, ``m3vit``, ``pulp``, ``iir_snn``, ``lmuformer``, ``diffusion``, and the
serving papers ``serving_sarathi``, ``serving_distserve``, ``serving_nanoflow``) holds the computation, each exposing
``MODEL_VALUES`` (claim id -> function of no arguments); ``table`` assembles the reproduction table. The serving
papers whose setups leave out what a computation needs (``serving_semipd``, ``serving_lamina``) hold their setup
tables and the reasons instead; ``serving_runs`` is what the serving modules share.
"""

from __future__ import annotations

from cosim.reproduce.claims import Claim, claim, claims
from cosim.reproduce.table import model_value, reproduce, select, to_markdown

__all__ = ["Claim", "claim", "claims", "model_value", "reproduce", "select", "to_markdown"]
