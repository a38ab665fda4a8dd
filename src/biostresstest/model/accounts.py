"""Admin accounts per gemeente, their sessions and login throttling, in one SQLite file.

Passwords are hashed with argon2id (argon2-cffi defaults). Session tokens are random 256-bit
values; only their SHA-256 is stored, so a copy of the database gives no usable session. Each
session carries its own CSRF token for cookie-authenticated writes. There is no default account:
the first one is made on the command line (``biostresstest admin add-user``).

The database runs in WAL mode with ``synchronous=FULL`` (reliability D-06: this is not
re-derivable data).

Login throttling: every attempt is charged, before the password is checked, to the client (its
IP address; an IPv6 client by its /64) and, for an existing account, to that account, in one
``BEGIN IMMEDIATE`` transaction that also checks the limits — so parallel attempts cannot slip
past a limit. A right password refunds the charge. Made-up addresses cost the client, never a row
of their own: the throttle table holds at most one row per account and one per client seen in
the last window. At most :data:`MAX_CONCURRENT_VERIFICATIONS` argon2 checks run at once in a
process; an attempt that cannot get a slot within :data:`VERIFY_WAIT_S` gets 429 and is refunded.
(An account that is throttled answers 429 where a made-up one answers 401; finding that out
costs :data:`MAX_FAILURES` attempts of the client's :data:`MAX_CLIENT_FAILURES`.)
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import sqlite3
import threading
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
MAX_CLIENT_FAILURES = 30
"""Failed logins per client (IP address, IPv6 /64) within ``FAILURE_WINDOW_S``."""
FAILURE_WINDOW_S = 15 * 60
MAX_CONCURRENT_VERIFICATIONS = 2
"""argon2 checks running at once (each takes ~64 MiB and tens of ms of one core)."""
VERIFY_WAIT_S = 2.0
"""How long a login waits for a free verification slot before it gets 429."""
_VERIFICATIONS = threading.BoundedSemaphore(MAX_CONCURRENT_VERIFICATIONS)
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("not a password of anyone")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS account (
    email TEXT PRIMARY KEY, gemeente TEXT NOT NULL, password_hash TEXT NOT NULL,
    created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS session (
    token_sha256 TEXT PRIMARY KEY, email TEXT NOT NULL REFERENCES account(email),
    csrf TEXT NOT NULL, expires REAL NOT NULL);
DROP TABLE IF EXISTS login_failure;
CREATE TABLE IF NOT EXISTS login_throttle (
    key TEXT PRIMARY KEY, attempts INTEGER NOT NULL, since REAL NOT NULL);
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


def client_key(host: str) -> str:
    """The throttle key of a client: its IP address, an IPv6 address by its /64 network."""
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return host[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class AccountStore:
    """Accounts and sessions in ``<data_dir>/accounts.sqlite``."""

    def __init__(
        self,
        path: Path,
        max_failures: int = MAX_FAILURES,
        max_client_failures: int = MAX_CLIENT_FAILURES,
    ) -> None:
        self.path = Path(path)
        self.max_failures = max_failures
        self.max_client_failures = max_client_failures
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _immediate(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken at its start (no other writer between check and charge)."""
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA synchronous=FULL")
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

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

    def login(self, email: str, password: str, client: str | None = None) -> Session:
        """A new session for a right password; :class:`NotAuthenticated` otherwise.

        ``client`` is the caller's IP address (the web API passes it; the command line has
        none). :class:`TooManyAttempts` when the client or the account is throttled, or when
        no verification slot comes free in time.
        """
        email = email.strip().lower()
        row, keys = self._charge(email, client)
        if not _VERIFICATIONS.acquire(timeout=VERIFY_WAIT_S):
            self._refund(keys)
            raise TooManyAttempts(
                "the server is busy checking other logins",
                hint="try again in a few seconds",
            )
        try:
            stored = row[1] if row else _DUMMY_HASH  # same work for unknown accounts
            try:
                _HASHER.verify(stored, password)
                ok = row is not None
            except (VerificationError, InvalidHashError):
                ok = False
        finally:
            _VERIFICATIONS.release()
        if not ok or row is None:
            raise NotAuthenticated("wrong e-mail address or password")
        now = time.time()
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        account = Account(email, row[0])
        with self._db() as db:
            db.execute(
                "INSERT INTO session VALUES (?, ?, ?, ?)",
                (_digest(token), email, csrf, now + SESSION_SECONDS),
            )
            db.execute("DELETE FROM session WHERE expires < ?", (now,))
        self._refund(keys, forget=f"account:{email}")
        return Session(token, csrf, now + SESSION_SECONDS, account)

    def _charge(self, email: str, client: str | None) -> tuple[tuple[str, str] | None, list[str]]:
        """Check the limits and charge one attempt, atomically; (account row, keys charged)."""
        now = time.time()
        with self._immediate() as db:
            db.execute("DELETE FROM login_throttle WHERE since < ?", (now - FAILURE_WINDOW_S,))
            row = db.execute(
                "SELECT gemeente, password_hash FROM account WHERE email = ?", (email,)
            ).fetchone()
            limits = []
            if client is not None:
                key = f"client:{client_key(client)}"
                limits.append((key, self.max_client_failures, "address"))
            if row is not None:
                limits.append((f"account:{email}", self.max_failures, "account"))
            for key, limit, what in limits:
                found = db.execute(
                    "SELECT attempts FROM login_throttle WHERE key = ?", (key,)
                ).fetchone()
                if found is not None and found[0] >= limit:
                    raise TooManyAttempts(
                        f"too many failed logins from this {what}",
                        hint=f"wait {FAILURE_WINDOW_S // 60} minutes and try again",
                    )
            for key, _, _ in limits:
                db.execute(
                    "INSERT INTO login_throttle VALUES (?, 1, ?) "
                    "ON CONFLICT(key) DO UPDATE SET attempts = attempts + 1",
                    (key, now),
                )
        account = (str(row[0]), str(row[1])) if row else None
        return account, [key for key, _, _ in limits]

    def _refund(self, keys: list[str], forget: str = "") -> None:
        """Take back one charged attempt per key (``forget``: drop that key's count entirely)."""
        with self._immediate() as db:
            for key in keys:
                if key == forget:
                    db.execute("DELETE FROM login_throttle WHERE key = ?", (key,))
                else:
                    db.execute(
                        "UPDATE login_throttle SET attempts = max(attempts - 1, 0) WHERE key = ?",
                        (key,),
                    )

    def throttle_rows(self) -> int:
        """Rows in the throttle table (at most one per account and one per recent client)."""
        with self._db() as db:
            count: int = db.execute("SELECT count(*) FROM login_throttle").fetchone()[0]
            return count

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
