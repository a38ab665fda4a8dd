"""Bar charts as SVG (vector, sharp in print). Every label is XML-escaped: names come from data."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr


@dataclass(frozen=True)
class Bar:
    """One bar: a label, its value (0..``maximum``), the shown text, colour and emphasis."""

    label: str
    value: float
    text: str
    colour: str
    highlight: bool = False


def bar_chart(
    bars: Sequence[Bar],
    tick: Callable[[float], str],
    maximum: float = 1.0,
    width: int = 640,
) -> bytes:
    """Horizontal bars, one row each, labels left, the value text at the bar's end; ``tick``
    writes the axis values."""
    row, label_w, text_w = 15, 190, 60
    plot_w = width - label_w - text_w
    height = row * len(bars) + 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans" font-size="10">'
    ]
    for step in range(0, 11, 2):
        x = label_w + plot_w * step / 10
        parts.append(
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 16}" stroke="#ddd"/>'
            f'<text x="{x:.1f}" y="{height - 4}" text-anchor="middle" fill="#555">'
            f"{escape(tick(maximum * step / 10))}</text>"
        )
    for i, bar in enumerate(bars):
        y = i * row
        length = max(0.0, min(1.0, bar.value / maximum if maximum else 0.0)) * plot_w
        weight = ' font-weight="bold"' if bar.highlight else ""
        label = bar.label if len(bar.label) <= 32 else bar.label[:31] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 11}" text-anchor="end"{weight}>{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{length:.1f}" height="{row - 4}" '
            f"fill={quoteattr(bar.colour)}"
            + (' stroke="#000" stroke-width="1.5"' if bar.highlight else "")
            + "/>"
            f'<text x="{label_w + length + 4:.1f}" y="{y + 11}"{weight}>{escape(bar.text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts).encode("utf-8")
