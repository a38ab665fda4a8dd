"""Declarative specs of the indicators per cell (kept free of heavy imports for the web app)."""

from __future__ import annotations

from biostresstest.analysis.spec import IndicatorSpec

GREEN_SHARE = IndicatorSpec(
    id="green_share",
    title_nl="Aandeel groen",
    title_en="Green share",
    unit="fraction 0–1",
    inputs=("rivm-groenkaart",),
    description=(
        "Share of the ground covered by vegetation, from the RIVM Groenkaart (10 m). Cells the "
        "map leaves out (NoData, mostly buildings and water) count as not green, as in the Atlas "
        "Natuurlijk Kapitaal's green-per-area maps."
    ),
)

NATURA2000_SHARE = IndicatorSpec(
    id="natura2000_share",
    title_nl="Aandeel Natura 2000",
    title_en="Natura 2000 share",
    unit="fraction 0–1",
    inputs=("natura2000",),
    description="Share of the cell or area inside a Natura 2000 site (area-true).",
)

NODATA_SHARE = IndicatorSpec(
    id="groenkaart_nodata_share",
    title_nl="Aandeel zonder groenkaartwaarde",
    title_en="Share without green-map value",
    unit="fraction 0–1",
    inputs=("rivm-groenkaart",),
    description="Share the Groenkaart marks NoData (counted as not green); a data-quality flag.",
)

HABITAT_QUALITY = IndicatorSpec(
    id="habitat_quality",
    title_nl="Habitatkwaliteit",
    title_en="Habitat quality",
    unit="index 0–1",
    inputs=("landcover",),
    description=(
        "InVEST 3.20 Habitat Quality: habitat suitability of the class, lowered by threats "
        "(roads, rail, buildings, paving, intensive agriculture, light) within their reach."
    ),
)

VULNERABILITY = IndicatorSpec(
    id="vulnerability",
    title_nl="Kwetsbaarheid (druk × gevoeligheid)",
    title_en="Vulnerability (pressure × sensitivity)",
    unit="index 0–1",
    inputs=("landcover",),
    description=(
        "Threat pressure (degradation through the half-saturation curve) times the habitat "
        "suitability at stake, as the DPRA stress test combines exposure and sensitivity."
    ),
)

CONNECTIVITY = IndicatorSpec(
    id="connectivity",
    title_nl="Verbondenheid",
    title_en="Connectivity",
    unit="index 0–1",
    inputs=("landcover", "natura2000"),
    description=(
        "exp(−d / 1 km), d the distance to core habitat: a Natura 2000 site or a natural patch "
        "of at least 10 ha. 1 inside core habitat, 0.37 at 1 km, 0.05 at 3 km."
    ),
)
