"""Errors → HTTP answers, in one place: the status comes from the exception tree."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from biostresstest.core.errors import BiostresstestError


def install_error_handlers(app: FastAPI) -> None:
    """Answer every known error as JSON ``{error, message, hint}`` with its own status."""

    @app.exception_handler(BiostresstestError)
    async def _known(_request: Request, exc: BiostresstestError) -> JSONResponse:
        return JSONResponse(exc.as_dict(), status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'][1:]) or err['loc'][0]}: {err['msg']}"
            for err in exc.errors()
        )
        body = {"error": "invalid-input", "message": problems, "hint": "see /docs for the API"}
        return JSONResponse(body, status_code=400)
