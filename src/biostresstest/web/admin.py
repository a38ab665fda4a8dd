"""The admin API of local data: login, upload with preview, import, audit; and the public list.

``POST /api/admin/login`` → session cookie + bearer token + CSRF token.
``POST /api/admin/{gemeente}/uploads`` (multipart: ``kind`` and ``file`` or ``url``; optional
``crs``, ``repair``) → a preview: columns with samples, detected CRS, counts, suggested mapping.
``POST /api/admin/{gemeente}/imports`` (JSON: ``upload_id``, optional ``mapping``, ``values``,
``name``) → the dataset switched live; the gemeente's results are recomputed in the background,
one run per gemeente at a time (``model/local_data/recompute.py``).
``GET /api/admin/{gemeente}/audit`` (admins of that gemeente; ``?f=csv`` for a spreadsheet-safe
CSV) and ``GET /api/admin/{gemeente}/recompute`` (state and last outcome of the recompute).
``GET /api/local/{gemeente}`` lists the live datasets for anyone.

The upload handler reads the form on the event loop and does everything else (spooling the file,
reading and checking it, a download by address) in the thread pool, so a slow upload or a slow
remote server never holds up the map's tile and API requests.
"""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import IO, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from biostresstest.core.errors import InvalidInput, PayloadTooLarge
from biostresstest.core.settings import Settings
from biostresstest.model.areas import normalise_gemeente_code
from biostresstest.model.local_data import local_store
from biostresstest.model.local_data.recompute import recompute_queue
from biostresstest.sources.upload import (
    UploadLimits,
    commit_upload,
    prepare_from_address,
    prepare_upload,
)
from biostresstest.sources.upload.csvio import write_csv
from biostresstest.web.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    account_store,
    current_session,
    require_reader,
    require_writer,
)

router = APIRouter(tags=["admin"])
Recompute = Callable[[Settings, str], bool | None]
"""Recomputes one gemeente; ``False`` when there was nothing to do (see recompute.py)."""


class LoginBody(BaseModel):
    """Credentials of an admin."""

    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)


class ImportBody(BaseModel):
    """The mapping step: which upload, and how its columns and values map onto the model."""

    upload_id: str = Field(max_length=64)
    mapping: dict[str, str] | None = None
    values: dict[str, dict[str, str]] | None = None
    name: str | None = Field(default=None, max_length=64)


def _limits(request: Request) -> UploadLimits:
    limits: UploadLimits = getattr(request.app.state, "upload_limits", None) or UploadLimits()
    return limits


@router.post("/api/admin/login")
def login(body: LoginBody, request: Request, response: Response) -> dict[str, Any]:
    """Log in; the answer holds the bearer token and the CSRF token for cookie use."""
    client = request.client.host if request.client else ""
    session = account_store(request).login(body.email, body.password, client=client)
    secure = request.url.scheme == "https"
    max_age = int(session.expires - time.time())
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/api",
    )
    response.set_cookie(
        CSRF_COOKIE,
        session.csrf,
        max_age=max_age,
        httponly=False,
        samesite="strict",
        secure=secure,
        path="/",
    )
    return {
        "token": session.token,
        "csrf_token": session.csrf,
        "expires": session.expires,
        "email": session.account.email,
        "gemeente": session.account.gemeente,
    }


@router.post("/api/admin/logout")
def logout(request: Request, response: Response) -> dict[str, str]:
    """End the session."""
    session, _ = current_session(request)
    account_store(request).logout(session.token)
    response.delete_cookie(SESSION_COOKIE, path="/api")
    return {"status": "logged out"}


@router.post("/api/admin/{gemeente}/uploads", status_code=201)
async def upload(gemeente: str, request: Request) -> dict[str, Any]:
    """Receive a file (or an address) and answer its preview; nothing is imported yet."""
    session = await run_in_threadpool(require_writer, request, gemeente)  # a database read
    limits, settings = _limits(request), request.app.state.settings
    declared = request.headers.get("Content-Length")
    if declared is None or not declared.isdigit():
        raise InvalidInput(
            "an upload needs a Content-Length header", hint="send the file as multipart/form-data"
        )
    if int(declared) > limits.max_bytes + 64 * 1024:
        raise PayloadTooLarge(
            f"the upload has {int(declared):,} bytes; at most {limits.max_bytes:,} are accepted"
        )
    form = await request.form(max_files=1, max_fields=8, max_part_size=64 * 1024)
    try:
        kind = str(form.get("kind") or "")
        crs = str(form.get("crs") or "") or None
        repair = str(form.get("repair") or "").lower() in ("1", "true", "yes", "on")
        file, url = form.get("file"), str(form.get("url") or "")
        if not kind:
            raise InvalidInput("say which kind of data this is (form field 'kind')")
        who = session.account.email
        if isinstance(file, UploadFile):
            name = file.filename or ""
            tmp = await run_in_threadpool(_spool, file.file, settings, limits)
            return await run_in_threadpool(
                prepare_upload, settings, gemeente, tmp, name, kind, who, limits, crs, repair
            )
        if url:
            allow = getattr(request.app.state, "import_allow_hosts", ())
            return await run_in_threadpool(
                prepare_from_address, settings, gemeente, url, kind, who, limits, allow, crs, repair
            )
        raise InvalidInput("send a file (form field 'file') or an address (form field 'url')")
    finally:
        await form.close()


def _spool(source: IO[bytes], settings: Settings, limits: UploadLimits) -> Path:
    """Copy the received file (Starlette's spooled temporary file) into the data folder."""
    folder = settings.data_dir / "local" / ".uploads"
    folder.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix=".incoming-", delete=False)  # noqa: SIM115
    path, size = Path(handle.name), 0
    try:
        with handle:
            source.seek(0)
            while block := source.read(1 << 20):
                size += len(block)
                if size > limits.max_bytes:
                    raise PayloadTooLarge(f"the file is larger than {limits.max_bytes:,} bytes")
                handle.write(block)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


@router.post("/api/admin/{gemeente}/imports", status_code=201)
def import_upload(gemeente: str, body: ImportBody, request: Request) -> dict[str, Any]:
    """Import a previewed upload with its mapping; switched live in one step, then recomputed.

    ``recompute`` in the answer is ``started``, ``queued`` (after the running one) or null.
    """
    session = require_writer(request, gemeente)
    settings: Settings = request.app.state.settings
    record = commit_upload(
        settings,
        gemeente,
        body.upload_id,
        session.account.email,
        body.mapping,
        body.values,
        body.name,
        _limits(request),
    )
    recompute: Recompute | None = getattr(request.app.state, "recompute_after_import", None)
    state = None
    if recompute is not None:
        code = normalise_gemeente_code(gemeente)
        queue = recompute_queue(local_store(settings))
        state = queue.request(code, partial(recompute, settings, code), session.account.email)
    return {"dataset": record.public(), "recompute": state}


@router.get("/api/admin/{gemeente}/recompute")
def recompute_status(gemeente: str, request: Request) -> dict[str, Any]:
    """State of the gemeente's recompute (idle, running, running+queued) and its last outcome."""
    require_reader(request, gemeente)
    return recompute_queue(local_store(request.app.state.settings)).status(gemeente)


@router.get("/api/admin/{gemeente}/audit", response_model=None)
def audit(gemeente: str, request: Request, f: str = "json") -> Response | dict[str, Any]:
    """The audit log of the gemeente (admins of that gemeente only)."""
    require_reader(request, gemeente)
    entries = local_store(request.app.state.settings).audit(gemeente)
    if f == "csv":
        buffer = io.StringIO()
        header = ["at", "who", "action", "outcome", "dataset", "kind", "sha256", "message"]
        write_csv(buffer, header, ([str(e.get(h, "")) for h in header] for e in entries))
        return Response(
            buffer.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
    return {"gemeente": normalise_gemeente_code(gemeente), "entries": entries}


@router.get("/api/local/{gemeente}", tags=["api"])
def local_datasets(gemeente: str, request: Request) -> dict[str, Any]:
    """The live local datasets of a gemeente (public)."""
    store = local_store(request.app.state.settings)
    return {
        "gemeente": normalise_gemeente_code(gemeente),
        "datasets": [r.public() for r in store.datasets(gemeente)],
    }


def recompute_if_published(settings: Settings, gemeente: str) -> bool:
    """Re-run a published gemeente so its results include the new local data.

    False when the gemeente is not published; a failure raises (the recompute queue records it
    in the audit log, and the published state stays as it was).
    """
    from biostresstest.model.stores import open_store
    from biostresstest.pipeline.run import run_gemeente

    store = open_store(settings)
    if gemeente not in store.gemeenten():
        return False
    run_gemeente(gemeente, settings, store)
    return True
