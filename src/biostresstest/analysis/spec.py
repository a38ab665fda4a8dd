"""Declarative specs of indicators: what each one needs and what it gives."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IndicatorSpec:
    """An indicator's identity, inputs, output and unit."""

    id: str
    title_nl: str
    title_en: str
    unit: str
    inputs: tuple[str, ...]
    """Source ids (or other indicator ids) the indicator is computed from."""
    description: str
