"""Feedback of users on the views of the tool, kept in one SQLite file in the data folder.

Trials with bestuurders, beleidsmakers, companies, farmers and residents show how accessible the
tool is: each answer records who gave it (a role, never a name), which view, layer and area it
was about, how clear it was (1–5) and an optional comment. Values are checked here as well as in
the web layer, so nothing malformed reaches the file whoever calls this.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from biostresstest.core.errors import InvalidInput, StoreError

ROLES = ("bestuurder", "beleidsmaker", "bedrijf", "agrarier", "bewoner")
VIEWS = ("map", "comparison", "story", "place", "scenario", "feedback")
MAX_COMMENT = 1000
_COMMENT_COLUMNS = ("created", "role", "view", "layer", "area", "clarity", "comment")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{0,40}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    role TEXT NOT NULL,
    view TEXT NOT NULL,
    layer TEXT NOT NULL,
    area TEXT NOT NULL,
    clarity INTEGER NOT NULL CHECK (clarity BETWEEN 1 AND 5),
    comment TEXT NOT NULL,
    lang TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class Feedback:
    """One answer."""

    role: str
    view: str
    clarity: int
    layer: str = ""
    area: str = ""
    comment: str = ""
    lang: str = "nl"

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise InvalidInput(f"unknown role {self.role!r}", hint=f"use one of {ROLES}")
        if self.view not in VIEWS:
            raise InvalidInput(f"unknown view {self.view!r}", hint=f"use one of {VIEWS}")
        if not 1 <= self.clarity <= 5:
            raise InvalidInput("clarity must be 1 to 5", hint="1 = unclear, 5 = very clear")
        for name in ("layer", "area"):
            if not _TOKEN.match(getattr(self, name)):
                raise InvalidInput(f"{name} is malformed", hint="letters, digits, _ and -")
        if len(self.comment) > MAX_COMMENT or "\x00" in self.comment:
            raise InvalidInput(
                f"comment too long or malformed (at most {MAX_COMMENT} characters)",
                hint="shorten the comment",
            )
        if self.lang not in ("nl", "en"):
            raise InvalidInput(f"unknown language {self.lang!r}", hint="use nl or en")


class FeedbackStore:
    """The feedback file ``data/feedback.sqlite``; one connection per call (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=5.0)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"cannot open the feedback file {self.path.name}: {exc}",
                hint="check that the data folder is writable",
            ) from exc
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(_SCHEMA)
            with connection:
                yield connection
        except sqlite3.Error as exc:
            raise StoreError(f"the feedback file failed: {exc}", hint="try again") from exc
        finally:
            connection.close()

    def add(self, item: Feedback, now: datetime | None = None) -> int:
        """Store one answer; its id."""
        created = (now or datetime.now(UTC)).isoformat(timespec="seconds")
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO feedback (created, role, view, layer, area, clarity, comment, lang)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    created,
                    item.role,
                    item.view,
                    item.layer,
                    item.area,
                    item.clarity,
                    item.comment.strip(),
                    item.lang,
                ),
            )
            return int(cursor.lastrowid or 0)

    def summary(self, recent: int = 20) -> dict[str, Any]:
        """Counts and mean clarity per role × view, and the most recent comments."""
        with self._connect() as db:
            groups = db.execute(
                "SELECT role, view, COUNT(*), AVG(clarity) FROM feedback"
                " GROUP BY role, view ORDER BY role, view"
            ).fetchall()
            comments = db.execute(
                "SELECT created, role, view, layer, area, clarity, comment FROM feedback"
                " WHERE comment != '' ORDER BY id DESC LIMIT ?",
                (recent,),
            ).fetchall()
            total = db.execute("SELECT COUNT(*), AVG(clarity) FROM feedback").fetchone()
        return {
            "total": int(total[0]),
            "mean_clarity": None if total[1] is None else round(float(total[1]), 2),
            "groups": [
                {"role": r, "view": v, "count": int(n), "mean_clarity": round(float(m), 2)}
                for r, v, n, m in groups
            ],
            "recent_comments": [dict(zip(_COMMENT_COLUMNS, row, strict=True)) for row in comments],
        }

    def rows(self) -> list[tuple[Any, ...]]:
        """All answers, oldest first (for the export)."""
        with self._connect() as db:
            return db.execute(
                "SELECT id, created, role, view, layer, area, clarity, comment, lang"
                " FROM feedback ORDER BY id"
            ).fetchall()


EXPORT_COLUMNS = ("id", "created", "role", "view", "layer", "area", "clarity", "comment", "lang")
