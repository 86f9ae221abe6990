"""The coalescing broadcaster: once per interval, pending results become at most one update per board.

Each process that serves Socket.IO runs ``run`` in a background task. ``changes.take`` gives each
pending change to exactly one process; that process refreshes the boards from the database (through
their source) and emits one update per changed board to the board's room. With ``REDIS_URL`` the
Socket.IO message queue carries the update to the clients of every process.
The update is encoded once per room (python-socketio encodes an emit once and sends the same packet
to every participant), and core.realtime yields to other tasks every few hundred sends.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from flask import Flask, current_app

from core.extensions import db, socketio
from core.redis_client import redis_client
from leaderboard import changes, service
from leaderboard.sources import source_for

NAMESPACE = "/boards"


def room(board: str) -> str:
    return f"board:{board}"


@dataclass(frozen=True)
class Update:
    board: str
    payload: dict[str, object]


def _changed_since_last(board: str, payload: dict[str, object]) -> bool:
    """Whether the update differs from the last one sent for the board (a refresh that moved
    nothing visible sends nothing)."""
    digest = hashlib.blake2b(json.dumps([payload["size"], payload["top"]]).encode(), digest_size=12).hexdigest()
    client = redis_client()
    if client is None:
        sent = current_app.extensions.setdefault("thidua.board_sent", {})
        previous, sent[board] = sent.get(board), digest
    else:
        previous = client.set(f"thidua:lb:{board}:sent", digest, get=True, ex=86400)
    return previous != digest


def tick() -> list[Update]:
    """Apply the pending changes and emit the updates (inside an app context)."""
    updates = []
    top = current_app.config["BOARD_TOP_N"]
    for pending in changes.take():
        source = source_for(pending.group)
        if source is None:
            continue
        boards = source.refresh(pending.group, pending.members)
        db.session.commit()  # the refresh only reads; end its transaction before the sends
        for board in boards:
            payload = {**service.view(board, top).as_dict(), "stored_at": pending.since_ms}
            if _changed_since_last(board, payload):
                payload["sent_at"] = changes.now_ms()
                socketio.emit("update", payload, to=room(board), namespace=NAMESPACE)
                updates.append(Update(board, payload))
    return updates


def run(app: Flask) -> None:
    """The background task: a tick per interval, for as long as the process serves."""
    interval = app.config["BOARD_UPDATE_INTERVAL_MS"] / 1000
    next_at = time.monotonic()
    while True:
        # A fixed rate: the tick's own time (a refresh, sends to thousands) is not added to the wait.
        next_at = max(next_at + interval, time.monotonic())
        socketio.sleep(max(0.0, next_at - time.monotonic()))
        with app.app_context():
            try:
                tick()
            except Exception:  # noqa: BLE001 - one bad tick must not stop the boards of the whole process
                app.logger.exception("board broadcast tick failed")
                db.session.rollback()


def start(app: Flask) -> None:
    """Start this process's broadcaster once (on its first request or Socket.IO connection)."""
    if not app.config["BOARD_BROADCASTER"] or app.extensions.get("thidua.broadcaster"):
        return
    app.extensions["thidua.broadcaster"] = True
    socketio.start_background_task(run, app)
