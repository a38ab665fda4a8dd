"""Admin accounts: argon2 passwords, sessions, CSRF, no writes across gemeenten, CLI."""

from __future__ import annotations

import sqlite3
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from biostresstest.cli import main
from biostresstest.core.errors import InvalidInput, NotAuthenticated, TooManyAttempts
from biostresstest.core.settings import Settings, get_settings
from biostresstest.model import accounts
from biostresstest.model.accounts import (
    MAX_CLIENT_FAILURES,
    MAX_FAILURES,
    AccountStore,
    client_key,
)
from biostresstest.model.local_data import local_store
from biostresstest.web.app import create_app

PASSWORD = "correct horse battery staple"
X, Y = 182_500.0, 579_500.0
CSV = f"soort;aantal;x;y\nErinaceus europaeus;2;{X};{Y}\n".encode()


def _app(settings: Settings) -> TestClient:
    app = create_app(settings)
    app.state.recompute_after_import = None
    accounts = AccountStore(settings.data_dir / "accounts.sqlite")
    accounts.add_user("a@leeuwarden.example", "GM0080", PASSWORD)
    accounts.add_user("b@breda.example", "GM0758", PASSWORD)
    app.state.accounts = accounts
    return TestClient(app, base_url="http://testserver")


def _login(client: TestClient, email: str) -> dict[str, str]:
    answer = client.post("/api/admin/login", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _upload(client: TestClient, gemeente: str, **headers: str) -> object:
    return client.post(
        f"/api/admin/{gemeente}/uploads",
        data={"kind": "species"},
        files={"file": ("w.csv", CSV, "text/csv")},
        headers=headers,
    )


def test_passwords_are_argon2_hashed_and_checked(settings: Settings) -> None:
    store = AccountStore(settings.data_dir / "accounts.sqlite", max_failures=3)
    with pytest.raises(InvalidInput, match="shorter"):
        store.add_user("x@example.nl", "GM0080", "short")
    store.add_user("x@example.nl", "GM0080", PASSWORD)
    with sqlite3.connect(settings.data_dir / "accounts.sqlite") as db:
        (stored,) = db.execute("SELECT password_hash FROM account").fetchone()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    session = store.login("X@example.nl", PASSWORD)
    assert store.session(session.token) is not None
    with sqlite3.connect(settings.data_dir / "accounts.sqlite") as db:
        tokens = [row[0] for row in db.execute("SELECT token_sha256 FROM session")]
    assert session.token not in tokens  # only the hash is kept
    with pytest.raises(NotAuthenticated):
        store.login("x@example.nl", "wrong password!!")
    with pytest.raises(NotAuthenticated):
        store.login("nobody@example.nl", PASSWORD)
    for _ in range(3 - 1):  # one failure above already counts
        with pytest.raises(NotAuthenticated):
            store.login("x@example.nl", "wrong password!!")
    with pytest.raises(TooManyAttempts):
        store.login("x@example.nl", PASSWORD)


def test_reading_is_public_writing_needs_a_login(settings: Settings) -> None:
    client = _app(settings)
    assert client.get("/api/local/GM0080").status_code == 200
    answer = _upload(client, "GM0080")
    assert answer.status_code == 401  # type: ignore[attr-defined]
    assert client.get("/api/admin/GM0080/audit").status_code == 401
    wrong = client.post(
        "/api/admin/login", json={"email": "a@leeuwarden.example", "password": "not the password"}
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "not-authenticated"


def test_an_admin_cannot_change_another_gemeentes_data(settings: Settings) -> None:
    client = _app(settings)
    leeuwarden = {"Authorization": f"Bearer {_login(client, 'a@leeuwarden.example')['token']}"}
    client.cookies.clear()
    done = _upload(client, "GM0080", **leeuwarden)
    assert done.status_code == 201, done.text  # type: ignore[attr-defined]
    upload_id = done.json()["upload_id"]  # type: ignore[attr-defined]
    breda = {"Authorization": f"Bearer {_login(client, 'b@breda.example')['token']}"}
    client.cookies.clear()
    before = local_store(settings).datasets("GM0080")
    assert _upload(client, "GM0080", **breda).status_code == 403  # type: ignore[attr-defined]
    cross = client.post("/api/admin/GM0080/imports", json={"upload_id": upload_id}, headers=breda)
    assert cross.status_code == 403 and cross.json()["error"] == "access-denied"
    assert client.get("/api/admin/GM0080/audit", headers=breda).status_code == 403
    # Breda's own route with Leeuwarden's upload id finds nothing either
    own = client.post("/api/admin/GM0758/imports", json={"upload_id": upload_id}, headers=breda)
    assert own.status_code == 404
    assert local_store(settings).datasets("GM0080") == before == []
    ok = client.post("/api/admin/GM0080/imports", json={"upload_id": upload_id}, headers=leeuwarden)
    assert ok.status_code == 201, ok.text


def test_cookie_writes_need_the_csrf_token(settings: Settings) -> None:
    client = _app(settings)
    login = client.post(
        "/api/admin/login", json={"email": "a@leeuwarden.example", "password": PASSWORD}
    )
    cookies = login.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("bst_session="))
    assert "HttpOnly" in session_cookie and "SameSite=strict" in session_cookie
    assert "Secure" not in session_cookie  # plain http in the test; Secure on https
    csrf = login.json()["csrf_token"]
    missing = _upload(client, "GM0080")
    assert missing.status_code == 403  # type: ignore[attr-defined]
    assert "CSRF" in missing.json()["message"]  # type: ignore[attr-defined]
    assert _upload(client, "GM0080", **{"X-CSRF-Token": "forged"}).status_code == 403  # type: ignore[attr-defined]
    cross_site = _upload(
        client, "GM0080", **{"X-CSRF-Token": csrf, "Origin": "https://evil.example"}
    )
    assert cross_site.status_code == 403  # type: ignore[attr-defined]
    assert local_store(settings).datasets("GM0080") == []
    ok = _upload(client, "GM0080", **{"X-CSRF-Token": csrf, "Origin": "http://testserver"})
    assert ok.status_code == 201, ok.text  # type: ignore[attr-defined]


def test_cli_adds_an_admin_and_imports_local_data(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BIOSTRESSTEST_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BIOSTRESSTEST_MIRROR", str(settings.mirror))
    monkeypatch.setenv("BIOSTRESSTEST_ADMIN_PASSWORD", PASSWORD)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        added = runner.invoke(
            main, ["admin", "add-user", "--gemeente", "GM0080", "--email", "c@leeuwarden.example"]
        )
        assert added.exit_code == 0, added.output
        store = AccountStore(settings.data_dir / "accounts.sqlite")
        assert store.login("c@leeuwarden.example", PASSWORD).account.gemeente == "GM0080"
        csv = tmp_path / "w.csv"
        csv.write_bytes(CSV)
        done = runner.invoke(
            main,
            [
                "local",
                "import",
                "--gemeente",
                "GM0080",
                "--kind",
                "species",
                "--map",
                "species=soort",
                str(csv),
            ],
        )
        assert done.exit_code == 0, done.output
        bad = runner.invoke(
            main, ["local", "import", "--gemeente", "GM0080", "--kind", "verges", str(csv)]
        )
        assert bad.exit_code != 0 and "error:" in bad.output
        listed = runner.invoke(main, ["local", "list", "--gemeente", "GM0080"])
        assert listed.output.startswith("species  species  1  ")
    finally:
        get_settings.cache_clear()


def _attempt(store: AccountStore, email: str, password: str, client: str | None) -> str:
    try:
        store.login(email, password, client=client)
    except TooManyAttempts:
        return "429"
    except NotAuthenticated:
        return "401"
    return "200"


def test_parallel_wrong_passwords_cannot_pass_the_account_limit(settings: Settings) -> None:
    store = AccountStore(settings.data_dir / "accounts.sqlite", max_failures=3)
    store.add_user("x@example.nl", "GM0080", PASSWORD)
    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(
            pool.map(lambda _: _attempt(store, "x@example.nl", "wrong password!!", None), range(12))
        )
    # check and charge are one transaction: exactly max_failures passwords were tried
    assert Counter(outcomes) == {"401": 3, "429": 12 - 3}
    assert _attempt(store, "x@example.nl", PASSWORD, None) == "429"


def test_made_up_addresses_cost_the_client_and_leave_no_rows(settings: Settings) -> None:
    assert (MAX_FAILURES, MAX_CLIENT_FAILURES) == (10, 30)  # the defaults; smaller ones here
    limit = 4
    store = AccountStore(settings.data_dir / "accounts.sqlite", max_client_failures=limit)
    store.add_user("x@example.nl", "GM0080", PASSWORD)
    assert _attempt(store, "x@example.nl", PASSWORD, "203.0.113.9") == "200"
    outcomes = [
        _attempt(store, f"nobody{i}@example.nl", PASSWORD, "203.0.113.9") for i in range(limit + 3)
    ]
    assert outcomes == ["401"] * limit + ["429"] * 3
    assert store.throttle_rows() == 1  # the client's row; none per made-up address
    # the throttle stands in front of login: the right password of this client waits too
    assert _attempt(store, "x@example.nl", PASSWORD, "203.0.113.9") == "429"
    assert _attempt(store, "x@example.nl", PASSWORD, "198.51.100.4") == "200"
    # IPv6 clients are counted by their /64: a fresh address in the same network is no escape
    for i in range(limit):
        _attempt(store, "y@example.nl", "wrong", f"2001:db8:1:2::{i:x}")
    assert _attempt(store, "x@example.nl", PASSWORD, "2001:db8:1:2:ffff::1") == "429"
    assert _attempt(store, "x@example.nl", PASSWORD, "2001:db8:1:3::1") == "200"
    assert client_key("::ffff:203.0.113.9") == "203.0.113.9"


def test_argon2_checks_are_capped(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    store = AccountStore(settings.data_dir / "accounts.sqlite", max_failures=3)
    store.add_user("x@example.nl", "GM0080", PASSWORD)
    monkeypatch.setattr(accounts, "VERIFY_WAIT_S", 0.3)
    taken = 0
    while accounts._VERIFICATIONS.acquire(blocking=False):  # busy with other logins
        taken += 1
    try:
        assert taken == accounts.MAX_CONCURRENT_VERIFICATIONS
        with pytest.raises(TooManyAttempts, match="busy"):
            store.login("x@example.nl", PASSWORD, client="203.0.113.9")
    finally:
        for _ in range(taken):
            accounts._VERIFICATIONS.release()
    # the refused attempt was refunded: a full allowance remains
    outcomes = [_attempt(store, "x@example.nl", "wrong", "203.0.113.9") for _ in range(3)]
    assert outcomes == ["401"] * 3
    assert _attempt(store, "x@example.nl", PASSWORD, "203.0.113.9") == "429"


def test_login_over_http_is_throttled_per_client(settings: Settings) -> None:
    client = _app(settings)
    client.app.state.accounts.max_client_failures = 3  # type: ignore[attr-defined]
    other = TestClient(client.app, client=("198.51.100.4", 50000))
    for i in range(3):
        wrong = {"email": f"nobody{i}@example.nl", "password": PASSWORD}
        assert client.post("/api/admin/login", json=wrong).status_code == 401
    right = {"email": "a@leeuwarden.example", "password": PASSWORD}
    refused = client.post("/api/admin/login", json=right)
    assert refused.status_code == 429 and refused.json()["error"] == "too-many-attempts"
    assert other.post("/api/admin/login", json=right).status_code == 200
