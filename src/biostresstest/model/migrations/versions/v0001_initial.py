"""The first tables: runs, the current-run pointer, layers, areas, features, documents.

Every published run owns rows in ``areas``, ``features``, ``layers`` and ``documents`` (keyed by
``run_id``); ``current_runs`` points each gemeente at its published run. A publish inserts the
new run's rows and moves the pointer in one transaction, so readers see one run or the other.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the tables."""
    op.execute(
        """
        CREATE TABLE runs (
            run_id bigserial PRIMARY KEY,
            gemeente text NOT NULL,
            created timestamptz NOT NULL DEFAULT now(),
            raster_folder text NOT NULL UNIQUE
        );
        CREATE TABLE current_runs (
            gemeente text PRIMARY KEY,
            run_id bigint NOT NULL UNIQUE REFERENCES runs ON DELETE RESTRICT,
            switched timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE layers (
            run_id bigint NOT NULL REFERENCES runs ON DELETE CASCADE,
            kind text NOT NULL CHECK (kind IN ('area', 'feature')),
            name text NOT NULL,
            position integer NOT NULL,
            columns jsonb NOT NULL,
            PRIMARY KEY (run_id, kind, name)
        );
        CREATE TABLE areas (
            run_id bigint NOT NULL REFERENCES runs ON DELETE CASCADE,
            level text NOT NULL,
            idx integer NOT NULL,
            code text,
            properties jsonb NOT NULL,
            geom geometry(Geometry, 28992) NOT NULL,
            geom_3857 geometry(Geometry, 3857)
                GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED,
            PRIMARY KEY (run_id, level, idx)
        );
        CREATE INDEX areas_geom ON areas USING gist (geom);
        CREATE INDEX areas_geom_3857 ON areas USING gist (geom_3857);
        CREATE INDEX areas_code ON areas (run_id, code);
        CREATE TABLE features (
            run_id bigint NOT NULL REFERENCES runs ON DELETE CASCADE,
            layer text NOT NULL,
            idx integer NOT NULL,
            properties jsonb NOT NULL,
            geom geometry(Geometry, 28992),
            PRIMARY KEY (run_id, layer, idx)
        );
        CREATE INDEX features_geom ON features USING gist (geom);
        CREATE TABLE documents (
            run_id bigint NOT NULL REFERENCES runs ON DELETE CASCADE,
            name text NOT NULL,
            body text NOT NULL,
            PRIMARY KEY (run_id, name)
        );
        COMMENT ON COLUMN documents.body IS
            'JSON text exactly as the embedded store writes it (keeps key order and NaN)';
        """
    )


def downgrade() -> None:
    """Drop the tables."""
    op.execute(
        "DROP TABLE documents, features, areas, layers, current_runs, runs CASCADE"
    )
