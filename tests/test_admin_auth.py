"""Admin accounts: argon2 passwords, sessions, CSRF, no writes across gemeenten, CLI."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from biostresstest.cli import main
from biostresstest.core.errors import InvalidInput, NotAuthenticated, TooManyAttempts
from biostresstest.core.settings import Settings, get_settings
from biostresstest.model.accounts import MAX_FAILURES, AccountStore
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
    store = AccountStore(settings.data_dir / "accounts.sqlite")
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
    for _ in range(MAX_FAILURES - 1):  # one failure above already counts
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
