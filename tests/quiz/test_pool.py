"""The pool a process draws from: kept a while, yet never the source of a question that may not be drawn.

"Another process" is a plain SQL statement here: it changes the bank behind this process's back,
as a second server process would, without passing through this process's session events.
"""

from __future__ import annotations

import random
import time

import pytest
from sqlalchemy import text

from core.accounts.roles import RoleCode
from core.extensions import db
from quiz import attempts, bank, pool
from quiz.attempts import DrawRule
from quiz.models import QuestionStatus


@pytest.fixture
def five(quiz):
    return [quiz.question(text=f"Câu hỏi kho {n}?") for n in range(5)]


def _drawn(count: int, seed: int = 1) -> set[int]:
    return {version.question_id for version in attempts.draw([DrawRule(count)], random.Random(seed))}


def _elsewhere(sql: str, **params: object) -> None:
    db.session.execute(text(sql), params)


def _copy_approved_elsewhere(question_id: int) -> None:
    """A new approved question, a copy of that one, written by "another process"."""
    copy = db.session.execute(text(
        "INSERT INTO questions (status, category_id, difficulty, search_text, fingerprint, created_at, updated_at) "
        "SELECT 'approved', category_id, difficulty, search_text, 'bản sao', created_at, updated_at "
        "FROM questions WHERE id = :id RETURNING id"
    ), {"id": question_id}).scalar_one()
    version = db.session.execute(text(
        "INSERT INTO question_versions (question_id, number, kind, text, choices, correct, explanation, source, "
        "category_id, difficulty, created_at) SELECT :copy, 1, kind, 'Bản sao?', choices, correct, explanation, "
        "source, category_id, difficulty, created_at FROM question_versions WHERE question_id = :id RETURNING id"
    ), {"copy": copy, "id": question_id}).scalar_one()
    _elsewhere("UPDATE questions SET current_version_id = :v WHERE id = :id", v=version, id=copy)


def test_a_question_retired_in_another_process_is_never_drawn(session, five):
    assert len(_drawn(5)) == 5  # this process now keeps all five
    retired = five[0].id
    _elsewhere("UPDATE questions SET status = 'retired' WHERE id = :id", id=retired)
    for seed in range(20):
        assert retired not in _drawn(4, seed)
    with pytest.raises(Exception, match="không còn đủ câu hỏi"):
        _drawn(5)


def test_a_question_edited_in_another_process_is_drawn_in_its_new_version(session, five):
    _drawn(5)  # kept, with each question's first version
    edited = five[1]
    newer = db.session.execute(text(
        "INSERT INTO question_versions (question_id, number, kind, text, choices, correct, explanation, source, "
        "category_id, difficulty, created_at) SELECT question_id, 2, kind, 'Câu hỏi kho 1, bản sửa?', choices, "
        "correct, explanation, source, category_id, difficulty, created_at FROM question_versions WHERE id = :v "
        "RETURNING id"
    ), {"v": edited.current_version_id}).scalar_one()
    _elsewhere("UPDATE questions SET current_version_id = :v WHERE id = :id", v=newer, id=edited.id)
    drawn = {version.id for version in attempts.draw([DrawRule(5)], random.Random(3))}
    assert newer in drawn and edited.current_version_id not in drawn


def test_a_question_approved_in_this_process_is_drawable_at_once(session, quiz, make, five):
    _drawn(5)
    draft = quiz.question(text="Câu hỏi mới duyệt?", status=QuestionStatus.DRAFT)
    _drawn(5)  # kept again after the draft was written
    bank.approve([draft], make.user(RoleCode.ADMIN))
    assert any(draft.id in _drawn(5, seed) for seed in range(30))


def test_questions_imported_in_bulk_are_drawable_at_once(session, quiz, five):
    _drawn(5)
    imported = bank.create_questions([quiz.data(text=f"Câu nhập {n}?") for n in range(3)], None,
                                     status=QuestionStatus.APPROVED)
    assert set(imported) <= set().union(*(_drawn(5, seed) for seed in range(30)))


def test_a_pool_too_small_is_read_again_before_refusing(session, five):
    _drawn(5)
    _copy_approved_elsewhere(five[0].id)
    assert len(_drawn(6)) == 6  # approved elsewhere, needed now: read at once, not after the delay


def test_an_approval_elsewhere_joins_the_draws_once_the_pool_expires(app, session, five, monkeypatch):
    _drawn(5)
    _copy_approved_elsewhere(five[0].id)
    assert len(pool.cached(None, None)) == 5  # what was read, for POOL_CACHE_SECONDS
    later = time.monotonic() + app.config["POOL_CACHE_SECONDS"] + 1
    monkeypatch.setattr("core.kept.time.monotonic", lambda: later)
    assert len(pool.cached(None, None)) == 6
