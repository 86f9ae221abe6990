"""Two real server processes sharing Redis: a result submitted through one moves the board a
client watches on the other. The watched process runs no broadcaster of its own, so the update
can only come from the first one, through the Socket.IO message queue."""

from __future__ import annotations

import subprocess
import sys

import pytest
import socketio

from tests.competitions import play_live
from tests.servers import ROOT, running_server, server_env

pytestmark = pytest.mark.redis


def test_a_result_submitted_on_one_process_moves_the_board_watched_on_another(tmp_path, redis_url):
    env = server_env(f"sqlite:///{tmp_path / 'live.sqlite3'}", redis_url, BOARD_UPDATE_INTERVAL_MS="200")
    prepared = subprocess.run(
        [sys.executable, "-m", "tests.competitions.play_live"], env=env, cwd=ROOT,
        check=True, timeout=120, capture_output=True, text=True,
    )
    round_id = int(prepared.stdout.split()[-1])
    board = f"round:{round_id}:people"
    quiet = {**env, "BOARD_BROADCASTER": "0"}
    with running_server(env) as first, running_server(quiet) as second, socketio.SimpleClient() as watcher:
        watcher.connect(second, namespace="/boards", transports=["websocket"])
        watcher.emit("subscribe", {"board": board})
        event, snapshot = watcher.receive(timeout=10)
        assert (event, snapshot["board"], snapshot["size"]) == ("snapshot", board, 0)

        http = play_live.sign_in(first)
        headers = {"X-CSRFToken": play_live.api_token(http, first, round_id)}
        attempt = http.post(f"{first}/api/rounds/{round_id}/attempts", json={}, headers=headers).json()
        for seq, item in enumerate(attempt["items"], start=1):
            saved = http.post(f"{first}/api/attempts/{attempt['id']}/answers",
                              json={"item_id": item["id"], "choices": [0], "seq": seq}, headers=headers)
            assert saved.status_code == 200, saved.text
        result = http.post(f"{first}/api/attempts/{attempt['id']}/submit", headers=headers).json()

        event, update = watcher.receive(timeout=10)
    assert (event, update["board"], update["size"]) == ("update", board, 1)
    row = update["top"][0]
    shown = f"{result['score']}/{result['max_score']}"
    assert (row["rank"], row["label"], row["value"]) == (1, "Nguyễn Văn Thử", shown)
    assert update["stored_at"] <= update["sent_at"]
