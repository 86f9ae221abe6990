"""More callers needing Redis at once than a process may open connections: they wait their turn
instead of failing with "Too many connections" (the real Redis server)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask

from core.redis_client import redis_client

pytestmark = pytest.mark.redis


def test_callers_beyond_the_pool_wait_for_a_connection(app: Flask, redis_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    monkeypatch.setitem(app.config, "REDIS_MAX_CONNECTIONS", 3)
    monkeypatch.setitem(app.extensions, "thidua.redis", {})
    client = redis_client()
    assert client is not None

    def hold() -> object:
        return client.blpop(["nothing-ever-comes"], timeout=0.2)  # keeps its connection 0.2 s

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(lambda _n: hold(), range(12)))
    assert outcomes == [None] * 12  # every caller was served, none refused
    # three at a time: four turns of 0.2 s (twelve connections at once would take one)
    assert time.monotonic() - began >= 0.75
