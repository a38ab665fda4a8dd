"""The PostGIS store: the store contract on a PostgreSQL/PostGIS database plus COG files.

Tables (schema ``biostresstest`` by default; created and upgraded by Alembic, see
``model/migrations``): ``runs`` (one row per published run), ``current_runs`` (the pointer from a
gemeente to its published run), ``layers`` (column names and dtypes per layer), ``areas`` (area
units with their indicator values as ``jsonb``, geometry in EPSG:28992 plus a generated
EPSG:3857 copy for tiles), ``features`` and ``documents`` (JSON text, the manifest among them).

Cell layers stay Cloud-Optimized GeoTIFFs in a run folder under ``raster_dir``
(``.runs/<gemeente>-<time>-<id>/<name>.tif``); the run's row names its folder.

A publish writes the run folder, then inserts all rows of the run and moves the pointer in ONE
transaction: readers see the old run or the new one, never a mix, and a failure rolls back and
removes the new folder, leaving the previous state. Every read runs in one snapshot
(``REPEATABLE READ``), so a re-publish during a read cannot mix two runs either. Publishes of one
gemeente are serialised by an advisory lock that also keeps the start-up clean-up away from a
publish in progress. One ``raster_dir`` belongs to one database schema.

The run a publish replaces is not deleted at once: a reader may have resolved its raster folder
a moment before the switch. Like the embedded store, the switch marks it superseded
(``runs.superseded``) and it goes once it has been superseded for
:data:`~biostresstest.model.store.GRACE_S` seconds, except the most recent superseded run of each
gemeente, which stays until the next publish. Expired runs are removed after each publish of
their gemeente and when a store is opened.
"""

from __future__ import annotations

import gzip
import json
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from biostresstest.core.errors import NotLoaded, StoreError
from biostresstest.model.areas import AreaLevel
from biostresstest.model.embedded import TILE_ZOOMS, write_cog
from biostresstest.model.postgis_rows import (
    Columns,
    geometry_ewkb,
    layer_columns,
    property_rows,
    to_frame,
)
from biostresstest.model.postgis_schema import (
    DEFAULT_SCHEMA,
    check_schema_name,
    describe_dsn,
    migrate,
    normalise_dsn,
    postgis_schema,
)
from biostresstest.model.store import GRACE_S, RunResult

Connection = psycopg.Connection[tuple[Any, ...]]
Bbox = tuple[float, float, float, float]
TILE_EXTENT = 4096
TILE_BUFFER = 64
"""Tile units drawn beyond the tile edge, so polygon outlines do not show seams."""

_TILE_SQL = """
SELECT c.run_id, (
    SELECT ST_AsMVT(t.*, %(layer)s, %(extent)s, 'geom', 'fid') FROM (
        SELECT a.idx AS fid, a.properties,
               ST_AsMVTGeom(a.geom_3857, ST_TileEnvelope(%(z)s, %(x)s, %(y)s),
                            %(extent)s, %(buffer)s, true) AS geom
        FROM areas a
        WHERE a.run_id = c.run_id AND a.level = %(layer)s
          AND a.geom_3857 && ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(margin)s)
    ) t WHERE t.geom IS NOT NULL)
FROM current_runs c WHERE c.gemeente = %(gemeente)s
"""


class PostgisStore:
    """Results in PostGIS tables plus COG files (see the module docstring for the layout)."""

    def __init__(
        self,
        dsn: str,
        raster_dir: Path,
        *,
        schema: str = DEFAULT_SCHEMA,
        max_connections: int = 8,
        auto_migrate: bool = True,
    ) -> None:
        self.dsn = normalise_dsn(dsn)
        self.schema = check_schema_name(schema)
        self.raster_dir = Path(raster_dir)
        self._runs = self.raster_dir / ".runs"
        self._runs.mkdir(parents=True, exist_ok=True)
        try:
            with psycopg.connect(self.dsn, autocommit=True, connect_timeout=10) as conn:
                search_path = f"{self.schema},{postgis_schema(conn, self.dsn)}"
        except psycopg.OperationalError as exc:
            raise StoreError(
                f"cannot connect to the database {describe_dsn(self.dsn)}: {exc}",
                hint="check BIOSTRESSTEST_DATABASE_URL and that PostgreSQL is running",
            ) from None
        if auto_migrate:
            migrate(self.dsn, self.schema, search_path)
        self._pool = ConnectionPool(
            self.dsn,
            min_size=1,
            max_size=max_connections,
            kwargs={"autocommit": True, "options": f"-c search_path={_escape(search_path)}"},
            check=ConnectionPool.check_connection,
            open=False,
            name=f"biostresstest-{self.schema}",
        )
        try:
            self._pool.open(wait=True, timeout=15)
        except PoolTimeout as exc:
            raise StoreError(
                f"no connection to {describe_dsn(self.dsn)} within 15 s",
                hint="check that PostgreSQL is running and accepts connections",
            ) from exc
        self._clean_leftovers()

    def migrate(self) -> None:
        """Bring the tables to the newest revision (done on open unless ``auto_migrate=False``)."""
        with self._pool.connection() as conn:
            search_path = f"{self.schema},{postgis_schema(conn, self.dsn)}"
        migrate(self.dsn, self.schema, search_path)

    def close(self) -> None:
        """Close the connection pool."""
        self._pool.close()

    def __enter__(self) -> PostgisStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- writing -----------------------------------------------------------------------------

    def publish(self, result: RunResult) -> None:
        """Write the run folder, then insert the run and move the pointer in one transaction."""
        try:
            self._publish(result)
        except psycopg.Error as exc:
            raise StoreError(
                f"publishing {result.gemeente} to the PostGIS store failed: {exc}",
                hint="the previous results are still published; check the database and retry",
            ) from exc

    def _publish(self, result: RunResult) -> None:
        gemeente = result.gemeente
        with self._pool.connection() as conn, self._publish_lock(conn, gemeente):
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            folder = self._runs / f"{gemeente}-{stamp}-{uuid.uuid4().hex[:6]}"
            try:
                folder.mkdir()
                for layer in result.rasters:
                    write_cog(layer, folder / f"{layer.name}.tif")
                with conn.transaction():
                    self._insert_run(conn, result, folder.name)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            self._remove_superseded(conn, gemeente)

    def _insert_run(self, conn: Connection, result: RunResult, folder: str) -> None:
        """Insert every row of ``result``, point its gemeente at it, mark the previous run."""
        row = conn.execute(
            "INSERT INTO runs (gemeente, raster_folder) VALUES (%s, %s) RETURNING run_id",
            [result.gemeente, folder],
        ).fetchone()
        assert row is not None
        run_id = int(row[0])
        for position, (level, frame) in enumerate(result.areas.items()):
            self._insert_layer(conn, run_id, "area", str(AreaLevel(level)), position, frame)
        for position, (name, frame) in enumerate(result.features.items()):
            self._insert_layer(conn, run_id, "feature", name, position, frame)
        documents = {"manifest": result.manifest, **result.documents}
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO documents (run_id, name, body) VALUES (%s, %s, %s)",
                [
                    (run_id, name, json.dumps(doc, indent=2, ensure_ascii=False, default=str))
                    for name, doc in documents.items()
                ],
            )
        old = conn.execute(
            "SELECT run_id FROM current_runs WHERE gemeente = %s FOR UPDATE",
            [result.gemeente],
        ).fetchone()
        conn.execute(
            "INSERT INTO current_runs (gemeente, run_id) VALUES (%s, %s) "
            "ON CONFLICT (gemeente) DO UPDATE SET run_id = EXCLUDED.run_id, switched = now()",
            [result.gemeente, run_id],
        )
        if old is not None:
            conn.execute(
                "UPDATE runs SET superseded = clock_timestamp() WHERE run_id = %s", [old[0]]
            )

    def _insert_layer(
        self,
        conn: Connection,
        run_id: int,
        kind: str,
        name: str,
        position: int,
        frame: gpd.GeoDataFrame,
    ) -> None:
        columns = layer_columns(frame)
        conn.execute(
            "INSERT INTO layers (run_id, kind, name, position, columns) VALUES (%s,%s,%s,%s,%s)",
            [run_id, kind, name, position, Jsonb(columns)],
        )
        codes = frame["code"].astype(str).tolist() if "code" in frame.columns else None
        rows = zip(property_rows(frame), geometry_ewkb(frame), strict=True)
        table = "areas (run_id, level, idx, code, properties, geom)" if kind == "area" else (
            "features (run_id, layer, idx, properties, geom)"
        )
        with conn.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN") as copy:
            for idx, (properties, geometry) in enumerate(rows):
                if kind == "area":
                    code = codes[idx] if codes is not None else None
                    copy.write_row((run_id, name, idx, code, properties, geometry))
                else:
                    copy.write_row((run_id, name, idx, properties, geometry))

    def _drop_run(self, conn: Connection, run_id: int, folder: str) -> None:
        """Remove a run that is no longer current (rows cascade), then its folder."""
        conn.execute("DELETE FROM runs WHERE run_id = %s", [run_id])
        shutil.rmtree(self._runs / folder, ignore_errors=True)

    def _remove_superseded(self, conn: Connection, gemeente: str) -> None:
        """Drop superseded runs of ``gemeente`` past the grace period, keeping the latest one.

        The caller holds the gemeente's publish lock.
        """
        rows = conn.execute(
            "SELECT run_id, raster_folder, "
            "superseded <= clock_timestamp() - make_interval(secs => %s) "
            "FROM runs r WHERE gemeente = %s AND superseded IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM current_runs c WHERE c.run_id = r.run_id) "
            "ORDER BY superseded DESC, run_id DESC",
            [float(GRACE_S), gemeente],
        ).fetchall()
        for run_id, folder, expired in rows[1:]:
            if expired:
                self._drop_run(conn, int(run_id), str(folder))

    @contextmanager
    def _publish_lock(self, conn: Connection, gemeente: str) -> Iterator[None]:
        """Hold the advisory lock of ``gemeente`` (one publish at a time; clean-up waits)."""
        key = f"biostresstest:{self.schema}:{gemeente}"
        conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [key])
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [key])

    @contextmanager
    def _try_publish_lock(self, conn: Connection, gemeente: str) -> Iterator[bool]:
        """Take the lock of ``gemeente`` if it is free; yields whether it was taken."""
        key = f"biostresstest:{self.schema}:{gemeente}"
        row = conn.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [key]).fetchone()
        locked = bool(row and row[0])
        try:
            yield locked
        finally:
            if locked:
                conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [key])

    def _clean_leftovers(self) -> None:
        """Drop leftovers of crashes and superseded runs past their grace period.

        Leftovers are runs neither current nor superseded (rows of an older version of the store
        that had not yet been deleted) and run folders that no committed run names. A gemeente
        being published at this moment is left alone.
        """
        with self._pool.connection() as conn:
            stale = conn.execute(
                "SELECT r.run_id, r.raster_folder FROM runs r WHERE r.superseded IS NULL "
                "AND NOT EXISTS (SELECT 1 FROM current_runs c WHERE c.run_id = r.run_id)"
            ).fetchall()
            for run_id, folder in stale:
                self._drop_run(conn, int(run_id), str(folder))
            superseded = conn.execute(
                "SELECT DISTINCT gemeente FROM runs WHERE superseded IS NOT NULL"
            ).fetchall()
            for (gemeente,) in superseded:
                with self._try_publish_lock(conn, str(gemeente)) as locked:
                    if locked:
                        self._remove_superseded(conn, str(gemeente))
            for path in self._runs.iterdir():
                with self._try_publish_lock(conn, path.name.rsplit("-", 2)[0]) as locked:
                    if not locked:
                        continue  # a publish of that gemeente is writing: leave its folder alone
                    named = conn.execute(
                        "SELECT 1 FROM runs WHERE raster_folder = %s", [path.name]
                    ).fetchone()
                    if named is None:
                        shutil.rmtree(path, ignore_errors=True)

    # --- reading -----------------------------------------------------------------------------

    @contextmanager
    def _snapshot(self, gemeente: str) -> Iterator[tuple[Connection, int, str]]:
        """A read-only snapshot with the published run of ``gemeente`` (id, raster folder)."""
        try:
            with self._pool.connection() as conn, conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                row = conn.execute(
                    "SELECT c.run_id, r.raster_folder FROM current_runs c JOIN runs r "
                    "USING (run_id) WHERE c.gemeente = %s",
                    [gemeente],
                ).fetchone()
                if row is None:
                    raise NotLoaded(
                        f"no results for {gemeente} in the PostGIS store "
                        f"({describe_dsn(self.dsn)}, schema {self.schema})",
                        hint=f"compute them first: `biostresstest run --gemeente {gemeente}`",
                    )
                yield conn, int(row[0]), str(row[1])
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot read {gemeente} from the PostGIS store: {exc}",
                hint="check the database connection; re-run the gemeente if tables are damaged",
            ) from exc

    def gemeenten(self) -> list[str]:
        """Codes of the gemeenten with published results."""
        with self._pool.connection() as conn:
            rows = conn.execute("SELECT gemeente FROM current_runs").fetchall()
        return sorted(str(row[0]) for row in rows)

    def areas(self, gemeente: str, level: AreaLevel, bbox: Bbox | None = None) -> gpd.GeoDataFrame:
        """Area units of ``level`` with their indicator values, in EPSG:28992."""
        with self._snapshot(gemeente) as (conn, run_id, _):
            columns = self._columns(conn, run_id, "area", level.value)
            if columns is None:
                raise StoreError(
                    f"the published run of {gemeente} has no {level.value} layer",
                    hint=f"re-run `biostresstest run --gemeente {gemeente}`",
                )
            sql = "SELECT properties, ST_AsBinary(geom) FROM areas WHERE run_id = %s AND level = %s"
            params: list[Any] = [run_id, level.value]
            if bbox is not None:
                sql += " AND ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 28992))"
                params += list(bbox)
            rows = conn.execute(sql + " ORDER BY idx", params).fetchall()
        return to_frame(columns, rows)

    def _columns(self, conn: Connection, run_id: int, kind: str, name: str) -> Columns | None:
        row = conn.execute(
            "SELECT columns FROM layers WHERE run_id = %s AND kind = %s AND name = %s",
            [run_id, kind, name],
        ).fetchone()
        return None if row is None else [(str(n), str(t)) for n, t in row[0]]

    def raster_path(self, gemeente: str, name: str) -> Path:
        """Path of a published cell layer (a Cloud-Optimized GeoTIFF)."""
        with self._snapshot(gemeente) as (_, _, folder):
            path = self._runs / folder / f"{name}.tif"
        if not path.exists():
            raise NotLoaded(f"{gemeente} has no cell layer {name!r}")
        return path

    def manifest(self, gemeente: str) -> dict[str, Any]:
        """The run manifest of the published results."""
        data: dict[str, Any] = self.document(gemeente, "manifest")
        return data

    def document(self, gemeente: str, name: str) -> Any:
        """A JSON document of a published run."""
        with self._snapshot(gemeente) as (conn, run_id, _):
            row = conn.execute(
                "SELECT body FROM documents WHERE run_id = %s AND name = %s", [run_id, name]
            ).fetchone()
        if row is None:
            raise NotLoaded(f"{gemeente} has no {name!r} in the store")
        return json.loads(row[0])

    def feature_layers(self, gemeente: str) -> list[str]:
        """Names of the feature layers of a published run."""
        with self._snapshot(gemeente) as (conn, run_id, _):
            rows = conn.execute(
                "SELECT name FROM layers WHERE run_id = %s AND kind = 'feature' ORDER BY position",
                [run_id],
            ).fetchall()
        return [str(row[0]) for row in rows]

    def features(self, gemeente: str, layer: str, bbox: Bbox | None = None) -> gpd.GeoDataFrame:
        """One feature layer, in EPSG:28992 (with ``bbox``: features whose box meets it)."""
        with self._snapshot(gemeente) as (conn, run_id, _):
            columns = self._columns(conn, run_id, "feature", layer)
            if columns is None:
                names = conn.execute(
                    "SELECT name FROM layers WHERE run_id = %s AND kind = 'feature' "
                    "ORDER BY position",
                    [run_id],
                ).fetchall()
                raise NotLoaded(
                    f"{gemeente} has no feature layer {layer!r}",
                    hint=f"its layers: {', '.join(str(n[0]) for n in names) or 'none'}",
                )
            sql = (
                "SELECT properties, ST_AsBinary(geom) FROM features "
                "WHERE run_id = %s AND layer = %s"
            )
            params: list[Any] = [run_id, layer]
            if bbox is not None:
                sql += " AND geom && ST_MakeEnvelope(%s, %s, %s, %s, 28992)"
                params += list(bbox)
            rows = conn.execute(sql + " ORDER BY idx", params).fetchall()
        return to_frame(columns, rows)

    def vector_tile(self, gemeente: str, level: AreaLevel, z: int, x: int, y: int) -> bytes | None:
        """A gzip-compressed Mapbox vector tile of the area units, or None if empty.

        One layer named after the level with every attribute column as a property, made by
        ST_AsMVT; served only within the zoom range of the embedded store's tiles
        (:data:`~biostresstest.model.embedded.TILE_ZOOMS`), beyond which MapLibre overzooms.
        """
        minzoom, maxzoom = TILE_ZOOMS[level]
        params = {
            "gemeente": gemeente,
            "layer": level.value,
            "z": z,
            "x": x,
            "y": y,
            "extent": TILE_EXTENT,
            "buffer": TILE_BUFFER,
            "margin": TILE_BUFFER / TILE_EXTENT,
        }
        try:
            with self._pool.connection() as conn:
                if not minzoom <= z <= maxzoom:
                    row = conn.execute(
                        "SELECT run_id, NULL FROM current_runs WHERE gemeente = %s", [gemeente]
                    ).fetchone()
                else:
                    row = conn.execute(_TILE_SQL, params).fetchone()
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot make tile {z}/{x}/{y} of {gemeente}: {exc}",
                hint="check the database connection",
            ) from exc
        if row is None:
            raise NotLoaded(
                f"no results for {gemeente} in the PostGIS store",
                hint=f"compute them first: `biostresstest run --gemeente {gemeente}`",
            )
        tile = row[1]
        return gzip.compress(bytes(tile), mtime=0) if tile else None


def _escape(option: str) -> str:
    """``option`` with spaces escaped for libpq's ``options`` parameter."""
    return option.replace("\\", "\\\\").replace(" ", "\\ ")
