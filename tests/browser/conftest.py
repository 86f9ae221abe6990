"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium) against a real server
process with the demo province loaded. Playwright never downloads a browser of its own here."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.servers import prepare_database, running_server, server_env

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    # The machine's network is closed: no background fetches, no sandbox as root, no GPU.
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not os.path.exists(CHROMIUM):
        message = f"Debian's Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def live_db(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Path:
    """The demo database behind the live server, for reading what a test needs (a phone number)."""
    return tmp_path_factory.mktemp("browser") / "live.sqlite3"


@pytest.fixture(scope="session")
def live_url(live_db: Path) -> Iterator[str]:
    # Every browser test signs in from 127.0.0.1: the per-address sign-in limit would refuse the
    # later ones within the same minute (the limit itself is tested in tests/core).
    env = server_env(f"sqlite:///{live_db}", LOGIN_RATE_LIMIT="200 per minute")
    prepare_database(env, demo=True)
    with running_server(env) as base:
        yield base


@pytest.fixture
def query(live_db: Path, live_url: str):  # noqa: ANN201 - returns a helper
    """``query(sql, *args)`` reads the live server's database with plain sqlite3 (no second app)."""

    def run(sql: str, *args: object) -> list[tuple]:
        with sqlite3.connect(live_db) as conn:
            return conn.execute(sql, args).fetchall()

    return run


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: object, live_url: str) -> Iterator[object]:
    """A fresh phone-sized page (360 px wide, as on a cheap Android phone) per test."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN", base_url=live_url)
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()
