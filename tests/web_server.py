"""Fixtures of the browser tests: the web app on the session store, and its map page in Debian's
chromium driven by Playwright.

``server`` serves Breda and the Otterlo square (both computed once per session), so what a test
sees does not depend on which other tests ran before it. ``page`` is the map page of that server,
loaded and ready. A test module that wants another window size defines its own ``page`` with
``open_map``; one that needs another app defines its own ``server`` with ``serve``.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Page, ViewportSize, sync_playwright

from biostresstest.core.settings import Settings
from biostresstest.model.embedded import EmbeddedStore
from biostresstest.pipeline.run import RunSummary
from biostresstest.web.app import check_frontend, create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
"""No sandbox (containers), and nothing the browser would fetch on its own."""
VIEWPORT: ViewportSize = {"width": 1280, "height": 860}


@contextmanager
def serve(app: FastAPI, start_seconds: float = 30.0) -> Iterator[str]:
    """Run ``app`` with uvicorn on a free local port in a thread; yield its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_seconds
    while not instance.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=10)


@contextmanager
def open_map(url: str, viewport: ViewportSize = VIEWPORT) -> Iterator[Page]:
    """The map page at ``url`` in chromium, once ``window.bst.ready``.

    A JavaScript error on the page fails the load, and the teardown if it comes later.
    """
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: scripts/install-system-deps.sh"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=viewport)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url + "/")
        page.wait_for_function("window.bst && window.bst.ready === true", timeout=60_000)
        assert not errors, errors
        yield page
        assert not errors, errors
        browser.close()


def settle(page: Page, pause_ms: int = 150) -> None:
    """Wait until the map has loaded its style and the tiles of the current view."""
    page.wait_for_timeout(pause_ms)
    page.wait_for_function(
        "window.bst.map.loaded() && window.bst.map.areTilesLoaded()", timeout=30_000
    )


@pytest.fixture(scope="module")
def server(
    breda: tuple[Settings, RunSummary],
    otterlo: tuple[Settings, RunSummary],
    breda_store: EmbeddedStore,
) -> Iterator[str]:
    """The web app on the session store (Breda and Otterlo), served for one test module."""
    check_frontend()
    settings, _ = breda
    with serve(create_app(settings, breda_store)) as url:
        yield url


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[Page]:
    """The map page of ``server`` at 1280 x 860, shared by the tests of one module."""
    with open_map(server) as page:
        yield page
