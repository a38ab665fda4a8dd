"""Coordinate reference systems used throughout."""

from __future__ import annotations

RD_NEW = "EPSG:28992"
"""Amersfoort / RD New: the analysis CRS of every grid and area."""
WGS84 = "EPSG:4326"
WEB_MERCATOR = "EPSG:3857"
DEFAULT_CELL_SIZE = 10.0
"""Metres; the resolution of the national rasters (RIVM green map)."""
