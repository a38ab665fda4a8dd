"""Superseded runs stay for a grace period: ``runs.superseded`` says since when.

A publish marks the run it replaces as superseded instead of deleting it, so a reader that
resolved the old run a moment before the switch (a raster path) still finds its files. The store
removes superseded runs once they are older than the grace period, keeping the most recent one
of each gemeente until the next publish (see ``biostresstest.model.postgis``).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the column and an index on the superseded runs of a gemeente."""
    op.execute(
        """
        ALTER TABLE runs ADD COLUMN superseded timestamptz;
        CREATE INDEX runs_superseded ON runs (gemeente, superseded)
            WHERE superseded IS NOT NULL;
        """
    )


def downgrade() -> None:
    """Drop the column (superseded runs then count as leftovers and are removed on open)."""
    op.execute("DROP INDEX runs_superseded; ALTER TABLE runs DROP COLUMN superseded")
