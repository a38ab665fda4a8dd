"""The one exception tree of biostresstest.

Every error a user can cause or meet carries a plain message (what was wrong) and a hint (what
to do). The HTTP status and the CLI exit code of each kind are class attributes here, so the web
app and the command line map errors in one place and the same way.
"""

from __future__ import annotations


class BiostresstestError(Exception):
    """Base of all errors raised on purpose by biostresstest."""

    http_status: int = 500
    exit_code: int = 1
    code: str = "error"

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  → {self.hint}" if self.hint else self.message

    def as_dict(self) -> dict[str, str]:
        """The error as a JSON-ready mapping (used by the web API)."""
        return {"error": self.code, "message": self.message, "hint": self.hint}


class InvalidInput(BiostresstestError):
    """A parameter given by the user is malformed or out of range."""

    http_status = 400
    exit_code = 2
    code = "invalid-input"


class UnknownArea(InvalidInput):
    """An area code (gemeente, wijk, buurt) that does not exist."""

    http_status = 404
    code = "unknown-area"


class NotLoaded(BiostresstestError):
    """The area exists but has no results in the store yet."""

    http_status = 404
    exit_code = 3
    code = "not-loaded"


class SourceError(BiostresstestError):
    """A data source could not be read."""

    http_status = 502
    exit_code = 4
    code = "source-error"


class SourceUnavailable(SourceError):
    """A source could not be fetched (offline, server down, not in the mirror)."""

    code = "source-unavailable"


class CorruptInput(SourceError):
    """A fetched or uploaded file cannot be parsed, or lacks what it must hold."""

    http_status = 422
    code = "corrupt-input"


class CRSMismatch(CorruptInput):
    """A layer is in a coordinate reference system other than the one required."""

    code = "crs-mismatch"


class StoreError(BiostresstestError):
    """The store could not be read or written."""

    exit_code = 5
    code = "store-error"


class PayloadTooLarge(InvalidInput):
    """An upload or a download exceeds the size, count or complexity we accept."""

    http_status = 413
    code = "payload-too-large"


class Conflict(InvalidInput):
    """The name is taken (a saved scenario …) and replacing it was not asked for or allowed."""

    http_status = 409
    code = "conflict"


class AccessDenied(BiostresstestError):
    """The caller may not do this (another gemeente's data, a missing CSRF token …)."""

    http_status = 403
    exit_code = 7
    code = "access-denied"


class NotAuthenticated(AccessDenied):
    """No valid login: a missing, wrong or expired session or token, or a wrong password."""

    http_status = 401
    code = "not-authenticated"


class TooManyAttempts(AccessDenied):
    """Too many failed logins in a short time; wait before trying again."""

    http_status = 429
    code = "too-many-attempts"


class Busy(BiostresstestError):
    """The server is already doing as much of this kind of work as it may at once."""

    http_status = 503
    exit_code = 9
    code = "busy"
