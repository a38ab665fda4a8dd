"""Search for places: a gazetteer of the loaded areas (gemeente, wijk, buurt, study areas).

Works offline: it is built from the store itself, and rebuilt when a run is published (its key
includes the manifest keys, read at most every ``STATE_TTL_S`` seconds so a search does not open
every manifest). Matching ignores case and accents; a name that starts with the query ranks
before one that merely contains it, and gemeenten before wijken before buurten. A run that
publishes a feature layer ``straatnamen`` or ``adressen`` (a ``naam`` column, point or line
geometry) adds its streets and addresses.

Online (``BIOSTRESSTEST_OFFLINE`` unset), ``online_places`` adds the answers of the PDOK
Locatieserver after the local ones; when it does not answer, the search stays local and does
not ask again for ``BREAKER_S`` seconds, so a dead network never slows every search down.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from biostresstest.core.crs import WGS84
from biostresstest.core.errors import NotLoaded, SourceError
from biostresstest.core.settings import Settings
from biostresstest.model.areas import AreaLevel
from biostresstest.model.store import Store
from biostresstest.sources import locatieserver

STATE_TTL_S = 2.0
BREAKER_S = 30.0
STREET_LAYERS = {"straatnamen": "weg", "adressen": "adres"}

_LEVEL_RANK = {AreaLevel.GEMEENTE: 0, AreaLevel.GEBIED: 0, AreaLevel.WIJK: 1, AreaLevel.BUURT: 2}
_KIND_RANK = {"weg": 3, "adres": 4}


@dataclass(frozen=True)
class Place:
    """One entry of the gazetteer."""

    name: str
    level: AreaLevel | str
    """An area level, or ``weg`` / ``adres`` for streets and addresses."""
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
            "type": self.level.value if isinstance(self.level, AreaLevel) else self.level,
            "code": self.code,
            "gemeente": self.gemeente,
            "x": round(self.x, 1),
            "y": round(self.y, 1),
            "lon": round(self.lon, 6),
            "lat": round(self.lat, 6),
            "bbox_wgs84": [round(v, 6) for v in self.bbox_wgs84],
            "source": "local",
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
        kind = (
            _LEVEL_RANK[place.level]
            if isinstance(place.level, AreaLevel)
            else _KIND_RANK.get(place.level, 5)
        )
        scored.append((rank, kind, place.name, place))
    scored.sort(key=lambda item: item[:3])
    return [item[3] for item in scored[:limit]]


def fold(text: str) -> str:
    """Lower case without accents or surrounding spaces: ``'Chassé '`` → ``'chasse'``."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_STATE: dict[int, tuple[float, tuple[tuple[str, str], ...]]] = {}


def _state(store: Store) -> tuple[tuple[str, str], ...]:
    """The (key, run key) of every loaded area, re-read at most every STATE_TTL_S seconds."""
    now = time.monotonic()
    cached = _STATE.get(id(store))
    if cached is not None and now - cached[0] < STATE_TTL_S:
        return cached[1]
    state = tuple((key, str(store.manifest(key).get("key"))) for key in store.gemeenten())
    _STATE[id(store)] = (now, state)
    return state


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
        places += _street_places(store, key)
    return tuple(places)


def _street_places(store: Store, key: str) -> list[Place]:
    """Streets and addresses of a run that publishes them (one place per distinct name)."""
    places: list[Place] = []
    for layer, kind in STREET_LAYERS.items():
        if layer not in store.feature_layers(key):
            continue
        try:
            frame = store.features(key, layer)
        except NotLoaded:
            continue
        if "naam" not in frame or frame.empty:
            continue
        for name, group in frame.groupby("naam"):
            bounds = group.total_bounds
            x, y = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
            wgs = group.to_crs(WGS84).total_bounds
            lon, lat = (wgs[0] + wgs[2]) / 2, (wgs[1] + wgs[3]) / 2
            pad = 0.0005
            places.append(
                Place(
                    name=str(name),
                    level=kind,
                    code=f"{key}-{kind}-{fold(str(name)).replace(' ', '-')}"[:80],
                    gemeente=key,
                    x=float(x),
                    y=float(y),
                    lon=float(lon),
                    lat=float(lat),
                    bbox_wgs84=(wgs[0] - pad, wgs[1] - pad, wgs[2] + pad, wgs[3] + pad),
                )
            )
    return places


_BREAKER: dict[str, float] = {}
_BREAKER_LOCK = threading.Lock()


def online_places(settings: Settings, query: str, limit: int) -> tuple[list[dict[str, Any]], str]:
    """Answers of the PDOK Locatieserver and how it went: ``ok``, ``offline`` or ``unavailable``."""
    if settings.offline:
        return [], "offline"
    url = settings.locatieserver_url
    with _BREAKER_LOCK:
        if time.monotonic() < _BREAKER.get(url, 0.0):
            return [], "unavailable"
    try:
        found = locatieserver.free(
            query, base_url=url, timeout=settings.locatieserver_timeout, rows=limit
        )
    except SourceError:
        with _BREAKER_LOCK:
            _BREAKER[url] = time.monotonic() + BREAKER_S
        return [], "unavailable"
    return [place.as_dict() for place in found], "ok"


def merged_places(
    store: Store, settings: Settings, query: str, limit: int
) -> tuple[list[dict[str, Any]], str]:
    """Local places first, then online ones not already among them; and the online status."""
    local = [place.as_dict() for place in search(store, query, limit)]
    online, status = online_places(settings, query, limit)
    seen = {place["code"] for place in local}
    extra = [place for place in online if place["code"] not in seen]
    return (local + extra)[: max(limit, len(local))], status
