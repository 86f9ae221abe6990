"""Transaction-scoped locks on things that are not rows being written.

On PostgreSQL these are advisory locks: held in memory until the transaction ends, so thousands
of shared holders cost nothing, unlike ``SELECT … FOR SHARE`` on one hot row (which writes the
row's lock information for every holder). SQLite serialises every write transaction anyway, so
there they are no-ops.
"""

from __future__ import annotations

from enum import IntEnum

from sqlalchemy import text

from core.extensions import db


class LockSpace(IntEnum):
    """The first key of a two-key advisory lock: which kind of thing is locked."""

    ROUND = 1  # a round's rules: edits exclusive, attempt starts shared


def _take(function: str, space: LockSpace, key: int) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"SELECT {function}(:space, :key)"), {"space": int(space), "key": key})


def shared_lock(space: LockSpace, key: int) -> None:
    """Many holders at once; waits while an exclusive holder has it."""
    _take("pg_advisory_xact_lock_shared", space, key)


def exclusive_lock(space: LockSpace, key: int) -> None:
    """One holder; waits for every shared holder to finish its transaction."""
    _take("pg_advisory_xact_lock", space, key)
