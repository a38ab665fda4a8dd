"""KNMI daily weather (daggegevens) of a station, and the heat parameters drawn from it.

Online, the KNMI daggegevens service answers a CSV whose header lines start with ``#`` and whose
columns are ``STN,YYYYMMDD,TG,TN,TX,EV24`` in 0.1 °C and 0.1 mm. The mirror holds a one-year copy
for Gilze-Rijen (station 350, next to Breda) and Eindhoven (370) with the columns ``station, date,
average_day_temp, min_temp, max_temp, …, crop_evaporation`` in °C and mm. Both are read.

The heat parameters for the Urban Cooling model (see ``docs/method.md``, heat):

* ``t_ref``: the mean daily maximum temperature TX of the summer days (TX >= 25 °C, KNMI's
  *zomerse dag*): the air temperature of the rural reference on a typical hot day. The station
  is rural (an airfield), as the model's T_ref asks;
* ``summer_days`` (TX >= 25 °C) and ``tropical_days`` (TX >= 30 °C, KNMI's *tropische dag*);
* ``ref_eto``: the mean Makkink reference evapotranspiration EV24 (mm/day) of the same days.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from biostresstest.core.errors import CorruptInput, InvalidInput
from biostresstest.sources.base import FetchedFile, Level, SourceSpec

SPEC = SourceSpec(
    id="knmi-daggegevens",
    title="KNMI daggegevens weerstations (Gilze-Rijen, Eindhoven)",
    publisher="KNMI",
    level=Level.NL,
    licence="CC BY 4.0 (credit KNMI)",
    theme="weather",
    url="https://www.daggegevens.knmi.nl/klimatologie/daggegevens"
    "?stns=350:370&vars=TG:TN:TX:EV24&start=20191001&end=20201001",
    mirror_path="brabant-knmi-daily-weather-2019-2020/weather_data.csv",
    online_name="daggegevens.csv",
    format="CSV",
    crs="none (station series)",
    resolution="daily, per station",
    date="2019-10-01/2020-10-01",
)

STATIONS = {"350": "Gilze-Rijen", "370": "Eindhoven", "260": "De Bilt"}
"""KNMI station numbers and the names the mirror copy uses."""
STATION_LONLAT = {
    "Gilze-Rijen": (4.936, 51.566),
    "Eindhoven": (5.377, 51.451),
    "De Bilt": (5.180, 52.100),
}
"""Where the stations stand (WGS84 lon, lat; KNMI station list)."""


def stations_in(fetched: FetchedFile) -> list[str]:
    """Names of the stations of :data:`STATIONS` with days in the file."""
    found = []
    for name in STATIONS.values():
        try:
            read_daily(fetched, name)
        except InvalidInput:  # no days of this station
            continue
        found.append(name)
    return found
SUMMER_DAY_C = 25.0
"""KNMI's *zomerse dag*: TX >= 25 °C."""
TROPICAL_DAY_C = 30.0
"""KNMI's *tropische dag*: TX >= 30 °C."""


@dataclass(frozen=True)
class DailyWeather:
    """One day at one station (°C, mm/day)."""

    station: str
    day: date
    mean_temp: float
    min_temp: float
    max_temp: float
    ref_evaporation: float
    """Makkink reference crop evaporation EV24."""


@dataclass(frozen=True)
class HeatParameters:
    """What the Urban Cooling model takes from the station series."""

    station: str
    first_day: date
    last_day: date
    days: int
    summer_days: int
    tropical_days: int
    t_ref: float
    """Mean TX (°C) of the summer days."""
    ref_eto: float
    """Mean EV24 (mm/day) of the summer days."""


def _rows(text: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of either format (KNMI's ``#`` header lines or a plain CSV)."""
    lines = text.splitlines()
    comments = [ln for ln in lines if ln.startswith("#")]
    body = [ln for ln in lines if ln.strip() and not ln.startswith("#")]
    if comments and "STN" in comments[-1].upper():
        header = [h.strip().lstrip("#").strip() for h in comments[-1].split(",")]
        return header, [r for r in csv.reader(body)]
    rows = list(csv.reader(io.StringIO("\n".join(body))))
    return ([h.strip() for h in rows[0]], rows[1:]) if rows else ([], [])


def _value(cells: list[str], index: int, scale: float, where: str) -> float:
    text = cells[index].strip() if index < len(cells) else ""
    try:
        return float(text) * scale
    except ValueError as exc:
        raise CorruptInput(f"{where}: '{text}' is not a number") from exc


def read_daily(fetched: FetchedFile, station: str = "Gilze-Rijen") -> list[DailyWeather]:
    """The days of ``station`` (a name of :data:`STATIONS` or a KNMI number), in date order."""
    text = fetched.path.read_text("utf-8-sig")
    header, rows = _rows(text)
    names = [h.lower() for h in header]
    knmi = "stn" in names
    columns = (
        ("stn", "yyyymmdd", "tg", "tn", "tx", "ev24")
        if knmi
        else ("station", "date", "average_day_temp", "min_temp", "max_temp", "crop_evaporation")
    )
    missing = [c for c in columns if c not in names]
    if missing:
        raise CorruptInput(
            f"{fetched.path}: no column {', '.join(repr(m) for m in missing)} "
            f"(columns are {', '.join(header)})",
            hint="expected KNMI daggegevens (STN,YYYYMMDD,TG,TN,TX,EV24) or the mirror's copy",
        )
    at = [names.index(c) for c in columns]
    scale = 0.1 if knmi else 1.0
    wanted = {station, STATIONS.get(station, station)}
    wanted |= {k for k, v in STATIONS.items() if v == station}
    days = []
    for line, cells in enumerate(rows, start=2):
        if cells[at[0]].strip() not in wanted:
            continue
        where = f"{fetched.path}, row {line}"
        stamp = cells[at[1]].strip()
        try:
            day = date.fromisoformat(
                stamp if "-" in stamp else f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:]}"
            )
        except ValueError as exc:
            raise CorruptInput(f"{where}: '{stamp}' is not a date") from exc
        tg, tn, tx, ev = (_value(cells, i, scale, where) for i in at[2:])
        days.append(DailyWeather(STATIONS.get(station, station), day, tg, tn, tx, ev))
    if not days:
        raise InvalidInput(
            f"{fetched.path} has no days of station {station!r}",
            hint=f"known stations: {', '.join(f'{k} {v}' for k, v in STATIONS.items())}",
        )
    return sorted(days, key=lambda d: d.day)


def heat_parameters(days: list[DailyWeather], hot_c: float = SUMMER_DAY_C) -> HeatParameters:
    """T_ref, ET0 and the counts of summer and tropical days of a station series."""
    if not days:
        raise InvalidInput("no weather days to derive heat parameters from")
    hot = [d for d in days if d.max_temp >= hot_c]
    if not hot:
        raise InvalidInput(
            f"station {days[0].station} has no day with TX >= {hot_c:g} °C between "
            f"{days[0].day} and {days[-1].day}",
            hint="use a longer series or a lower threshold",
        )
    return HeatParameters(
        station=days[0].station,
        first_day=days[0].day,
        last_day=days[-1].day,
        days=len(days),
        summer_days=sum(d.max_temp >= SUMMER_DAY_C for d in days),
        tropical_days=sum(d.max_temp >= TROPICAL_DAY_C for d in days),
        t_ref=round(sum(d.max_temp for d in hot) / len(hot), 3),
        ref_eto=round(sum(d.ref_evaporation for d in hot) / len(hot), 3),
    )
