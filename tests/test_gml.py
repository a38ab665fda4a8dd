from __future__ import annotations

import numpy as np
import pytest
from lxml import etree

from biostresstest.core.errors import CorruptInput
from biostresstest.sources.gml import linearise_arcs, parse_geometry

GML_NS = 'xmlns:gml="http://www.opengis.net/gml"'


def _parse(text: str) -> object:
    return parse_geometry(etree.fromstring(text))


@pytest.mark.parametrize("mid", [(1.0, 1.0), (1.0, -1.0)])
def test_arc_points_lie_on_the_circle(mid: tuple[float, float]) -> None:
    points = linearise_arcs(np.array([[0.0, 0.0], mid, [2.0, 0.0]]))
    radii = np.hypot(points[:, 0] - 1.0, points[:, 1])
    assert np.allclose(radii, 1.0)
    assert tuple(points[0]) == (0.0, 0.0) and tuple(points[-1]) == (2.0, 0.0)
    # the arc passes through the middle point's side of the chord
    assert np.sign(points[len(points) // 2, 1]) == np.sign(mid[1])
    assert len(points) > 50  # about 2° per step over 180°


def test_collinear_arc_is_a_straight_segment() -> None:
    points = linearise_arcs(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]))
    assert points.tolist() == [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]


def test_ring_of_curve_segments_closes_into_a_valid_polygon() -> None:
    polygon = _parse(
        f"""<gml:Polygon {GML_NS}><gml:exterior><gml:Ring><gml:curveMember><gml:Curve>
        <gml:segments>
          <gml:LineStringSegment><gml:posList>0 0 2 0</gml:posList></gml:LineStringSegment>
          <gml:Arc><gml:posList>2 0 1 1 0 0</gml:posList></gml:Arc>
        </gml:segments></gml:Curve></gml:curveMember></gml:Ring></gml:exterior></gml:Polygon>"""
    )
    assert polygon.is_valid  # type: ignore[attr-defined]
    assert polygon.area == pytest.approx(np.pi / 2, rel=1e-3)  # type: ignore[attr-defined]


def test_polygon_with_hole_and_3d_coordinates() -> None:
    polygon = _parse(
        f"""<gml:Polygon {GML_NS}>
        <gml:exterior><gml:LinearRing><gml:posList srsDimension="3">0 0 5 4 0 5 4 4 5 0 4 5 0 0 5
        </gml:posList></gml:LinearRing></gml:exterior>
        <gml:interior><gml:LinearRing><gml:posList>1 1 2 1 2 2 1 2 1 1</gml:posList>
        </gml:LinearRing></gml:interior></gml:Polygon>"""
    )
    assert polygon.area == 15.0  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text",
    [
        f"<gml:Polygon {GML_NS}></gml:Polygon>",
        f"<gml:Point {GML_NS}><gml:pos>1 x</gml:pos></gml:Point>",
        f"<gml:Solid {GML_NS}/>",
        f'<gml:LineString {GML_NS}><gml:posList srsDimension="2">1 2 3</gml:posList>'
        "</gml:LineString>",
    ],
)
def test_broken_geometries_are_clear_errors(text: str) -> None:
    with pytest.raises(CorruptInput):
        _parse(text)
