"""Search for places: a gazetteer of the loaded areas (gemeente, wijk, buurt, study areas).

Works offline: it is built from the store itself, and rebuilt when a run is published (its key
includes the manifest keys). Matching ignores case and accents; a name that starts with the
query ranks before one that merely contains it, and gemeenten before wijken before buurten.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from biostresstest.core.crs import WGS84
from biostresstest.model.areas import AreaLevel
from biostresstest.model.store import Store

_LEVEL_RANK = {AreaLevel.GEMEENTE: 0, AreaLevel.GEBIED: 0, AreaLevel.WIJK: 1, AreaLevel.BUURT: 2}


@dataclass(frozen=True)
class Place:
    """One entry of the gazetteer."""

    name: str
    level: AreaLevel
    code: str
    gemeente: str
    x: float
    y: float
    lon: float
    lat: float
    bbox_wgs84: tuple[float, float, float, float]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        return {
            "name": self.name,
            "type": self.level.value,
            "code": self.code,
            "gemeente": self.gemeente,
            "x": round(self.x, 1),
            "y": round(self.y, 1),
            "lon": round(self.lon, 6),
            "lat": round(self.lat, 6),
            "bbox_wgs84": [round(v, 6) for v in self.bbox_wgs84],
        }


def search(store: Store, query: str, limit: int = 10) -> list[Place]:
    """Places whose name (or code) matches ``query``, best first."""
    wanted = fold(query)
    if not wanted:
        return []
    places = _gazetteer(store)
    scored = []
    for place in places:
        name = fold(place.name)
        if place.code.lower() == wanted:
            rank = 0
        elif name == wanted:
            rank = 1
        elif name.startswith(wanted):
            rank = 2
        elif wanted in name:
            rank = 3
        else:
            continue
        scored.append((rank, _LEVEL_RANK[place.level], place.name, place))
    scored.sort(key=lambda item: item[:3])
    return [item[3] for item in scored[:limit]]


def fold(text: str) -> str:
    """Lower case without accents or surrounding spaces: ``'Chassé '`` → ``'chasse'``."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _state(store: Store) -> tuple[tuple[str, str], ...]:
    return tuple((key, str(store.manifest(key).get("key"))) for key in store.gemeenten())


_BUILT: dict[tuple[int, tuple[tuple[str, str], ...]], tuple[Place, ...]] = {}


def _gazetteer(store: Store) -> tuple[Place, ...]:
    """The places of every loaded area; rebuilt only when something new was published."""
    state = _state(store)
    cache_key = (id(store), state)
    if cache_key not in _BUILT:
        if len(_BUILT) > 8:
            _BUILT.clear()
        _BUILT[cache_key] = _build(store, state)
    return _BUILT[cache_key]


def _build(store: Store, state: tuple[tuple[str, str], ...]) -> tuple[Place, ...]:
    places: list[Place] = []
    for key, _ in state:
        levels = (
            (AreaLevel.GEMEENTE, AreaLevel.WIJK, AreaLevel.BUURT)
            if key.startswith("GM")
            else (AreaLevel.GEBIED,)
        )
        for level in levels:
            frame = store.areas(key, level)
            points = frame.geometry.representative_point()
            lonlat = points.to_crs(WGS84)
            bounds = frame.to_crs(WGS84).bounds.to_numpy()
            for i, row in enumerate(frame.itertuples()):
                places.append(
                    Place(
                        name=str(row.name),
                        level=level,
                        code=str(row.code),
                        gemeente=key,
                        x=float(points.iloc[i].x),
                        y=float(points.iloc[i].y),
                        lon=float(lonlat.iloc[i].x),
                        lat=float(lonlat.iloc[i].y),
                        bbox_wgs84=tuple(float(v) for v in bounds[i]),  # type: ignore[arg-type]
                    )
                )
    return tuple(places)
