"""A live contest across two real server processes sharing Redis: the host on one, a player on
the other. The game state is in Redis, and every message crosses the Socket.IO message queue."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import requests
import socketio

from core.demo import DEMO_PASSWORD
from tests.servers import ROOT, prepare_database, running_server, server_env

pytestmark = pytest.mark.redis
NS = "/live"


def _signed_in_cookie(base: str, login: str) -> str:
    http = requests.Session()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', http.get(f"{base}/login").text)[1]
    response = http.post(f"{base}/login", data={"csrf_token": token, "login": login, "password": DEMO_PASSWORD},
                         allow_redirects=False)
    assert response.status_code == 302, response.text[:300]
    return f"session={http.cookies['session']}"


def _until(client: socketio.SimpleClient, wanted: str) -> dict:
    while True:
        event, data = client.receive(timeout=10)
        if event == wanted:
            return data


def test_a_contest_hosted_on_one_process_is_played_on_another(tmp_path, redis_url):
    env = server_env(f"sqlite:///{tmp_path / 'live.sqlite3'}", redis_url)
    prepare_database(env, demo=True)
    done = subprocess.run([sys.executable, "-m", "tests.competitions.live_prepare", "--launch"], env=env, cwd=ROOT,
                          check=True, timeout=120, capture_output=True, text=True)
    contest_id, pin = done.stdout.split()
    with running_server(env) as first, running_server(env) as second, \
            socketio.SimpleClient() as host, socketio.SimpleClient() as player:
        host.connect(first, namespace=NS, transports=["websocket"],
                     headers={"Cookie": _signed_in_cookie(first, "tinhdoan")})
        assert host.call("host", {"contest_id": int(contest_id)}, timeout=10)["ok"]
        player.connect(second, namespace=NS, transports=["websocket"])
        team_id = None
        joined = player.call("join", {"pin": pin, "nickname": "Khách Liên Tỉnh", "team_id": team_id}, timeout=10)
        if not joined["ok"] and joined["field"] == "team_id":  # a team contest: a guest picks one
            teams = requests.get(f"{second}/live/join", params={"pin": pin}, timeout=10).text
            team_id = int(re.search(r'<option value="(\d+)"', teams)[1])
            joined = player.call("join", {"pin": pin, "nickname": "Khách Liên Tỉnh", "team_id": team_id}, timeout=10)
        assert joined["ok"], joined
        assert _until(host, "player_joined")["players"] == 1  # from the other process, through Redis

        assert host.call("start", {}, timeout=10)["ok"]
        question = _until(player, "question")
        assert question["index"] == 0 and len(question["choices"]) == 4
        answered = player.call("answer", {"index": 0, "choice": 0}, timeout=10)
        assert answered["ok"] and answered["last"]  # the only player: the reveal comes at once
        reveal = _until(player, "reveal")
        board = _until(player, "leaderboard")
        result = _until(player, "result")
        assert _until(host, "reveal")["correct"] == reveal["correct"]
    assert result["correct"] == (0 in reveal["correct"]) and result["rank"] == 1
    assert board["top"][0]["nickname"] == "Khách Liên Tỉnh" and board["top"][0]["score"] == result["score"]
