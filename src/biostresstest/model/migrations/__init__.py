"""Alembic migrations of the PostGIS store's tables (run by ``PostgisStore.migrate``)."""
