"""The heat step of a run: InVEST Urban Cooling on the harmonised land cover (cached).

Parameters and their sources (``docs/method.md``, heat; ``shared/reference/methods.md`` §b.2):

* shade, albedo, kc and the green flag per land-cover class come from the class table
  (``model/data/landcover.toml``), each value with its cited source;
* ``T_ref``: the mean daily maximum temperature of the summer days (TX >= 25 °C) at the KNMI
  station next to the area (Gilze-Rijen for Breda): :func:`knmi.heat_parameters`;
* ``ET0``: the mean Makkink reference evapotranspiration EV24 of those days, uniform over the
  area (ETI then equals kc, as one station gives one value);
* ``UHI_max`` = 2.3 °C: the mean daily maximum urban heat island measured in Dutch cities
  (Steeneveld et al. 2011, J. Geophys. Res. 116, doi:10.1029/2011JD015988; their 95th
  percentile is 5.3 °C);
* green-area cooling distance 450 m and air-mixing radius 500 m: the InVEST User's Guide values
  recommended in methods.md §b.2 (cooling 450 m, mixing 500–600 m).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pyproj import Transformer

from biostresstest.analysis.urban_cooling import CoolingWeights, class_parameters, urban_cooling
from biostresstest.core.errors import CorruptInput
from biostresstest.model.grid import AnalysisGrid
from biostresstest.model.landcover import load_classes
from biostresstest.pipeline.common import RunContext
from biostresstest.pipeline.steps import step_key
from biostresstest.sources import knmi
from biostresstest.sources.base import FetchedFile

UHI_MAX_C = 2.3
"""Mean daily maximum UHI of Dutch cities (Steeneveld et al. 2011)."""
GREEN_AREA_COOLING_DISTANCE_M = 450.0
"""InVEST's recommended reach of park cooling (methods.md §b.2)."""
T_AIR_AVERAGE_RADIUS_M = 500.0
"""InVEST's recommended air-mixing radius, lower end of 500–600 m (methods.md §b.2)."""
STATION = "Gilze-Rijen"
"""Default KNMI station (350, next to the pilot gemeente Breda); a run takes the nearest one
of its weather file (:func:`nearest_station`)."""
HEAT_LAYERS = ("cooling_capacity", "heat_mitigation", "air_temperature")
"""The cell layers of the step (float32, NaN where a cell has no class)."""
RASTER_DESCRIPTIONS = {
    "cooling_capacity": "InVEST 3.20 cooling capacity 0..1 (shade, albedo, evapotranspiration)",
    "heat_mitigation": "InVEST 3.20 heat mitigation index 0..1 (cooling capacity incl. parks)",
    "air_temperature": "InVEST 3.20 air temperature on a hot day (°C), T_ref + (1 - HM)·UHI_max",
}


def heat_parameters(weather: FetchedFile, station: str = STATION) -> dict[str, Any]:
    """The model parameters of a run, with the station figures they come from."""
    found = knmi.heat_parameters(knmi.read_daily(weather, station))
    return {
        "station": found.station,
        "period": f"{found.first_day}/{found.last_day}",
        "summer_days": found.summer_days,
        "tropical_days": found.tropical_days,
        "t_ref": found.t_ref,
        "ref_eto": found.ref_eto,
        "uhi_max": UHI_MAX_C,
        "green_area_cooling_distance": GREEN_AREA_COOLING_DISTANCE_M,
        "t_air_average_radius": T_AIR_AVERAGE_RADIUS_M,
    }


def nearest_station(grid: AnalysisGrid, weather: FetchedFile) -> tuple[str, float]:
    """The station of the weather file nearest to the centre of ``grid``, and its distance (km).

    A far station (the mirror holds Gilze-Rijen and Eindhoven only) still gives a hot day's
    reference, but a less local one: the distance is kept in the run's parameters.
    """
    xmin, ymin, xmax, ymax = grid.bounds
    to_rd = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True)
    centre = ((xmin + xmax) / 2, (ymin + ymax) / 2)
    distances = {}
    for name in knmi.stations_in(weather):
        x, y = to_rd.transform(*knmi.STATION_LONLAT[name])
        distances[name] = math.hypot(x - centre[0], y - centre[1]) / 1000
    if not distances:
        raise CorruptInput(
            f"the weather file {weather.path} holds none of the KNMI stations "
            f"{', '.join(knmi.STATIONS.values())}",
            hint="use the KNMI daggegevens of a station near the area",
        )
    station = min(distances, key=lambda name: distances[name])
    return station, round(distances[station], 1)


def heat_step(
    ctx: RunContext,
    classes: np.ndarray,
    grid: AnalysisGrid,
    weather: FetchedFile,
    depends: str,
) -> dict[str, Any]:
    """Cooling capacity, heat mitigation and air temperature per cell (cached).

    Returns ``key``, ``parameters`` (the figures of :func:`heat_parameters`) and the float32
    layers of :data:`HEAT_LAYERS`.
    """
    table = load_classes()
    station, distance_km = nearest_station(grid, weather)
    params = {**heat_parameters(weather, station), "station_distance_km": distance_km}
    key = step_key(
        "heat",
        depends=depends,
        classes=table.digest,
        weather=weather.sha256,
        cell=grid.cell_size,
        **params,
    )

    def compute() -> dict[str, np.ndarray]:
        layers = class_parameters(classes, table)
        eto = np.full(classes.shape, params["ref_eto"], np.float32)
        result = urban_cooling(
            layers["shade"],
            layers["albedo"],
            layers["kc"],
            layers["green_area"],
            eto,
            cell_size=grid.cell_size,
            green_area_cooling_distance=GREEN_AREA_COOLING_DISTANCE_M,
            t_air_average_radius=T_AIR_AVERAGE_RADIUS_M,
            t_ref=params["t_ref"],
            uhi_max=UHI_MAX_C,
            weights=CoolingWeights(),
        )
        return {
            "cooling_capacity": result["cc"],
            "heat_mitigation": result["hm"],
            "air_temperature": result["t_air"],
        }

    return {"key": key, "parameters": params, **ctx.cache.arrays("heat", key, compute)}
