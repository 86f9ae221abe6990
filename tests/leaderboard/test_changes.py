"""Pending board changes shared through Redis by several server processes: each change is taken by
one process only, and a group of boards at most once per interval by all of them together."""

from __future__ import annotations

import time

import pytest
from flask import Flask

from leaderboard import changes

pytestmark = pytest.mark.redis


@pytest.fixture
def shared(app: Flask, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    monkeypatch.setitem(app.config, "BOARD_UPDATE_INTERVAL_MS", 300)
    return app


def _taken() -> dict[str, set[str]]:
    return {pending.group: set(pending.members) for pending in changes.take()}


def test_a_group_is_taken_once_per_interval_whichever_process_ticks(shared):
    changes.notify("round:1", ["7"])
    assert _taken() == {"round:1": {"7"}}
    changes.notify("round:1", ["8"])
    changes.notify("round:2", ["9"])
    # Another process ticking 100 ms later: round 1 went out just now and waits; round 2 goes.
    time.sleep(0.1)
    assert _taken() == {"round:2": {"9"}}
    changes.notify("round:1", ["10"])
    time.sleep(0.25)  # the interval (less its tenth of tolerance) has passed since round 1 was taken
    assert _taken() == {"round:1": {"8", "10"}}  # nothing left behind or taken twice
    assert _taken() == {}


def test_the_oldest_waiting_change_keeps_its_time(shared):
    changes.notify("round:1", ["7"])
    _taken()
    changes.notify("round:1", ["8"])
    first = changes.now_ms()
    time.sleep(0.05)
    changes.notify("round:1", ["9"])
    assert _taken() == {}
    time.sleep(0.3)
    (pending,) = changes.take()
    assert abs(pending.since_ms - first) < 30  # the update's delay counts from the first of them
