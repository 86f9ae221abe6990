"""Boards: the rank store plus how each row is shown, built from the database on first use.

Every read goes through ``ensure_built``: an empty store (Redis restarted or flushed, a fresh
process without Redis) is rebuilt from the board's source, so nothing is lost with the store.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from flask_babel import get_locale

from core.accounts.models import User
from core.errors import NotFound, PermissionDenied
from core.kept import kept, one_at_a_time
from core.redis_client import redis_client
from leaderboard.sources import BoardInfo, Detail, source_for
from leaderboard.store import Entry, Row, rank_store

MAX_TOP = 100  # the most rows a client may ask for


def _details_key(board: str) -> str:
    return f"thidua:lb:{board}:d"


class _MemoryDetails:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.boards: dict[str, dict[str, str]] = {}


def _memory_details() -> _MemoryDetails:
    return current_app.extensions.setdefault("thidua.board_details", _MemoryDetails())


def _write_details(board: str, details: dict[str, str], replace: bool) -> None:
    client = redis_client()
    if client is None:
        memory = _memory_details()
        with memory.lock:
            current = {} if replace else dict(memory.boards.get(board, {}))
            current.update(details)
            memory.boards[board] = current
        return
    pipe = client.pipeline(transaction=True)
    if replace:
        pipe.delete(_details_key(board))
    items = list(details.items())
    for start in range(0, len(items), 5000):
        pipe.hset(_details_key(board), mapping=dict(items[start:start + 5000]))
    pipe.execute()


def _read_details(board: str, members: list[str]) -> list[dict[str, str]]:
    if not members:
        return []
    client = redis_client()
    if client is None:
        memory = _memory_details().boards.get(board, {})
        raw = [memory.get(m) for m in members]
    else:
        raw = client.hmget(_details_key(board), members)
    # A row without its labels (a member set by hand, say) shows its member name.
    return [json.loads(value) if value else Detail(m).as_dict() for m, value in zip(members, raw, strict=True)]


# --- writing ------------------------------------------------------------------------------------


def publish(board: str, rows: Iterable[tuple[Entry, Detail]]) -> int:
    """Replace the whole board (and its row labels)."""
    rows = list(rows)
    _write_details(board, {entry.member: json.dumps(detail.as_dict()) for entry, detail in rows}, replace=True)
    return rank_store().rebuild(board, [entry for entry, _detail in rows])


def put(board: str, rows: list[tuple[Entry, Detail]]) -> None:
    """Set these members' rows; the board is built from the database first if the store lost it
    (the new rows are then in it already, from the database)."""
    if not rows or ensure_built(board):
        return
    _write_details(board, {entry.member: json.dumps(detail.as_dict()) for entry, detail in rows}, replace=False)
    rank_store().set_many(board, [entry for entry, _detail in rows])


def remove(board: str, member: str) -> None:
    if not ensure_built(board):
        rank_store().remove(board, member)


def ensure_built(board: str) -> bool:
    """Build the board from its source if the store does not hold it; returns whether it did."""
    store = rank_store()
    if store.is_built(board):
        return False
    # Phones subscribing to a board the store lost would each compute it again, all at once.
    with one_at_a_time("thidua.board_build", board):
        if store.is_built(board):
            return False
        source = source_for(board)
        if source is None or source.info(board) is None:
            raise NotFound(board)
        publish(board, source.compute(board))
        return True


def rebuild(board: str) -> int:
    """``flask leaderboard rebuild``: recompute the board from the database now."""
    source = source_for(board)
    if source is None or source.info(board) is None:
        raise NotFound(board)
    return publish(board, source.compute(board))


# --- reading ------------------------------------------------------------------------------------


def board_info(board: str, user: User | None) -> BoardInfo:
    """The board, if it exists and ``user`` may watch it; NotFound or PermissionDenied otherwise."""
    source = source_for(board)
    info = _info(board) if source is not None else None
    if info is None:
        raise NotFound(board)
    if not info.public and not source.may_watch(board, user):  # type: ignore[union-attr]
        raise PermissionDenied
    return info


def _info(board: str) -> BoardInfo | None:
    """What the board is about, as its source told this process less than ``BOARD_INFO_CACHE_SECONDS``
    ago (in this language): when a projector shows a board's QR code, thousands of phones subscribe
    within a minute, and each asked the database again. Unknown boards are not kept."""
    return kept("thidua.board_info", (board, str(get_locale())), current_app.config["BOARD_INFO_CACHE_SECONDS"],
                lambda: source_for(board).info(board))  # type: ignore[union-attr]


def _shown(board: str, rows: list[Row]) -> list[dict[str, object]]:
    details = _read_details(board, [row.member for row in rows])
    return [{"rank": row.rank, "member": row.member, **detail} for row, detail in zip(rows, details, strict=True)]


@dataclass(frozen=True)
class View:
    board: str
    size: int
    top: list[dict[str, object]]
    me: dict[str, object] | None

    def as_dict(self) -> dict[str, object]:
        return {"board": self.board, "size": self.size, "top": self.top, "me": self.me}


def view(board: str, top: int = 10, member: str | None = None, offset: int = 0) -> View:
    """``top`` rows after the first ``offset`` (a page), and ``member``'s row wherever it is."""
    ensure_built(board)
    store = rank_store()
    rows = store.top(board, max(1, min(top, MAX_TOP)), max(0, offset))
    mine = store.row(board, member) if member is not None else None
    return View(board, store.size(board), _shown(board, rows), _shown(board, [mine])[0] if mine else None)


def member_of(board: str, user: User | None) -> str | None:
    source = source_for(board)
    return source.member_of(board, user) if source is not None and user is not None else None
