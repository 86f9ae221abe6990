"""Transaction-scoped locks on things that are not rows being written.

On PostgreSQL these are advisory locks: held in memory until the transaction ends, so thousands
of shared holders cost nothing, unlike ``SELECT … FOR SHARE`` on one hot row (which writes the
row's lock information for every holder). SQLite serialises every write transaction anyway, so
there they are no-ops.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from sqlalchemy import text

from core.extensions import db


class LockSpace(IntEnum):
    """The first key of a two-key advisory lock: which kind of thing is locked."""

    ROUND = 1  # a round's rules: edits exclusive, attempt starts shared
    PERSON_STARTS = 2  # one person's attempt starts (a double tap, a second phone): exclusive


@dataclass(frozen=True)
class Lock:
    function: str
    space: LockSpace
    key: int


def shared(space: LockSpace, key: int) -> Lock:
    """Many holders at once; waits while an exclusive holder has it."""
    return Lock("pg_advisory_xact_lock_shared", space, key)


def exclusive(space: LockSpace, key: int) -> Lock:
    """One holder; waits for every shared holder to finish its transaction."""
    return Lock("pg_advisory_xact_lock", space, key)


def take(*locks: Lock) -> None:
    """Take the locks, in the order given, in one statement (one round trip on a busy path)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    calls = ", ".join(f"{lock.function}(:s{n}, :k{n})" for n, lock in enumerate(locks))
    params = {}
    for n, lock in enumerate(locks):
        params[f"s{n}"], params[f"k{n}"] = int(lock.space), lock.key
    db.session.execute(text(f"SELECT {calls}"), params)
