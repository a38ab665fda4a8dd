"""What only the PostGIS store has: migrations, crash leftovers, connection errors, the factory."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from test_store_contract import make_result

from biostresstest.core.errors import InvalidInput, StoreError
from biostresstest.core.settings import Settings
from biostresstest.model.areas import AreaLevel
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.model.postgis import PostgisStore
from biostresstest.model.postgis_schema import current_revision
from biostresstest.model.stores import open_store

HEAD = "0002"


def test_opening_migrates_to_the_newest_revision_once(
    postgis_url: str, postgis_schema: str, tmp_path: Path
) -> None:
    assert current_revision(postgis_url, postgis_schema) is None
    with PostgisStore(postgis_url, tmp_path, schema=postgis_schema) as store:
        store.publish(make_result(3))
    assert current_revision(postgis_url, postgis_schema) == HEAD
    with PostgisStore(postgis_url, tmp_path, schema=postgis_schema) as again:
        again.migrate()
        assert again.manifest("GM0758")["key"] == "v3"
    assert current_revision(postgis_url, postgis_schema) == HEAD


def test_leftovers_of_an_interrupted_publish_are_removed_on_open(
    postgis_url: str, postgis_schema: str, tmp_path: Path
) -> None:
    with PostgisStore(postgis_url, tmp_path, schema=postgis_schema) as store:
        store.publish(make_result(3))
    kept = sorted(p.name for p in (tmp_path / ".runs").iterdir())
    # a crash after writing the cell layers, before the transaction committed
    orphan = tmp_path / ".runs" / "GM0758-20260101T000000-dead00"
    orphan.mkdir()
    (orphan / "score.tif").write_bytes(b"half")
    # a run row that is neither current nor superseded (an older store deleted such runs
    # right after the switch; a crash in between left them)
    with psycopg.connect(postgis_url, autocommit=True) as conn:
        conn.execute(
            f'INSERT INTO "{postgis_schema}".runs (gemeente, raster_folder) '
            "VALUES ('GM0758', 'GM0758-20250101T000000-old000')"
        )
    (tmp_path / ".runs" / "GM0758-20250101T000000-old000").mkdir()
    with PostgisStore(postgis_url, tmp_path, schema=postgis_schema) as store:
        assert sorted(p.name for p in (tmp_path / ".runs").iterdir()) == kept
        assert store.areas("GM0758", AreaLevel.BUURT)["score"].tolist() == [0.3] * 4
    with psycopg.connect(postgis_url) as conn:
        count = conn.execute(f'SELECT count(*) FROM "{postgis_schema}".runs').fetchone()
    assert count == (1,)


def test_superseded_runs_past_the_grace_period_are_removed_on_open(
    postgis_url: str, postgis_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with PostgisStore(postgis_url, tmp_path, schema=postgis_schema) as store:
        paths = []
        for version in (3, 5, 7):
            store.publish(make_result(version))
            paths.append(store.raster_path("GM0758", "score"))
    assert all(path.exists() for path in paths), "within the grace period nothing goes"
    monkeypatch.setattr("biostresstest.model.postgis.GRACE_S", 0.0)
    # another process opening the store (no publish) removes what has expired since
    with PostgisStore(postgis_url, tmp_path, schema=postgis_schema) as store:
        assert [path.exists() for path in paths] == [False, True, True]
        assert store.manifest("GM0758")["key"] == "v7"
    with psycopg.connect(postgis_url) as conn:
        rows = conn.execute(
            f'SELECT superseded IS NOT NULL FROM "{postgis_schema}".runs ORDER BY run_id'
        ).fetchall()
    assert rows == [(True,), (False,)], "the latest superseded run stays until the next publish"


def test_a_server_that_is_not_there_is_a_store_error_without_the_password(
    tmp_path: Path,
) -> None:
    with pytest.raises(StoreError) as info:
        PostgisStore("postgresql://bst:geheim@127.0.0.1:1/nowhere", tmp_path)
    assert "geheim" not in str(info.value)
    assert "BIOSTRESSTEST_DATABASE_URL" in info.value.hint


def test_a_bad_schema_name_is_invalid_input(postgis_url: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        PostgisStore(postgis_url, tmp_path, schema="x; DROP TABLE runs")


def test_open_store_follows_the_settings(postgis_url: str, tmp_path: Path) -> None:
    assert isinstance(open_store(Settings(data_dir=tmp_path)), EmbeddedStore)
    with pytest.raises(InvalidInput) as info:
        open_store(Settings(data_dir=tmp_path, store="postgis"))
    assert "BIOSTRESSTEST_DATABASE_URL" in info.value.hint
    settings = Settings(data_dir=tmp_path, store="postgis", database_url=postgis_url)
    store = open_store(settings)
    assert isinstance(store, PostgisStore) and store.schema == "biostresstest"
    assert open_store(settings) is store, "one pool per database and raster folder"
    key = f"proef-{uuid.uuid4().hex[:8]}"  # the default schema may hold other tests' runs
    store.publish(make_result(3, code=key))
    assert key in store.gemeenten()
    assert store.raster_path(key, "score").is_relative_to(tmp_path / "postgis-rasters")
