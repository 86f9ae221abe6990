"""The approved questions a draw picks from, kept in each process for a short while.

Every attempt start draws. Reading the ids of all approved questions each time cost more than the
rest of a start once the bank holds a few thousand, so each process keeps them for
``POOL_CACHE_SECONDS``. A change to a question made in this process forgets them at once; a draw
checks the questions it picked against the database (quiz.attempts.draw), so a question retired or
edited in another process is never drawn, and one approved there joins the draws within the delay.
"""

from __future__ import annotations

from itertools import chain

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from core.extensions import db
from core.kept import forget as forget_kept
from core.kept import kept
from quiz.bank import approved_pool
from quiz.models import Question

_KEY = "quiz.pools"
Pool = dict[int, int]  # question id -> id of its current version


def read(category_id: int | None, difficulty: str | None) -> Pool:
    """The approved questions of that category and difficulty (None: any), from the database."""
    query = approved_pool(category_id, difficulty).with_only_columns(
        Question.id, Question.current_version_id
    ).order_by(None)
    return {qid: vid for qid, vid in db.session.execute(query) if vid is not None}


def cached(category_id: int | None, difficulty: str | None) -> Pool:
    """``read``, or what it returned less than ``POOL_CACHE_SECONDS`` ago in this process."""
    return kept(_KEY, (category_id, difficulty), current_app.config["POOL_CACHE_SECONDS"],
                lambda: read(category_id, difficulty))


def forget(app: Flask | None = None) -> None:
    """Drop what this process keeps: the next draws read the bank again."""
    forget_kept(_KEY, app)


def _questions_flushed(session: Session, _flush: UOWTransaction) -> None:
    if any(isinstance(row, Question) for row in chain(session.new, session.dirty, session.deleted)):
        forget()


def _questions_written(state: ORMExecuteState) -> None:
    # Bulk statements (an import's INSERT of many questions) do not pass through the flush.
    if (state.is_insert or state.is_update or state.is_delete) and state.bind_mapper is Question.__mapper__:
        forget()


def watch() -> None:
    """Forget the pools whenever this process changes a question (called once by quiz.init_app)."""
    if not event.contains(Session, "after_flush", _questions_flushed):
        event.listen(Session, "after_flush", _questions_flushed)
        event.listen(Session, "do_orm_execute", _questions_written)
