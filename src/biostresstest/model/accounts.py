"""Admin accounts per gemeente, their sessions and login throttling, in one SQLite file.

Passwords are hashed with argon2id (argon2-cffi defaults). Session tokens are random 256-bit
values; only their SHA-256 is stored, so a copy of the database gives no usable session. Each
session carries its own CSRF token for cookie-authenticated writes. There is no default account:
the first one is made on the command line (``biostresstest admin add-user``).

The database runs in WAL mode with ``synchronous=FULL`` (reliability D-06: this is not
re-derivable data).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from biostresstest.core.errors import InvalidInput, NotAuthenticated, TooManyAttempts
from biostresstest.model.areas import normalise_gemeente_code

SESSION_SECONDS = 8 * 3600
MIN_PASSWORD_LENGTH = 12
MAX_FAILURES = 10
"""Failed logins per account within ``FAILURE_WINDOW_S`` before logins are refused a while."""
FAILURE_WINDOW_S = 15 * 60
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("not a password of anyone")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS account (
    email TEXT PRIMARY KEY, gemeente TEXT NOT NULL, password_hash TEXT NOT NULL,
    created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS session (
    token_sha256 TEXT PRIMARY KEY, email TEXT NOT NULL REFERENCES account(email),
    csrf TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS login_failure (email TEXT NOT NULL, at REAL NOT NULL);
"""


@dataclass(frozen=True)
class Account:
    """An admin of one gemeente."""

    email: str
    gemeente: str


@dataclass(frozen=True)
class Session:
    """A login: the bearer/cookie token (shown once), its CSRF token and expiry."""

    token: str
    csrf: str
    expires: float
    account: Account


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountStore:
    """Accounts and sessions in ``<data_dir>/accounts.sqlite``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            with db:
                yield db
        finally:
            db.close()

    def add_user(self, email: str, gemeente: str, password: str) -> Account:
        """Create (or reset the password of) an admin of ``gemeente``."""
        email = email.strip().lower()
        if "@" not in email or len(email) > 254:
            raise InvalidInput(f"{email!r} is not an e-mail address")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidInput(
                f"the password is shorter than {MIN_PASSWORD_LENGTH} characters",
                hint="choose a longer password (a passphrase of several words works well)",
            )
        code = normalise_gemeente_code(gemeente)
        with self._db() as db:
            db.execute(
                "INSERT INTO account VALUES (?, ?, ?, ?) ON CONFLICT(email) DO UPDATE SET "
                "gemeente = excluded.gemeente, password_hash = excluded.password_hash",
                (email, code, _HASHER.hash(password), time.time()),
            )
            db.execute("DELETE FROM session WHERE email = ?", (email,))
        return Account(email, code)

    def users(self) -> list[Account]:
        """All accounts."""
        with self._db() as db:
            rows = db.execute("SELECT email, gemeente FROM account ORDER BY gemeente, email")
            return [Account(*row) for row in rows.fetchall()]

    def login(self, email: str, password: str) -> Session:
        """A new session for a right password; :class:`NotAuthenticated` otherwise."""
        email = email.strip().lower()
        now = time.time()
        with self._db() as db:
            failures = db.execute(
                "SELECT count(*) FROM login_failure WHERE email = ? AND at > ?",
                (email, now - FAILURE_WINDOW_S),
            ).fetchone()[0]
            if failures >= MAX_FAILURES:
                raise TooManyAttempts(
                    "too many failed logins for this account",
                    hint=f"wait {FAILURE_WINDOW_S // 60} minutes and try again",
                )
            row = db.execute(
                "SELECT gemeente, password_hash FROM account WHERE email = ?", (email,)
            ).fetchone()
        stored = row[1] if row else _DUMMY_HASH  # same work for unknown accounts
        try:
            _HASHER.verify(stored, password)
            ok = row is not None
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok:
            with self._db() as db:
                db.execute("INSERT INTO login_failure VALUES (?, ?)", (email, now))
                db.execute("DELETE FROM login_failure WHERE at < ?", (now - FAILURE_WINDOW_S,))
            raise NotAuthenticated("wrong e-mail address or password")
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        account = Account(email, row[0])
        with self._db() as db:
            db.execute(
                "INSERT INTO session VALUES (?, ?, ?, ?)",
                (_digest(token), email, csrf, now + SESSION_SECONDS),
            )
            db.execute("DELETE FROM session WHERE expires < ?", (now,))
            db.execute("DELETE FROM login_failure WHERE email = ?", (email,))
        return Session(token, csrf, now + SESSION_SECONDS, account)

    def session(self, token: str) -> Session | None:
        """The live session of ``token``, or None (unknown or expired)."""
        with self._db() as db:
            row = db.execute(
                "SELECT s.csrf, s.expires, a.email, a.gemeente FROM session s "
                "JOIN account a ON a.email = s.email WHERE s.token_sha256 = ?",
                (_digest(token),),
            ).fetchone()
        if row is None or row[1] < time.time():
            return None
        return Session(token, row[0], row[1], Account(row[2], row[3]))

    def logout(self, token: str) -> None:
        """End a session."""
        with self._db() as db:
            db.execute("DELETE FROM session WHERE token_sha256 = ?", (_digest(token),))
