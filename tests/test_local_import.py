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

from biostresstest.core.errors import StoreError
from biostresstest.core.settings import Settings
from biostresstest.model.local_data import (
    DatasetRecord,
    LocalDataStore,
    local_cover,
    local_data_key,
    local_layers_for,
)
from biostresstest.model.local_data import store as store_module
from biostresstest.model.local_data.store import SUPERSEDED
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
    """Left-overs of an interrupted import (a superseded version in its grace period is not)."""
    live = (root / GM).resolve()
    found = [p.name for p in root.glob(".staging-*")] + [p.name for p in root.glob(".link-*")]
    found += [
        p.name
        for p in (root / ".versions").iterdir()
        if p.resolve() != live
        and not p.name.endswith(SUPERSEDED)
        and not p.with_name(p.name + SUPERSEDED).exists()
    ]
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
    versions = [p.name for p in (root / ".versions").iterdir()]
    markers = [v for v in versions if v.endswith(SUPERSEDED)]
    if goes_live:  # the version that was live until the switch is kept for its grace period
        assert len(versions) == 3 and len(markers) == 1
    else:
        assert len(versions) == 1 and markers == []


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


def test_a_run_resolves_the_local_data_once(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = settings.data_dir / "local"
    trees = tmp_path / "bomen.csv"
    trees.write_text(f"soort;x;y\nQuercus robur;{X};{Y}\n", "utf-8")
    import_file(settings, GM, trees, "trees", "t")
    cover = local_cover(settings, GM)  # what a run resolves at its start
    first_key = cover.key
    assert first_key and first_key == local_data_key(settings, GM)
    more = tmp_path / "meer.csv"
    more.write_text(f"soort;x;y\nQuercus robur;{X};{Y}\nFagus sylvatica;{X + 50};{Y}\n", "utf-8")
    import_file(settings, GM, more, "trees", "t")  # an import in the middle of the run
    # key and layers still come from the version the run started from …
    assert cover.key == first_key
    assert [len(layer.polygons) for layer in cover.layers()] == [1]
    # … while the live state has moved on
    assert local_data_key(settings, GM) != first_key
    assert [len(layer.polygons) for layer in local_layers_for(settings, GM)] == [2]
    assert len(list((root / ".versions").glob(f"*{SUPERSEDED}"))) == 1

    # past the grace period superseded versions go, except the latest one
    monkeypatch.setattr(store_module, "GRACE_S", 0.0)
    third = local_cover(settings, GM)
    import_file(settings, GM, trees, "trees", "t", name="bomen2")
    import_file(settings, GM, trees, "trees", "t", name="bomen3")
    names = [p.name for p in (root / ".versions").iterdir()]
    assert len(names) == 3 and sum(n.endswith(SUPERSEDED) for n in names) == 1
    assert third.version.folder is not None and not third.version.folder.exists()
    with pytest.raises(StoreError, match="run again"):
        third.layers()


def test_one_recompute_per_gemeente_at_a_time_with_its_outcome_audited(
    settings: Settings, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from biostresstest.model.accounts import AccountStore
    from biostresstest.model.local_data import local_store
    from biostresstest.model.local_data.recompute import recompute_queue
    from biostresstest.web.app import create_app

    runs: list[str] = []
    running: list[str] = []
    most_at_once = [0]
    gate, guard = threading.Event(), threading.Lock()

    def recompute(_settings: Settings, code: str) -> bool:
        """Stands in for a full run: it takes until ``gate`` opens; the third one fails."""
        with guard:
            running.append(code)
            most_at_once[0] = max(most_at_once[0], len(running))
            runs.append(code)
        gate.wait(60)
        with guard:
            running.remove(code)
        if len(runs) == 3:
            raise StoreError("the disk is full")
        return True

    app = create_app(settings)
    app.state.recompute_after_import = recompute
    accounts = AccountStore(settings.data_dir / "accounts.sqlite")
    accounts.add_user("beheer@leeuwarden.example", GM, "correct horse battery staple")
    app.state.accounts = accounts
    client = TestClient(app)
    login = {"email": "beheer@leeuwarden.example", "password": "correct horse battery staple"}
    token = client.post("/api/admin/login", json=login).json()["token"]
    client.headers["Authorization"] = f"Bearer {token}"
    client.cookies.clear()
    csv = _csv(tmp_path / "w.csv", "Erinaceus europaeus").read_bytes()

    def do_import() -> str:
        preview = client.post(
            f"/api/admin/{GM}/uploads",
            data={"kind": "species"},
            files={"file": ("w.csv", csv, "text/csv")},
        )
        assert preview.status_code == 201, preview.text
        done = client.post(
            f"/api/admin/{GM}/imports", json={"upload_id": preview.json()["upload_id"]}
        )
        assert done.status_code == 201, done.text
        return str(done.json()["recompute"])

    queue = recompute_queue(local_store(settings))
    assert do_import() == "started"
    while not runs:
        time.sleep(0.02)
    assert do_import() == "queued" and do_import() == "queued"
    assert client.get(f"/api/admin/{GM}/recompute").json()["state"] == "running+queued"
    gate.set()
    assert queue.wait(GM, 60)
    assert runs == [GM, GM] and most_at_once[0] == 1  # three imports, two runs, never two at once
    status = client.get(f"/api/admin/{GM}/recompute").json()
    assert status["state"] == "idle" and status["last"]["outcome"] == "ok"

    assert do_import() == "started"  # the third run fails: the failure is recorded, not lost
    assert queue.wait(GM, 60)
    status = client.get(f"/api/admin/{GM}/recompute").json()
    assert status["last"]["outcome"] == "failed" and status["last"]["message"] == "the disk is full"
    audit = client.get(f"/api/admin/{GM}/audit").json()["entries"]
    outcomes = [e["outcome"] for e in audit if e["action"] == "recompute"]
    assert outcomes == ["started", "queued", "queued", "ok", "started", "ok", "started", "failed"]
    assert {e["requested_by"] for e in audit if e["action"] == "recompute"} == {
        "beheer@leeuwarden.example"
    }
    assert TestClient(app).get(f"/api/admin/{GM}/recompute").status_code == 401


def test_the_recompute_of_an_unpublished_gemeente_is_skipped(settings: Settings) -> None:
    from functools import partial

    from biostresstest.model.local_data import local_store
    from biostresstest.model.local_data.recompute import recompute_queue
    from biostresstest.web.admin import recompute_if_published

    queue = recompute_queue(local_store(settings))
    assert queue.request(GM, partial(recompute_if_published, settings, GM), "t") == "started"
    assert queue.wait(GM, 60)
    last = queue.status(GM)["last"]
    assert last["outcome"] == "skipped" and "not published" in last["message"]
