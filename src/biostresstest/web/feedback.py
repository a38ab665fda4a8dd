"""Feedback of users: POST an answer, read the summary, export everything as CSV.

Answers go to ``feedback.sqlite`` in the data folder (model/feedback.py). Posting is limited per
client (``RATE_LIMIT`` answers per ``RATE_WINDOW_S`` seconds, counted per process) so a script
cannot flood the file; the body is validated (roles and views from a fixed list, the comment at
most 1000 characters) and answered with 400 otherwise.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from biostresstest.core.errors import TooManyAttempts
from biostresstest.core.settings import Settings
from biostresstest.model.feedback import (
    EXPORT_COLUMNS,
    MAX_COMMENT,
    ROLES,
    VIEWS,
    Feedback,
    FeedbackStore,
)
from biostresstest.web.csv_safe import write_csv

RATE_LIMIT = 10
RATE_WINDOW_S = 600.0
_STATIC = Path(__file__).parent / "static"

router = APIRouter(tags=["feedback"])


class FeedbackIn(BaseModel):
    """The body of ``POST /api/feedback``."""

    model_config = ConfigDict(extra="forbid")
    role: Annotated[str, Field(description=f"one of {', '.join(ROLES)}", max_length=20)]
    view: Annotated[str, Field(description=f"one of {', '.join(VIEWS)}", max_length=20)]
    clarity: Annotated[int, Field(ge=1, le=5, description="was this clear? 1 (no) … 5 (very)")]
    layer: Annotated[str, Field(max_length=40, pattern=r"^[A-Za-z0-9_-]*$")] = ""
    area: Annotated[str, Field(max_length=40, pattern=r"^[A-Za-z0-9_-]*$")] = ""
    comment: Annotated[str, Field(max_length=MAX_COMMENT)] = ""
    lang: Annotated[str, Field(pattern=r"^(nl|en)$")] = "nl"


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds per key (a sliding window)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str, now: float | None = None) -> float:
        """Record an event for ``key``; 0 if allowed, else the seconds to wait."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            if len(self._events) > 10_000:  # forget idle clients rather than grow without bound
                self._events = {k: q for k, q in self._events.items() if q[-1] > moment - 60}
            events = self._events.setdefault(key, deque())
            while events and events[0] <= moment - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return events[0] + self.window - moment
            events.append(moment)
            return 0.0


def feedback_store(request: Request) -> FeedbackStore:
    """The feedback file of this app."""
    settings: Settings = request.app.state.settings
    return FeedbackStore(settings.data_dir / "feedback.sqlite")


def _limiter(request: Request) -> RateLimiter:
    state = request.app.state
    if not hasattr(state, "feedback_limiter"):
        state.feedback_limiter = RateLimiter(RATE_LIMIT, RATE_WINDOW_S)
    limiter: RateLimiter = state.feedback_limiter
    return limiter


@router.post("/api/feedback", status_code=201)
def post_feedback(body: FeedbackIn, request: Request) -> Response:
    """Store one answer (rate-limited per client)."""
    client = request.client.host if request.client else "unknown"
    wait = _limiter(request).check(client)
    if wait > 0:
        error = TooManyAttempts(
            f"too many feedback answers from this client (at most {RATE_LIMIT} per "
            f"{int(RATE_WINDOW_S / 60)} minutes)",
            hint=f"try again in {int(wait) + 1} seconds",
        )
        headers = {"Retry-After": str(int(wait) + 1)}
        return JSONResponse(error.as_dict(), status_code=error.http_status, headers=headers)
    item = Feedback(**body.model_dump())
    answer_id = feedback_store(request).add(item)
    return JSONResponse({"id": answer_id, "thanks": True}, status_code=201)


@router.get("/api/feedback/summary")
def summary(request: Request) -> dict[str, Any]:
    """Counts and mean clarity per role × view, and the most recent comments."""
    return {"roles": list(ROLES), "views": list(VIEWS), **feedback_store(request).summary()}


@router.get("/api/feedback/export.csv")
def export_csv(request: Request) -> Response:
    """All answers as CSV; cells that could start a formula get a leading quote."""
    text = write_csv(EXPORT_COLUMNS, feedback_store(request).rows())
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="feedback.csv"'},
    )


@router.get("/feedback", include_in_schema=False)
def summary_page() -> FileResponse:
    """The summary page for the project partners."""
    return FileResponse(_STATIC / "feedback.html")
