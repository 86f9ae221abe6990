"""The attempt engine: draw, shuffle, deadline, idempotent and order-safe saves, grading, secrecy."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
import redis

from core.db_types import utcnow
from core.errors import NotFound, PermissionDenied, ValidationError
from quiz import attempts
from quiz.attempts import DrawRule
from quiz.models import AttemptStatus, Difficulty, QuestionStatus


@pytest.fixture
def bank10(quiz):
    """10 approved questions: 6 easy Chính quyền số, 4 hard Kinh tế số; plus a draft and a retired one."""
    kinh_te = quiz.category("Kinh tế số").id
    questions = [quiz.question(text=f"Câu dễ {n}?") for n in range(6)]
    questions += [
        quiz.question(text=f"Câu khó {n}?", category_id=kinh_te, difficulty=Difficulty.HARD) for n in range(4)
    ]
    quiz.question(text="Bản nháp?", status=QuestionStatus.DRAFT)
    return questions


def _start(make, plan, minutes=10, seed=1, user=None):
    now = utcnow()
    deadline = now + timedelta(minutes=minutes)
    return attempts.start(user or make.user(), "round:1", plan, deadline, now, random.Random(seed))


def test_draw_follows_the_plan_with_approved_questions_only(session, quiz, make, bank10):
    kinh_te = quiz.category("Kinh tế số").id
    attempt = _start(make, [DrawRule(3, kinh_te, Difficulty.HARD), DrawRule(5)])
    versions = [item.version for item in attempt.items]
    assert len(versions) == 8 and len({v.question_id for v in versions}) == 8
    assert sum(v.category_id == kinh_te for v in versions) >= 3
    assert all(v.question.status == QuestionStatus.APPROVED for v in versions)


def test_shortfalls_name_the_rule_that_cannot_be_met(session, quiz, bank10):
    kinh_te = quiz.category("Kinh tế số").id
    missing = attempts.shortfalls([DrawRule(5, kinh_te), DrawRule(6)])
    assert [(m.rule.category_id, m.available) for m in missing] == [(kinh_te, 4)]
    assert attempts.shortfalls([DrawRule(4, kinh_te), DrawRule(6)]) == []
    # the narrow rule draws first: "any 10" + "4 Kinh tế số" needs 14
    assert attempts.shortfalls([DrawRule(10), DrawRule(4, kinh_te)])[0].available == 6


def test_question_and_choice_order_differ_between_attempts(session, make, bank10):
    first = _start(make, [DrawRule(10)], seed=1)
    second = _start(make, [DrawRule(10)], seed=2)
    assert [i.version_id for i in first.items] != [i.version_id for i in second.items]
    assert [i.choice_order for i in first.items] != [i.choice_order for i in second.items]


def test_a_second_start_returns_the_attempt_in_progress(session, make, bank10):
    user = make.user()
    first = _start(make, [DrawRule(5)], user=user, seed=1)
    second = _start(make, [DrawRule(5)], user=user, seed=2)
    assert second.id == first.id and [i.version_id for i in second.items] == [i.version_id for i in first.items]


def test_the_database_refuses_two_attempts_in_progress(session, make, bank10):
    from sqlalchemy.exc import IntegrityError

    from quiz.models import Attempt

    user = make.user()
    _start(make, [DrawRule(2)], user=user)
    session.add(Attempt(user_id=user.id, context="round:1", deadline_at=utcnow()))
    with pytest.raises(IntegrityError):
        session.flush()


def test_saves_are_idempotent_and_order_safe(session, make, bank10):
    attempt = _start(make, [DrawRule(3)])
    item = attempt.items[0]
    attempts.save_answer(attempt, item.id, [1], seq=1)
    attempts.save_answer(attempt, item.id, [2], seq=3)
    attempts.save_answer(attempt, item.id, [0], seq=2)  # older, overtaken on the network
    attempts.save_answer(attempt, item.id, [2], seq=3)  # the same save resent
    assert item.selected == [item.choice_order[2]] and item.answer_seq == 3


@pytest.mark.parametrize(("positions", "message"), [([7], "không thuộc câu hỏi"), ([0, 0], "không thuộc câu hỏi"),
                                                    ([0, 1], "chỉ chọn một đáp án")])
def test_bad_choices_are_refused_and_nothing_stored(session, make, bank10, positions, message):
    attempt = _start(make, [DrawRule(1)])
    with pytest.raises(ValidationError, match=message):
        attempts.save_answer(attempt, attempt.items[0].id, positions, seq=1)
    assert attempt.items[0].selected is None


def test_an_item_of_another_attempt_is_refused(session, make, bank10):
    mine = _start(make, [DrawRule(1)])
    theirs = _start(make, [DrawRule(1)])
    with pytest.raises(ValidationError, match="không thuộc bài thi"):
        attempts.save_answer(mine, theirs.items[0].id, [0], seq=1)
    with pytest.raises(PermissionDenied):
        attempts.attempt_of(theirs.id, mine.user_id, "round:")


def test_after_the_deadline_saves_are_refused_and_the_attempt_is_graded_with_what_was_saved(session, make, bank10):
    attempt = _start(make, [DrawRule(3)], minutes=1)
    first = attempt.items[0]
    right = first.choice_order.index(first.version.correct[0])
    attempts.save_answer(attempt, first.id, [right], seq=1)
    later = attempt.deadline_at + timedelta(seconds=30)
    with pytest.raises(ValidationError, match="hết giờ"):
        attempts.save_answer(attempt, attempt.items[1].id, [0], seq=1, now=later)
    assert attempts.close_due("round:1", now=later) == 1
    assert (attempt.status, attempt.score, attempt.max_score) == (AttemptStatus.SUBMITTED, 1, 3)
    assert attempt.submitted_at == attempt.deadline_at  # not the moment the sweep ran
    assert [i.is_correct for i in attempt.items] == [True, False, False]  # unanswered counts wrong


def test_multiple_answer_questions_need_exactly_the_right_set(session, quiz, make):
    question = quiz.question(choices=["A", "B", "C", "D"], correct=[0, 2])
    attempt = _start(make, [DrawRule(1)])
    item = attempt.items[0]
    positions = [item.choice_order.index(0)]
    attempts.save_answer(attempt, item.id, positions, seq=1)
    attempts.close(attempt)
    assert attempt.score == 0 and item.version.question_id == question.id
    attempt2 = _start(make, [DrawRule(1)])
    item2 = attempt2.items[0]
    attempts.save_answer(attempt2, item2.id, [item2.choice_order.index(0), item2.choice_order.index(2)], seq=1)
    assert attempts.close(attempt2).score == 1


def test_state_never_contains_answers_before_submission(session, make, bank10):
    attempt = _start(make, [DrawRule(3)])
    state = attempts.attempt_state(attempt, reveal=True)
    assert all("correct" not in item and "explanation" not in item for item in state["items"])
    assert 590 <= state["remaining_seconds"] <= 600
    attempts.close(attempt)
    revealed = attempts.attempt_state(attempt, reveal=True)
    assert all("correct" in item and "explanation" in item for item in revealed["items"])
    hidden = attempts.attempt_state(attempt, reveal=False)
    assert all("correct" not in item for item in hidden["items"])


def test_state_resumes_with_the_same_questions_order_and_picks(session, make, bank10):
    attempt = _start(make, [DrawRule(4)])
    attempts.save_answer(attempt, attempt.items[2].id, [1], seq=5)
    state = attempts.attempt_state(attempt)
    assert [i["id"] for i in state["items"]] == [i.id for i in attempt.items]
    assert state["items"][2]["selected"] == [1] and state["items"][2]["seq"] == 5
    assert state["answered"] == 1


def test_submitting_twice_changes_nothing(session, make, bank10):
    attempt = _start(make, [DrawRule(2)])
    attempts.close(attempt)
    submitted_at = attempt.submitted_at
    attempts.close(attempt, now=utcnow() + timedelta(minutes=3))
    assert attempt.submitted_at == submitted_at
    with pytest.raises(ValidationError, match="đã nộp"):
        attempts.save_answer(attempt, attempt.items[0].id, [0], seq=9)


def test_answer_time_is_the_time_since_the_previous_save(session, make, bank10):
    attempt = _start(make, [DrawRule(3)])
    t0 = attempt.started_at
    attempts.save_answer(attempt, attempt.items[0].id, [0], seq=1, now=t0 + timedelta(seconds=12))
    attempts.save_answer(attempt, attempt.items[1].id, [0], seq=2, now=t0 + timedelta(seconds=20))
    assert [attempt.items[0].answer_ms, attempt.items[1].answer_ms] == [12_000, 8_000]


# --- answers kept in Redis while the attempt runs ------------------------------------------------------


@pytest.fixture
def live(app, redis_url, monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    return redis.Redis.from_url(redis_url, decode_responses=True)


_in_round = "round:"

def test_with_redis_answers_reach_the_items_when_the_attempt_closes(session, make, bank10, live):
    attempt = _start(make, [DrawRule(3)])
    first, second, third = attempt.items
    t0 = attempt.started_at
    right = first.choice_order.index(first.version.correct[0])
    user = attempt.user_id
    saved = attempts.record_answer(attempt.id, user, first.id, [right], 1, _in_round, t0 + timedelta(seconds=12))
    assert (saved.item_id, saved.seq, saved.positions) == (first.id, 1, [right])
    attempts.record_answer(attempt.id, attempt.user_id, second.id, [0], 2, _in_round, t0 + timedelta(seconds=20))
    assert first.selected is None and second.selected is None  # nothing written to the database yet
    state = attempts.attempt_state(attempt)
    assert [i["selected"] for i in state["items"]] == [[right], [0], []] and state["answered"] == 2

    attempts.close(attempt, now=t0 + timedelta(seconds=30))
    assert (first.selected, first.answer_seq, first.is_correct) == (first.version.correct, 1, True)
    assert [first.answer_ms, second.answer_ms, third.answer_ms] == [12_000, 8_000, None]
    assert abs((first.answered_at - t0).total_seconds() - 12) < 0.001  # kept to the millisecond
    assert attempt.score == 1 + second.is_correct
    with pytest.raises(attempts.AttemptOver, match="đã nộp"):
        attempts.record_answer(attempt.id, attempt.user_id, third.id, [0], 3, _in_round)
    assert third.selected is None


def test_with_redis_the_checks_are_those_of_the_database_path(session, make, bank10, live):
    attempt = _start(make, [DrawRule(2)], minutes=1)
    other = _start(make, [DrawRule(1)])
    item = attempt.items[0]
    user = attempt.user_id
    refusals = [
        ((attempt.id, user, other.items[0].id, [0], 1), ValidationError, "không thuộc bài thi"),
        ((attempt.id, user, item.id, [9], 1), ValidationError, "không thuộc câu hỏi"),
        ((attempt.id, user, item.id, [0, 0], 1), ValidationError, "không thuộc câu hỏi"),
        ((attempt.id, other.user_id, item.id, [0], 1), PermissionDenied, None),
        ((attempt.id + 999, user, item.id, [0], 1), NotFound, "Không tìm thấy"),
    ]
    if item.version.kind != "multiple":
        refusals.append(((attempt.id, user, item.id, [0, 1], 1), ValidationError, "chỉ chọn một"))
    for args, error, message in refusals:
        with pytest.raises(error, match=message):
            attempts.record_answer(*args, _in_round)
    with pytest.raises(NotFound):  # a live contest's attempt is not a round's
        attempts.record_answer(attempt.id, user, item.id, [0], 1, "live:")
    late = attempt.deadline_at + attempts.grace() + timedelta(seconds=1)
    with pytest.raises(attempts.AttemptOver, match="hết giờ"):
        attempts.record_answer(attempt.id, user, item.id, [0], 1, _in_round, late)
    assert attempts.attempt_state(attempt)["answered"] == 0


def test_with_redis_a_lost_hash_is_rebuilt_from_the_database(session, make, bank10, live):
    attempt = _start(make, [DrawRule(2)])
    live.delete(f"thidua:attempt:{attempt.id}")  # Redis restarted without persistence
    saved = attempts.record_answer(attempt.id, attempt.user_id, attempt.items[1].id, [1], 4, _in_round)
    assert saved.seq == 4 and attempts.attempt_state(attempt)["items"][1]["selected"] == [1]
    assert live.hget(f"thidua:attempt:{attempt.id}", "user") == str(attempt.user_id)


def test_with_redis_a_new_attempt_never_inherits_a_stale_hash(session, make, bank10, live):
    attempt = _start(make, [DrawRule(2)])
    key = f"thidua:attempt:{attempt.id + 1}"
    live.hset(key, mapping={"user": 1, "ctx": "round:1", "until": 0, "closed": 1, "a:1": "9:0:0:0"})  # a reset database
    fresh = _start(make, [DrawRule(2)])
    assert fresh.id == attempt.id + 1 and "closed" not in live.hgetall(key)
    attempts.record_answer(fresh.id, fresh.user_id, fresh.items[0].id, [1], 1, _in_round)
    assert attempts.attempt_state(fresh)["answered"] == 1
