"""Numbers as the reader writes them: 0,32 and 1.234 in Dutch, 0.32 and 1,234 in English."""

from __future__ import annotations

import math
from typing import Any

_SUFFIX = {"metres": " m", "hectares": " ha", "celsius": " °C", "mm": " mm", "m3": " m³"}
_DECIMALS = {"score": 2, "number": 1, "index": 3, "integer": 0, "metres": 0, "hectares": 1,
             "celsius": 1, "mm": 1, "m3": 0}  # fmt: skip


def is_missing(value: Any) -> bool:
    """True for None and NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: float, decimals: int, lang: str) -> str:
    """``value`` rounded to ``decimals`` with the separators of ``lang``."""
    text = f"{value:,.{decimals}f}"
    if lang == "nl":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def percent(share: float, lang: str, decimals: int = 0) -> str:
    """A fraction 0..1 as a percentage (``32 %`` in Dutch, ``32%`` in English)."""
    return number(share * 100, decimals, lang) + (" %" if lang == "nl" else "%")


def value(raw: Any, kind: str, lang: str, missing: str = "–") -> str:
    """A stored value in the column format ``kind`` (see data/report.toml)."""
    if is_missing(raw):
        return missing
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return str(raw)
    if kind == "share":
        return percent(float(raw), lang)
    if kind == "percent":
        return percent(float(raw) / 100, lang)
    return number(float(raw), _DECIMALS.get(kind, 2), lang) + _SUFFIX.get(kind, "")


def is_scalar(raw: Any) -> bool:
    """Whether a JSON value is a single value (not a list or an object)."""
    return raw is None or isinstance(raw, str | int | float | bool)


def cell(raw: Any, lang: str) -> str:
    """A JSON value of a document as table text (floats with 2 decimals below 100)."""
    if isinstance(raw, float):
        return number(raw, 2 if abs(raw) < 100 else 0, lang)
    return "" if raw is None else str(raw)
