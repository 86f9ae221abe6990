"""A board the store does not hold is computed once per process however many ask for it at once
(thousands of phones subscribing when a projector shows its QR code), in both stores."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask

from leaderboard import service
from leaderboard.sources import BoardInfo, BoardSource, Detail, register_source
from leaderboard.store import Entry, rank_store
from tests.conftest import make_config


class SlowSource(BoardSource):
    def __init__(self) -> None:
        self.computed = 0

    def info(self, board: str) -> BoardInfo | None:
        return BoardInfo(board, "Cá nhân", "Tuần 1", ("Người thi", "Điểm", "Thời gian"), public=True)

    def may_watch(self, board, user):
        return True

    def compute(self, board: str):
        self.computed += 1
        time.sleep(0.2)  # a whole round's results from the database
        return [(Entry(f"p{n}", n), Detail(f"Người {n}")) for n in range(1, 51)]

    def refresh(self, group, members):
        return []

    def member_of(self, board, user):
        return None

    def names(self):
        return ["slow:1"]


@pytest.fixture(params=["memory", "redis"])
def app(request: pytest.FixtureRequest) -> Iterator[Flask]:
    app = Flask(__name__)
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    app.config.from_object(make_config("sqlite://", REDIS_URL=redis_url))
    with app.app_context():
        yield app


def test_many_callers_at_once_compute_a_missing_board_once(app):
    source = SlowSource()
    register_source(app, "slow", source)
    start = threading.Barrier(10)
    built: list[bool] = []

    def subscriber() -> None:
        with app.app_context():
            start.wait()
            built.append(service.ensure_built("slow:1"))

    threads = [threading.Thread(target=subscriber) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert source.computed == 1
    assert sorted(built) == [False] * 9 + [True]
    assert [row.member for row in rank_store().top("slow:1", 3)] == ["p50", "p49", "p48"]
