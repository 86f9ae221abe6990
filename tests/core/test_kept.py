"""Values a process keeps a few seconds: read again once stale, never kept when unknown, and read
by one caller at a time when many ask at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask

from core.kept import kept


@pytest.fixture
def app() -> Iterator[Flask]:
    app = Flask(__name__)
    with app.app_context():
        yield app


def _asked_at_once(app: Flask, callers: int, ask) -> list[object]:
    answers: list[object] = []
    start = threading.Barrier(callers)

    def caller() -> None:
        with app.app_context():
            start.wait()
            answers.append(ask())

    threads = [threading.Thread(target=caller) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return answers


def test_callers_arriving_during_a_read_wait_for_it_instead_of_reading_again(app):
    reads = []

    def read() -> str:
        reads.append(1)
        time.sleep(0.2)  # a database read under load
        return "Tuần 1 – Chuyển đổi số"

    answers = _asked_at_once(app, 8, lambda: kept("space", "round:1", 60, read))
    assert answers == ["Tuần 1 – Chuyển đổi số"] * 8
    assert len(reads) == 1


def test_different_keys_are_read_side_by_side(app):
    def read(n: int) -> int:
        time.sleep(0.3)
        return n

    began = time.monotonic()
    answers = _asked_at_once(app, 4, lambda: kept("space", threading.get_ident(), 60, lambda: read(1)))
    assert answers == [1] * 4 and time.monotonic() - began < 1.0  # not 4 x 0.3 s one after another


def test_a_stale_value_is_read_again_and_none_or_no_delay_keeps_nothing(app):
    values = iter(["a", "b", None, "c", "d", "e"])
    assert kept("space", "k", 0.05, lambda: next(values)) == "a"
    assert kept("space", "k", 0.05, lambda: next(values)) == "a"
    time.sleep(0.06)
    assert kept("space", "k", 0.05, lambda: next(values)) == "b"
    assert kept("space", "unknown", 60, lambda: next(values)) is None
    assert kept("space", "unknown", 60, lambda: next(values)) == "c"  # None was not kept
    assert kept("space", "off", 0, lambda: next(values)) == "d"
    assert kept("space", "off", 0, lambda: next(values)) == "e"


def test_a_failed_read_lets_the_next_caller_read(app):
    def fails() -> str:
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        kept("space", "k", 60, fails)
    assert kept("space", "k", 60, lambda: "back") == "back"
