"""Fixtures of the PostGIS store tests: the test server and a fresh schema per test.

``BIOSTRESSTEST_TEST_DATABASE_URL`` names a PostgreSQL database with PostGIS
(``scripts/test-postgres.sh`` starts a throwaway one; ``make test`` runs pytest under it).
Without it the PostGIS tests are skipped, unless ``BIOSTRESSTEST_REQUIRE_POSTGIS`` is set (as it
is in CI): then they fail, so CI never passes without having run them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest


@pytest.fixture(scope="session")
def postgis_url() -> str:
    """The URL of the PostGIS test database (skip or fail without one, see the module)."""
    url = os.environ.get("BIOSTRESSTEST_TEST_DATABASE_URL", "").strip()
    if not url:
        if os.environ.get("BIOSTRESSTEST_REQUIRE_POSTGIS"):
            pytest.fail(
                "BIOSTRESSTEST_REQUIRE_POSTGIS is set but BIOSTRESSTEST_TEST_DATABASE_URL is not: "
                "run the tests through scripts/test-postgres.sh (make test)"
            )
        pytest.skip("no PostGIS test server (set BIOSTRESSTEST_TEST_DATABASE_URL or `make test`)")
    return url


@pytest.fixture
def postgis_schema(postgis_url: str) -> Iterator[str]:
    """A schema name of this test alone; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(postgis_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
