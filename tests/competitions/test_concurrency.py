"""Truly concurrent starts against a real server on PostgreSQL: one attempt, whatever the races.

Eight threads fire the same start request with the same session cookie at once (a double tap,
two tabs, two phones): every answer names the same attempt and the database holds exactly one.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.competitions import play_live
from tests.conftest import IN_CI, PG_UNAVAILABLE, PG_URL
from tests.servers import ROOT, running_server, server_env

DATABASE = "test_live_play"
REQUESTS = 8


def _admin_engine() -> sa.Engine:
    return sa.create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")


@pytest.fixture
def live_database() -> Iterator[str]:
    """A PostgreSQL database of this test's own, dropped afterwards."""
    if PG_UNAVAILABLE:
        if IN_CI:
            pytest.fail(PG_UNAVAILABLE)
        pytest.skip(PG_UNAVAILABLE)
    engine = _admin_engine()
    with engine.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {DATABASE}"))
    try:
        yield make_url(PG_URL).set(database=DATABASE).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        engine.dispose()


def test_simultaneous_starts_make_one_attempt(live_database: str):
    env = server_env(live_database)
    prepared = subprocess.run(
        [sys.executable, "-m", "tests.competitions.play_live"], env=env, cwd=ROOT,
        check=True, timeout=120, capture_output=True, text=True,
    )
    round_id = int(prepared.stdout.split()[-1])
    with running_server(env) as base:
        http = play_live.sign_in(base)
        token = play_live.api_token(http, base, round_id)
        cookies = http.cookies.get_dict()
        barrier = threading.Barrier(REQUESTS)
        answers: list[requests.Response] = []

        def start() -> None:
            # A session of its own per thread (requests.Session is not thread-safe), same cookie.
            with requests.Session() as mine:
                mine.cookies.update(cookies)
                barrier.wait()
                answers.append(mine.post(
                    f"{base}/api/rounds/{round_id}/attempts", json={}, headers={"X-CSRFToken": token}, timeout=30,
                ))

        threads = [threading.Thread(target=start) for _ in range(REQUESTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert [r.status_code for r in answers] == [200] * REQUESTS, [r.text[:200] for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    engine = sa.create_engine(live_database)
    with engine.connect() as conn:
        attempts = conn.execute(sa.text("SELECT count(*) FROM attempts WHERE context = :c"), {"c": f"round:{round_id}"})
        entries = conn.execute(sa.text("SELECT count(*) FROM round_entries WHERE round_id = :r"), {"r": round_id})
        assert (attempts.scalar(), entries.scalar()) == (1, 1)
    engine.dispose()
