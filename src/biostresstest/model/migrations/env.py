"""Alembic environment of the PostGIS store.

Run only through :func:`biostresstest.model.postgis_schema.migrate`, which hands over an open
SQLAlchemy connection (inside a transaction holding the migration lock) and the schema name in
``config.attributes``. The migrations use unqualified table names: the search path puts the
store's schema first.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

config = context.config
connection = config.attributes["connection"]
schema: str = config.attributes["schema"]
search_path: str = config.attributes["search_path"]

connection.execute(text(f"SET LOCAL search_path TO {search_path}"))
context.configure(
    connection=connection,
    target_metadata=None,
    version_table_schema=schema,
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
