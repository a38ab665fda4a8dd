"""The heat step takes the KNMI station nearest to the area and records how far it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from biostresstest.core.errors import CorruptInput
from biostresstest.core.settings import Settings
from biostresstest.model.grid import AnalysisGrid
from biostresstest.pipeline.heat import nearest_station
from biostresstest.sources import knmi
from biostresstest.sources.base import FetchedFile, fetch


def test_breda_gets_gilze_rijen_and_otterlo_the_nearest_station_in_the_file(
    settings: Settings,
) -> None:
    weather = fetch(knmi.SPEC, settings)
    assert knmi.stations_in(weather) == ["Gilze-Rijen", "Eindhoven"]
    breda = AnalysisGrid.covering((100000, 390000, 125000, 405000), 10)
    station, km = nearest_station(breda, weather)
    assert station == "Gilze-Rijen" and 5 < km < 20
    # Otterlo lies on the Veluwe; the file holds no station there, so the nearest is far
    otterlo = AnalysisGrid.covering((180000, 456000, 182000, 458000), 1)
    station, km = nearest_station(otterlo, weather)
    assert station == "Eindhoven" and 70 < km < 85


def test_a_file_without_known_stations_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "weather_data.csv"
    path.write_text(
        "station,date,average_day_temp,min_temp,max_temp,crop_evaporation\n"
        "Maastricht,2020-07-01,20.0,15.0,26.0,4.0\n",
        "utf-8",
    )
    weather = FetchedFile(knmi.SPEC, path, "0" * 64, "mirror", "2020-10-01T00:00:00+00:00")
    with pytest.raises(CorruptInput, match="none of the KNMI stations"):
        nearest_station(AnalysisGrid.covering((0, 300000, 1000, 301000), 10), weather)
