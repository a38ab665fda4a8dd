"""Confidence of a land-cover cell: which kind of source decided it.

A municipal survey beats the BGT, which beats a national raster, which beats a European raster;
the harmonised grid keeps, per cell, the level of the source that decided it, so the map can
show how much to trust each place.
"""

from __future__ import annotations

from enum import IntEnum


class Confidence(IntEnum):
    """Levels of confidence, higher is better; 0 means no source covered the cell."""

    NONE = 0
    EU_RASTER = 1
    NATIONAL_RASTER = 2
    NATIONAL_VECTOR = 3
    MUNICIPAL = 4

    @property
    def label_nl(self) -> str:
        """Dutch label."""
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        """English label."""
        return _LABELS[self][1]


_LABELS = {
    Confidence.NONE: ("geen gegevens", "no data"),
    Confidence.EU_RASTER: ("laag: Europese rasterkaart", "low: European raster"),
    Confidence.NATIONAL_RASTER: ("matig: landelijke rasterkaart", "moderate: national raster"),
    Confidence.NATIONAL_VECTOR: ("hoog: BGT (objecten)", "high: BGT (objects)"),
    Confidence.MUNICIPAL: ("zeer hoog: gemeentelijke opname", "very high: municipal survey"),
}
