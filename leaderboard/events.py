"""The ``/boards`` Socket.IO namespace: subscribe to a board, get a snapshot, then updates.

Client events: ``subscribe`` {"board": name, "top": n}, ``unsubscribe`` {"board": name},
``me`` {"board": name} (one's own row again). Server events: ``snapshot`` (the board now, with
one's own row), ``update`` (from leaderboard.broadcast, to the board's room), ``me``, and
``board_error`` {"board", "error"} for a board that does not exist, may not be watched, or a
malformed message. Handlers stay thin; the rules are in leaderboard.service.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import join_room, leave_room

from core.accounts.models import User
from core.errors import NotFound, PermissionDenied
from core.extensions import socketio
from core.realtime import reply
from leaderboard import broadcast, service
from leaderboard.broadcast import NAMESPACE, room

MAX_NAME = 120


def _user() -> User | None:
    return current_user._get_current_object() if current_user.is_authenticated else None  # type: ignore[attr-defined]


def _board_of(message: object) -> str | None:
    if not isinstance(message, dict):
        return None
    board = message.get("board")
    return board if isinstance(board, str) and 0 < len(board) <= MAX_NAME else None


def _refuse(board: str | None, error: str) -> None:
    reply("board_error", {"board": board, "error": error})


def _allowed(message: object) -> str | None:
    """The board named in the message, if it exists and the caller may watch it; else refused."""
    board = _board_of(message)
    if board is None:
        _refuse(None, _("Yêu cầu không hợp lệ: thiếu tên bảng xếp hạng."))
        return None
    try:
        service.board_info(board, _user())
    except NotFound:
        _refuse(board, _("Không có bảng xếp hạng này."))
        return None
    except PermissionDenied:
        _refuse(board, _("Bạn không có quyền xem bảng xếp hạng này."))
        return None
    return board


def on_connect(_auth: object = None) -> None:
    broadcast.start(current_app._get_current_object())  # type: ignore[attr-defined]


def on_subscribe(message: object) -> None:
    board = _allowed(message)
    if board is None:
        return
    top = message.get("top", current_app.config["BOARD_TOP_N"])  # type: ignore[union-attr]
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        top = current_app.config["BOARD_TOP_N"]
    join_room(room(board))
    reply("snapshot", service.view(board, top, service.member_of(board, _user())).as_dict())


def on_unsubscribe(message: object) -> None:
    board = _board_of(message)
    if board is not None:
        leave_room(room(board))


def on_me(message: object) -> None:
    board = _allowed(message)
    if board is not None:
        reply("me", {"board": board, "me": service.view(board, 1, service.member_of(board, _user())).me})


def register() -> None:
    socketio.on_event("connect", on_connect, namespace=NAMESPACE)
    socketio.on_event("subscribe", on_subscribe, namespace=NAMESPACE)
    socketio.on_event("unsubscribe", on_unsubscribe, namespace=NAMESPACE)
    socketio.on_event("me", on_me, namespace=NAMESPACE)
