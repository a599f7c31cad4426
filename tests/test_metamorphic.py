"""Metamorphic tests over every preset and every numeric parameter (a heterogeneous preset: its links and settings) (see tests/metamorphic.py): metrics
move only as the kind's declared effects allow, tiny changes have tiny responses unless a discrete effect is declared,
and every parameter is read by its kind."""

from __future__ import annotations

from functools import lru_cache

import pytest

from cosim.api import available_hardware
from hw_models.kinds import kind_names
from metamorphic import direction_violations, jump_violations, run_preset, unread_parameters

PRESETS = [n for k in (*kind_names(), "hetero") for n in available_hardware(kind=k)["name"]]


@lru_cache(maxsize=None)
def _run(preset: str):
    return run_preset(preset)


@pytest.mark.parametrize("preset", PRESETS)
def test_metrics_move_only_as_declared(preset):
    assert direction_violations(_run(preset)) == []


@pytest.mark.parametrize("preset", PRESETS)
def test_tiny_changes_have_tiny_effects(preset):
    assert jump_violations(_run(preset)) == []


@pytest.mark.parametrize("preset", PRESETS)
def test_every_parameter_is_read(preset):
    assert unread_parameters(_run(preset)) == []
