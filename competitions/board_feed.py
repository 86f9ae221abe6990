"""Results on their way to the live boards: queued in the transaction, sent once it commits.

A graded attempt (core.signals.attempt_closed) or a closed round queues a change in the session;
after the commit the changes go to leaderboard.changes, so a board never shows a result that was
rolled back, and the request that stores a result does no board work itself.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from competitions.models import ROUND_CONTEXT_PREFIX, Round
from core.extensions import db
from core.signals import attempt_closed
from leaderboard import changes
from quiz.models import Attempt

_PENDING = "thidua.board_changes"


def queue(group: str, member: str | None = None) -> None:
    """Queue a change of ``group`` ("round:42"): one member's result, or (None) everything."""
    pending: dict[str, set[str]] = db.session.info.setdefault(_PENDING, {})
    pending.setdefault(group, set()).add(member if member is not None else changes.EVERYTHING)


def round_closed(round_: Round) -> None:
    """The round's closing work is done (its prediction answer is known): all its boards, and
    its series' standings, are recomputed once the closing commits."""
    queue(round_.context)
    if round_.series_id:
        queue(f"series:{round_.series_id}")


def _on_attempt_closed(attempt: Attempt) -> None:
    if attempt.context.startswith(ROUND_CONTEXT_PREFIX):
        queue(attempt.context, str(attempt.user_id))


def _send(session: Session) -> None:
    for group, members in session.info.pop(_PENDING, {}).items():
        changes.notify(group, members - {changes.EVERYTHING}, everything=changes.EVERYTHING in members)


def _drop(session: Session) -> None:
    session.info.pop(_PENDING, None)


def connect() -> None:
    """Called once by competitions.init_app."""
    attempt_closed.connect(_on_attempt_closed)
    if not event.contains(Session, "after_commit", _send):
        event.listen(Session, "after_commit", _send)
        event.listen(Session, "after_rollback", _drop)
