"""Writing rows that concurrent requests may write too."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from core.extensions import db

T = TypeVar("T")


def insert_or_existing(row: T, existing: Callable[[], T | None]) -> T:
    """Insert ``row`` in a SAVEPOINT. When a unique index refuses it because a concurrent request
    (a double tap, a second phone) inserted the same thing first, return that one instead."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        winner = existing()
        if winner is None:
            raise
        return winner
    return row
