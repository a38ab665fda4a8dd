"""Maps for the reports: a class layer of the store as a PNG with legend, scale bar, north arrow,
the sources' attribution and the area outline on top.

Drawn with Pillow straight from the Cloud-Optimized GeoTIFF (a decimated read picks the cells
for the pixels), so a gemeente map costs one raster read and no plotting library.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import rasterio
from affine import Affine
from PIL import Image, ImageDraw, ImageFont
from rasterio.enums import Resampling
from rasterio.features import geometry_mask
from rasterio.windows import from_bounds
from shapely.geometry.base import BaseGeometry

from biostresstest.model.landcover import load_classes
from biostresstest.model.store import Store
from biostresstest.pipeline.common import LEGEND
from biostresstest.reports.spec import MapSpec

Bounds = tuple[float, float, float, float]
LEGEND_WIDTH = 380
"""Width in pixels of the legend panel right of the map."""
_SCALE_STEPS_M = (10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000)
_INK = (33, 33, 33)
_NO_DATA = (255, 255, 255)


@dataclass(frozen=True)
class LegendItem:
    """One row of a map legend."""

    colour: str
    label: str


@dataclass(frozen=True)
class MapRequest:
    """What to draw: a layer of a run, an extent, outlines, and the texts of the map."""

    store: Store
    key: str
    spec: MapSpec
    bounds: Bounds
    outline: BaseGeometry | None
    attribution: str
    lang: str
    context: Sequence[BaseGeometry] = ()
    """Thin outlines drawn for orientation (for example the buurten)."""
    marker: tuple[float, float] | None = None
    min_extent_m: float = 400.0
    size_px: int = 1200


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def padded_bounds(bounds: Bounds, min_extent_m: float) -> Bounds:
    """``bounds`` grown by 4 % on each side and to at least ``min_extent_m`` across."""
    xmin, ymin, xmax, ymax = bounds
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    half_w = max((xmax - xmin) * 0.54, min_extent_m / 2)
    half_h = max((ymax - ymin) * 0.54, min_extent_m / 2)
    return cx - half_w, cy - half_h, cx + half_w, cy + half_h


def _palette(request: MapRequest, codes: np.ndarray) -> tuple[np.ndarray, list[LegendItem]]:
    lut = np.tile(np.array(_NO_DATA, dtype="uint8"), (256, 1))
    if request.spec.kind == "score_classes":
        items = []
        for cls in LEGEND:
            lut[cls.value] = _rgb(cls.colour)
            label = cls.label_nl if request.lang == "nl" else cls.label_en
            items.append(LegendItem(cls.colour, f"{cls.value}  {label}"))
        return lut, items
    table = load_classes()
    present, counts = np.unique(codes[codes > 0], return_counts=True)
    order = [int(c) for c in present[np.argsort(-counts)]]
    items = []
    for code in order:
        land = table.by_code(code)
        lut[code] = _rgb(land.colour)
        if len(items) < 16:
            items.append(
                LegendItem(land.colour, land.name_nl if request.lang == "nl" else land.name_en)
            )
    return lut, items


def _read(request: MapRequest, bounds: Bounds, shape: tuple[int, int]) -> np.ndarray:
    with rasterio.open(request.store.raster_path(request.key, request.spec.raster)) as src:
        window = from_bounds(*bounds, transform=src.transform)
        data: np.ndarray = src.read(
            1,
            window=window,
            out_shape=shape,
            boundless=True,
            fill_value=0,
            resampling=Resampling.nearest,
        )
    return data


def _pixels(geometry: BaseGeometry, transform: Affine) -> list[list[tuple[float, float]]]:
    """Every ring of a (multi)polygon or line as pixel coordinates."""
    rings = []
    parts = getattr(geometry, "geoms", [geometry])
    for part in parts:
        lines = [part.exterior, *part.interiors] if hasattr(part, "exterior") else [part]
        for line in lines:
            xy = np.asarray(line.coords)[:, :2]
            px = (xy[:, 0] - transform.c) / transform.a
            py = (xy[:, 1] - transform.f) / transform.e
            rings.append(list(zip(px.tolist(), py.tolist(), strict=True)))
    return rings


def _scale_bar(draw: ImageDraw.ImageDraw, metres_per_px: float, width: int, height: int) -> None:
    target = width * metres_per_px / 5
    length_m = max((s for s in _SCALE_STEPS_M if s <= target), default=_SCALE_STEPS_M[0])
    length_px = length_m / metres_per_px
    label = (
        f"{length_m // 1000} km" if length_m >= 1000 and length_m % 1000 == 0 else f"{length_m} m"
    )
    x0, y0 = 20, height - 46
    draw.rectangle([x0 - 10, y0 - 28, x0 + length_px + 14, y0 + 22], fill=(255, 255, 255))
    half = length_px / 2
    draw.rectangle([x0, y0, x0 + half, y0 + 10], fill=_INK, outline=_INK)
    draw.rectangle([x0 + half, y0, x0 + length_px, y0 + 10], fill=(255, 255, 255), outline=_INK)
    draw.text((x0, y0 - 26), f"0            {label}", fill=_INK, font=_font(18))


def _north_arrow(draw: ImageDraw.ImageDraw, width: int) -> None:
    cx, top = width - 40, 18
    draw.rectangle([cx - 24, top - 8, cx + 24, top + 78], fill=(255, 255, 255))
    draw.polygon([(cx, top), (cx - 14, top + 44), (cx, top + 34)], fill=_INK)
    draw.polygon(
        [(cx, top), (cx + 14, top + 44), (cx, top + 34)], outline=_INK, fill=(255, 255, 255)
    )
    draw.text((cx - 7, top + 48), "N", fill=_INK, font=_font(22))


def _legend(title: str, items: list[LegendItem], height: int) -> Image.Image:
    panel = Image.new("RGB", (LEGEND_WIDTH, height), (255, 255, 255))
    draw = ImageDraw.Draw(panel)
    y = 8
    for line in textwrap.wrap(title, 26):
        draw.text((16, y), line, fill=_INK, font=_font(22))
        y += 28
    y += 10
    for item in items:
        draw.rectangle([16, y, 50, y + 26], fill=_rgb(item.colour), outline=_INK)
        for i, line in enumerate(textwrap.wrap(item.label, 24)[:2]):
            draw.text((60, y + 2 + 22 * i), line, fill=_INK, font=_font(19))
        y += 38 if len(item.label) <= 24 else 56
    return panel


def render_map(request: MapRequest) -> bytes:
    """The map as PNG bytes."""
    bounds = padded_bounds(request.bounds, request.min_extent_m)
    extent_w, extent_h = bounds[2] - bounds[0], bounds[3] - bounds[1]
    metres_per_px = max(extent_w, extent_h) / request.size_px
    shape = (max(1, round(extent_h / metres_per_px)), max(1, round(extent_w / metres_per_px)))
    codes = _read(request, bounds, shape)
    lut, items = _palette(request, codes)
    rgb = lut[codes]
    transform = Affine(metres_per_px, 0, bounds[0], 0, -metres_per_px, bounds[3])
    if request.outline is not None:
        outside = geometry_mask([request.outline], shape, transform)
        rgb[outside] = (rgb[outside] * 0.35 + 255 * 0.65).astype("uint8")
    image = Image.fromarray(rgb, "RGB")
    draw = ImageDraw.Draw(image)
    for geometry in request.context:
        for ring in _pixels(geometry, transform):
            draw.line(ring, fill=(90, 90, 90), width=1)
    if request.outline is not None:
        for ring in _pixels(request.outline, transform):
            draw.line(ring, fill=(0, 0, 0), width=4, joint="curve")
    if request.marker is not None:
        px = (request.marker[0] - transform.c) / transform.a
        py = (request.marker[1] - transform.f) / transform.e
        draw.ellipse([px - 22, py - 22, px + 22, py + 22], outline=(255, 255, 255), width=9)
        draw.ellipse([px - 20, py - 20, px + 20, py + 20], outline=(0, 0, 0), width=5)
        draw.ellipse([px - 5, py - 5, px + 5, py + 5], fill=(0, 0, 0))
    _scale_bar(draw, metres_per_px, shape[1], shape[0])
    _north_arrow(draw, shape[1])
    title = request.spec.title[request.lang]
    lines = textwrap.wrap(request.attribution, 130)
    canvas = Image.new("RGB", (shape[1] + LEGEND_WIDTH, shape[0] + 12 + 24 * len(lines)), "white")
    canvas.paste(image, (0, 0))
    canvas.paste(_legend(title, items, shape[0]), (shape[1], 0))
    text = ImageDraw.Draw(canvas)
    text.rectangle([0, 0, shape[1] - 1, shape[0] - 1], outline=_INK, width=2)
    for i, line in enumerate(lines):
        text.text((4, shape[0] + 8 + 24 * i), line, fill=_INK, font=_font(18))
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()
