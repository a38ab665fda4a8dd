"""Connecting to PostGIS and migrating the store's tables (Alembic).

The migrations live in ``model/migrations`` (package data). Runtime queries use psycopg directly;
SQLAlchemy is only Alembic's way of talking to the database.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from biostresstest.core.errors import InvalidInput, StoreError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
DEFAULT_SCHEMA = "biostresstest"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_schema_name(schema: str) -> str:
    """``schema`` if it is a plain lower-case SQL identifier, else a clear error."""
    if not _SCHEMA_NAME.match(schema):
        raise InvalidInput(
            f"{schema!r} is not a usable schema name",
            hint="use lower-case letters, digits and _ (at most 63), starting with a letter",
        )
    return schema


def normalise_dsn(dsn: str) -> str:
    """A libpq connection string from a URL or key=value string.

    SQLAlchemy-style URLs (``postgresql+psycopg://``) are accepted too.
    """
    text = dsn.strip()
    text = re.sub(r"^postgres(ql)?\+\w+://", "postgresql://", text)
    try:
        conninfo_to_dict(text)
    except psycopg.ProgrammingError as exc:
        raise InvalidInput(
            f"the database URL is not valid: {exc}",
            hint="use postgresql://user:password@host:port/database "
            "(BIOSTRESSTEST_DATABASE_URL)",
        ) from None
    return text


def describe_dsn(dsn: str) -> str:
    """The connection string without its password (for messages and logs)."""
    params = conninfo_to_dict(dsn)
    params.pop("password", None)
    return make_conninfo(**{k: str(v) for k, v in params.items()})


def postgis_schema(conn: psycopg.Connection[tuple[object, ...]], dsn: str) -> str:
    """The schema holding the postgis extension; creates the extension if it is missing."""
    row = conn.execute(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'postgis'"
    ).fetchone()
    if row is not None:
        return str(row[0])
    try:
        conn.execute("CREATE EXTENSION postgis SCHEMA public")
    except psycopg.Error as exc:
        raise StoreError(
            f"the database {describe_dsn(dsn)} has no PostGIS and it cannot be added: "
            f"{exc.diag.message_primary or exc}",
            hint="as a database owner or superuser run `CREATE EXTENSION postgis;` "
            "(Debian package postgresql-15-postgis-3)",
        ) from None
    return "public"


def migrate(dsn: str, schema: str, search_path: str) -> None:
    """Bring the store's tables in ``schema`` to the newest revision.

    Runs in one transaction holding an advisory lock, so processes opening the store at the
    same time migrate once and a failed migration leaves the previous revision.
    """
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(
        "postgresql+psycopg://", creator=lambda: psycopg.connect(dsn), poolclass=NullPool
    )
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with engine.begin() as connection:
            connection.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                {"key": f"biostresstest:{schema}:migrate"},
            )
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            config.attributes.update(
                connection=connection, schema=schema, search_path=search_path
            )
            command.upgrade(config, "head")
    except Exception as exc:
        if isinstance(exc, StoreError):
            raise
        raise StoreError(
            f"cannot migrate the store tables in schema {schema!r} of {describe_dsn(dsn)}: {exc}",
            hint="check that the database user may create tables in that schema",
        ) from exc
    finally:
        engine.dispose()


def current_revision(dsn: str, schema: str) -> str | None:
    """The Alembic revision of the store's tables, or None before the first migration."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        table = conn.execute("SELECT to_regclass(%s)", [f"{schema}.alembic_version"]).fetchone()
        if table is None or table[0] is None:
            return None
        row = conn.execute(f'SELECT version_num FROM "{schema}".alembic_version').fetchone()
        return None if row is None else str(row[0])
