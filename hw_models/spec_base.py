"""Building blocks shared by device specs: strict pydantic models and per-datatype values."""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """A spec section: unknown keys are errors, so a typo in a preset never passes silently; NaN and infinite
    numbers are rejected wherever they enter (a preset, an override, a sweep grid)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class PerDtype(Strict):
    """A value per datatype; a missing datatype is not supported natively (it runs at a wider one)."""

    fp64: Optional[float] = Field(default=None, gt=0)
    fp32: Optional[float] = Field(default=None, gt=0)
    tf32: Optional[float] = Field(default=None, gt=0)
    fp16: Optional[float] = Field(default=None, gt=0)
    bf16: Optional[float] = Field(default=None, gt=0)
    fp8: Optional[float] = Field(default=None, gt=0)
    int8: Optional[float] = Field(default=None, gt=0)
    int4: Optional[float] = Field(default=None, gt=0)
