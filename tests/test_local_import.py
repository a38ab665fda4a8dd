"""Atomic imports of local data: SIGKILL mid-import, serialised imports, failed writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from biostresstest.core.settings import Settings
from biostresstest.model.local_data import DatasetRecord, LocalDataStore, local_layers_for
from biostresstest.sources.upload import import_file

GM = "GM0080"
X, Y = 182_500.0, 579_500.0


def _csv(path: Path, species: str, rows: int = 3) -> Path:
    lines = ["soort;aantal;x;y", *(f"{species};{i + 1};{X + i};{Y}" for i in range(rows))]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def _snapshot(root: Path) -> list[tuple[str, str, int]]:
    return [(r.name, r.sha256, r.features) for r in LocalDataStore(root).datasets(GM)]


def _debris(root: Path) -> list[str]:
    live = (root / GM).resolve()
    found = [p.name for p in root.glob(".staging-*")] + [p.name for p in root.glob(".link-*")]
    found += [p.name for p in (root / ".versions").iterdir() if p.resolve() != live]
    found += [p.name for p in (root / ".journal").iterdir()]
    return sorted(found)


def _start_import(
    settings: Settings, csv: Path, failpoint: str, ready: Path
) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        BIOSTRESSTEST_DATA_DIR=str(settings.data_dir),
        BIOSTRESSTEST_MIRROR=str(settings.mirror),
        BIOSTRESSTEST_OFFLINE="1",
        BIOSTRESSTEST_FAILPOINT=failpoint,
        BIOSTRESSTEST_FAILPOINT_READY=str(ready),
    )
    command = [
        sys.executable,
        "-m",
        "biostresstest.cli",
        "local",
        "import",
        "--gemeente",
        GM,
        "--kind",
        "species",
        str(csv),
    ]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_ready(proc: subprocess.Popen[bytes], ready: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the import ended early: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the import never reached its failpoint"
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("failpoint", "goes_live"),
    [("local.after_stage", False), ("local.before_switch", False), ("local.after_switch", True)],
)
def test_sigkill_mid_import_leaves_the_previous_state(
    settings: Settings, tmp_path: Path, failpoint: str, goes_live: bool
) -> None:
    root = settings.data_dir / "local"
    first = import_file(
        settings, GM, _csv(tmp_path / "a.csv", "Erinaceus europaeus"), "species", "test"
    )
    before = _snapshot(root)
    ready = tmp_path / "ready"
    proc = _start_import(settings, _csv(tmp_path / "b.csv", "Bufo bufo", 5), failpoint, ready)
    _wait_ready(proc, ready)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    assert _debris(root), "a killed import leaves something for the next start to clean"
    after_kill = [(r.name, r.sha256, r.features) for r in _live_records(root)]
    if goes_live:
        assert after_kill != before and after_kill[0][2] == 5
    else:
        assert after_kill == before == [(first.name, first.sha256, 3)]

    store = LocalDataStore(root)  # the next start
    assert _debris(root) == []
    assert _snapshot(root) == after_kill
    last = store.audit(GM)[-1]
    assert last["action"] == ("recovered-committed" if goes_live else "recovered-rolled-back")
    layers = [p.name for p in (root / ".versions").iterdir()]
    assert len(layers) == 1


def _live_records(root: Path) -> list[DatasetRecord]:
    import json

    index = json.loads(((root / GM).resolve() / "index.json").read_text("utf-8"))
    return [DatasetRecord.from_dict(d) for d in index]


def test_two_imports_at_once_are_serialised(settings: Settings, tmp_path: Path) -> None:
    root = settings.data_dir / "local"
    import_file(settings, GM, _csv(tmp_path / "a.csv", "Erinaceus europaeus"), "species", "t")
    ready = tmp_path / "ready"
    holder = _start_import(
        settings, _csv(tmp_path / "b.csv", "Bufo bufo", 5), "local.after_stage", ready
    )
    _wait_ready(holder, ready)
    finished: list[DatasetRecord] = []
    second = threading.Thread(
        target=lambda: finished.append(
            import_file(
                settings,
                GM,
                _csv(tmp_path / "c.csv", "Vulpes vulpes", 7),
                "species",
                "t",
                name="vossen",
            )
        )
    )
    second.start()
    second.join(timeout=3)
    assert second.is_alive() and not finished, "the second import must wait for the first"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    second.join(timeout=60)
    assert finished and finished[0].name == "vossen"
    live = {(r.name, r.features) for r in LocalDataStore(root).datasets(GM)}
    assert live == {("species", 3), ("vossen", 7)}  # the killed one never went live


def test_a_failed_write_changes_nothing(settings: Settings, tmp_path: Path) -> None:
    root = settings.data_dir / "local"
    import_file(settings, GM, _csv(tmp_path / "a.csv", "Erinaceus europaeus"), "species", "t")
    store = LocalDataStore(root)
    before = _snapshot(root)
    record = DatasetRecord(
        "kapot", "species", "kapot.gpkg", "0" * 64, 1, "EPSG:28992", (0.0, 0.0, 1.0, 1.0)
    )

    def broken(target: Path) -> None:
        target.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        store.commit(GM, record, broken, "t")
    assert _snapshot(root) == before
    assert _debris(root) == []


def test_verges_feed_the_land_cover_by_mowing_regime(settings: Settings, tmp_path: Path) -> None:
    import geopandas as gpd
    import pyogrio
    from shapely.geometry import LineString, Point

    frame = gpd.GeoDataFrame(
        {"maaibeheer": ["Sinus", "gazon", "ecologisch"]},
        geometry=[
            LineString([(X, Y), (X + 100, Y)]),
            Point(X, Y + 200).buffer(10),
            Point(X, Y + 400).buffer(10),
        ],
        crs="EPSG:28992",
    )
    pyogrio.write_dataframe(frame, tmp_path / "bermen.gpkg", driver="GPKG")
    import_file(settings, GM, tmp_path / "bermen.gpkg", "verges", "t")
    (layer,) = local_layers_for(settings, GM)
    from biostresstest.model.landcover import load_classes

    table = load_classes()
    expected = [table.by_key(k).code for k in ("kruidenrijk", "gras_openbaar", "kruidenrijk")]
    assert layer.polygons["code"].tolist() == expected
    assert layer.polygons.geometry.iloc[0].area == pytest.approx(300, rel=0.01)  # 3 m strip
