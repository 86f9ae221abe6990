"""With REDIS_URL set, several server processes act as one: real processes, real Redis."""

from __future__ import annotations

import re

import pytest
import requests
import socketio

from tests.live_server import LIVE_ADMIN
from tests.servers import prepare_database, running_server, server_env

pytestmark = pytest.mark.redis


@pytest.fixture
def env(tmp_path, redis_url):
    environment = server_env(f"sqlite:///{tmp_path / 'live.sqlite3'}", redis_url, LOGIN_RATE_LIMIT="3 per minute")
    prepare_database(environment)
    return environment


def _failed_login(base: str) -> int:
    browser = requests.Session()
    page = browser.get(base + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = browser.post(
        base + "/login", data={"csrf_token": token, "login": LIVE_ADMIN, "password": "sai"},
        timeout=10, allow_redirects=False,
    )
    return response.status_code


def test_sign_in_limit_is_shared_by_all_workers(env):
    with running_server(env) as first, running_server(env) as second:
        assert [_failed_login(first) for _ in range(3)] == [200, 200, 200]
        # The fourth try goes to the other process, which knows of the first three through Redis.
        assert _failed_login(second) == 429


def test_socketio_messages_from_another_process_reach_clients(env, redis_url):
    with running_server(env) as base, socketio.SimpleClient() as client:
        client.connect(base, transports=["websocket"])
        # What a second worker does when it emits: publish on the shared queue.
        other_worker = socketio.RedisManager(redis_url, channel="flask-socketio", write_only=True)
        other_worker.emit("announcement", {"text": "Đợt thi tuần 1 đã mở"}, namespace="/")
        event, data = client.receive(timeout=10)
    assert (event, data) == ("announcement", {"text": "Đợt thi tuần 1 đã mở"})
