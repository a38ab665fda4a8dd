"""Who is calling, and may they write this gemeente's data?

Two ways to authenticate: the session cookie set by ``POST /api/admin/login`` (HttpOnly,
SameSite=Strict, Secure on https), or the same token as ``Authorization: Bearer …``. A write
authenticated by the cookie must also carry the session's CSRF token in ``X-CSRF-Token``
(the login answer and the readable ``bst_csrf`` cookie hold it), and a cross-site ``Origin``
or ``Sec-Fetch-Site`` is refused; a bearer token is never sent by a browser on its own, so it
needs neither. An admin of one gemeente gets 403 for every other gemeente. Reading is public.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from fastapi import Request

from biostresstest.core.errors import AccessDenied, NotAuthenticated
from biostresstest.model.accounts import AccountStore, Session
from biostresstest.model.areas import normalise_gemeente_code

SESSION_COOKIE = "bst_session"
CSRF_COOKIE = "bst_csrf"
CSRF_HEADER = "X-CSRF-Token"


def account_store(request: Request) -> AccountStore:
    """The account store of the app (created on first use in the data folder)."""
    store = getattr(request.app.state, "accounts", None)
    if store is None:
        store = AccountStore(request.app.state.settings.data_dir / "accounts.sqlite")
        request.app.state.accounts = store
    return store


def current_session(request: Request) -> tuple[Session, bool]:
    """(session, came from the cookie); :class:`NotAuthenticated` without a valid one."""
    header = request.headers.get("Authorization", "")
    by_cookie = False
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
    else:
        token = request.cookies.get(SESSION_COOKIE, "")
        by_cookie = True
    session = account_store(request).session(token) if token else None
    if session is None:
        raise NotAuthenticated(
            "this needs an admin login",
            hint="log in with POST /api/admin/login, then send the cookie or "
            "'Authorization: Bearer <token>'",
        )
    return session, by_cookie


def require_writer(request: Request, gemeente: str) -> Session:
    """The session of an admin of ``gemeente`` allowed to write now (CSRF checked for cookies)."""
    session, by_cookie = current_session(request)
    if by_cookie:
        check_same_origin(request)
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent, session.csrf):
            raise AccessDenied(
                "the CSRF token is missing or wrong",
                hint=f"send the csrf_token of the login answer in the {CSRF_HEADER} header",
            )
    require_gemeente(session, gemeente)
    return session


def require_reader(request: Request, gemeente: str) -> Session:
    """The session of an admin of ``gemeente`` (for admin-only reads such as the audit log)."""
    session, _ = current_session(request)
    require_gemeente(session, gemeente)
    return session


def require_gemeente(session: Session, gemeente: str) -> None:
    """403 unless the session's account is an admin of ``gemeente``."""
    if normalise_gemeente_code(gemeente) != session.account.gemeente:
        raise AccessDenied(
            f"{session.account.email} is an admin of {session.account.gemeente}, "
            f"not of {normalise_gemeente_code(gemeente)}",
            hint="log in with an account of that gemeente",
        )


def check_same_origin(request: Request) -> None:
    """Refuse a request a browser marks as cross-site (``Origin`` / ``Sec-Fetch-Site``)."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        raise AccessDenied("cross-site requests may not change data")
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        host = request.headers.get("Host", "")
        if urlsplit(origin).netloc != host:
            raise AccessDenied(f"requests from {origin} may not change data")
    elif origin == "null":
        raise AccessDenied("requests from an opaque origin may not change data")
