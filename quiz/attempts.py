"""The attempt engine: draw, shuffle, a deadline kept by the server, idempotent saves, grading.

It knows nothing of rounds: the caller names the attempt's ``context`` (e.g. "round:42"), gives
the draw plan and the deadline, and decides who may start. Choices travel to the browser by their
display position; the correct answer never leaves the server before the attempt is submitted.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from core.accounts.models import User
from core.db_types import utcnow
from core.errors import NotFound, PermissionDenied, ValidationError
from core.extensions import db
from core.persistence import insert_or_existing
from core.signals import attempt_closed
from quiz import live_answers, pool
from quiz.models import Attempt, AttemptItem, AttemptStatus, Question, QuestionKind, QuestionStatus, QuestionVersion


@dataclass(frozen=True)
class DrawRule:
    """Draw ``count`` approved questions, optionally of one category and/or difficulty."""

    count: int
    category_id: int | None = None
    difficulty: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"count": self.count, "category_id": self.category_id, "difficulty": self.difficulty}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> DrawRule:
        return cls(int(data["count"]), data.get("category_id"), data.get("difficulty"))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Shortfall:
    rule: DrawRule
    available: int


def _ordered(plan: Sequence[DrawRule]) -> list[DrawRule]:
    # The narrowest rules draw first, so that a broad rule ("any 5") cannot eat the questions a
    # narrow one ("3 hard questions of Kinh tế số") needs.
    return sorted(plan, key=lambda r: (r.category_id is None) + (r.difficulty is None))


def shortfalls(plan: Sequence[DrawRule], exclude: Collection[int] = ()) -> list[Shortfall]:
    """The rules the approved questions (but ``exclude``) cannot satisfy (empty when the plan can be met)."""
    taken: set[int] = set(exclude)
    missing = []
    for rule in _ordered(plan):
        ids = [qid for qid in pool.read(rule.category_id, rule.difficulty) if qid not in taken]
        if len(ids) < rule.count:
            missing.append(Shortfall(rule, len(ids)))
        taken.update(ids[: rule.count])
    return missing


def draw(plan: Sequence[DrawRule], rng: random.Random, exclude: Collection[int] = ()) -> list[QuestionVersion]:
    """The current versions of random approved questions (but ``exclude``) following the plan, in
    random order, no question twice. Drawn from this process's pool (quiz.pool); when a question
    picked from it has changed meanwhile, or it falls short, drawn again from the bank itself."""
    versions = _draw(plan, rng, exclude, pool.cached)
    if versions is None:
        pool.forget()
        versions = _draw(plan, rng, exclude, pool.read)
    if versions is None:
        raise ValidationError(_("Ngân hàng không còn đủ câu hỏi đã duyệt cho đợt thi này."))
    return versions


def _draw(
    plan: Sequence[DrawRule], rng: random.Random, exclude: Collection[int],
    pools: Callable[[int | None, str | None], pool.Pool],
) -> list[QuestionVersion] | None:
    chosen: dict[int, int] = {}
    for rule in _ordered(plan):
        found = pools(rule.category_id, rule.difficulty)
        ids = sorted(qid for qid in found if qid not in chosen and qid not in exclude)
        if len(ids) < rule.count:
            return None
        chosen.update((qid, found[qid]) for qid in rng.sample(ids, rule.count))
    order = list(chosen.values())
    rng.shuffle(order)
    # Only the versions are loaded, those still current of questions still approved.
    current = select(QuestionVersion).join(QuestionVersion.question).where(
        QuestionVersion.id.in_(order), Question.current_version_id == QuestionVersion.id,
        Question.status == QuestionStatus.APPROVED,
    )
    by_id = {version.id: version for version in db.session.scalars(current)}
    return [by_id[vid] for vid in order] if len(by_id) == len(order) else None


def active_attempt(user: User, context: str) -> Attempt | None:
    return db.session.scalar(
        select(Attempt).where(
            Attempt.user_id == user.id, Attempt.context == context, Attempt.status == AttemptStatus.IN_PROGRESS
        )
    )


def start(
    user: User, context: str, plan: Sequence[DrawRule], deadline_at: datetime,
    now: datetime | None = None, rng: random.Random | None = None, serialised: bool = False,
) -> Attempt:
    """Start an attempt, or return the one already in progress for this person and context
    (two tabs, two phones, a double click all land on the same attempt).

    ``serialised``: the caller holds the person's start lock (core.locks, PERSON_STARTS) and has
    looked for an attempt in progress; no other start of theirs can race this one, so the insert
    needs no savepoint. The unique index stays the guarantee either way."""
    now = now or utcnow()
    if not serialised:
        existing = active_attempt(user, context)
        if existing is not None:
            return existing
    rng = rng or random.SystemRandom()
    versions = draw(plan, rng)
    orders = []
    for version in versions:
        order = list(range(len(version.choices)))
        if version.kind != QuestionKind.TRUE_FALSE:  # "Đúng" stays before "Sai"
            rng.shuffle(order)
        orders.append(order)
    attempt = Attempt(user_id=user.id, context=context, started_at=now, deadline_at=deadline_at,
                      max_score=len(versions))
    if serialised:
        db.session.add(attempt)
        db.session.flush()
        stored = attempt
    else:
        # A concurrent start may win the race; the unique index keeps its attempt the only one.
        stored = insert_or_existing(attempt, lambda: active_attempt(user, context))
    if stored is attempt:
        _add_items(attempt, versions, orders)
    if live_answers.enabled():
        # The winner of a concurrent start has its hash already, perhaps with answers in it.
        _go_live(stored, new=stored is attempt)
    return stored


def _add_items(attempt: Attempt, versions: Sequence[QuestionVersion], orders: Sequence[list[int]]) -> None:
    # One bulk INSERT … RETURNING instead of the unit of work, which took a sixth of the servers'
    # CPU under load. The items (and their versions, at hand) are set as loaded: the reply and
    # the Redis hash read them without a query.
    rows = [{"attempt_id": attempt.id, "position": position, "version_id": version.id, "choice_order": order}
            for position, (version, order) in enumerate(zip(versions, orders, strict=True))]
    items = list(db.session.scalars(insert(AttemptItem).returning(AttemptItem, sort_by_parameter_order=True), rows))
    for item, version in zip(items, versions, strict=True):
        set_committed_value(item, "version", version)
    set_committed_value(attempt, "items", items)


def _go_live(attempt: Attempt, new: bool) -> None:
    last_save = max((i.answered_at for i in attempt.items if i.answered_at), default=attempt.started_at)
    live_answers.register(
        attempt.id, attempt.user_id, attempt.context, attempt.started_at, last_save,
        attempt.deadline_at + grace(),
        [live_answers.LiveItem(i.id, len(i.choice_order), i.version.kind == QuestionKind.MULTIPLE)
         for i in attempt.items],
        new=new,
    )


def grace() -> timedelta:
    """How long after a deadline saves are still taken (answers in flight on a slow network)."""
    return timedelta(seconds=current_app.config.get("ATTEMPT_GRACE_SECONDS", 3))


def is_due(attempt: Attempt, now: datetime) -> bool:
    return attempt.status == AttemptStatus.IN_PROGRESS and now > attempt.deadline_at + grace()


class AttemptOver(ValidationError):
    """The attempt was submitted or its time is up: the answer is not stored."""


def _submitted() -> AttemptOver:
    return AttemptOver(_("Bài thi đã nộp, không thể sửa câu trả lời."), field="attempt")


def _time_up() -> AttemptOver:
    # Not stored; the attempt itself is closed by whoever reads it next (state, sweep).
    return AttemptOver(_("Đã hết giờ làm bài; bài thi được chấm với các câu đã lưu."), field="attempt")


def _not_in_attempt() -> ValidationError:
    return ValidationError(_("Câu hỏi này không thuộc bài thi của bạn."), field="item")


def _not_a_choice() -> ValidationError:
    return ValidationError(_("Lựa chọn không thuộc câu hỏi này."), field="choices")


def _one_choice_only() -> ValidationError:
    return ValidationError(_("Câu hỏi này chỉ chọn một đáp án."), field="choices")


_ANSWER_COLUMNS = ("selected", "answer_seq", "answered_at", "answer_ms")


def _answer(
    item: AttemptItem, positions: Sequence[int], seq: int, answered_at: datetime, answer_ms: int
) -> dict[str, object]:
    """The item's columns that store an answer (``positions``: display positions)."""
    selected = sorted(item.choice_order[p] for p in positions) or None
    return dict(zip(_ANSWER_COLUMNS, (selected, seq, answered_at, answer_ms), strict=True))


def save_answer(
    attempt: Attempt, item_id: int, positions: Sequence[int], seq: int, now: datetime | None = None
) -> AttemptItem:
    """Store the choices picked (by display position) for one item of the attempt, in the database.

    Idempotent and order-safe: a save whose ``seq`` is not newer than the stored one changes
    nothing. Refused after the deadline (plus a few seconds of network grace) or once submitted."""
    now = now or utcnow()
    if attempt.status != AttemptStatus.IN_PROGRESS:
        raise _submitted()
    if is_due(attempt, now):
        raise _time_up()
    # Only the item answered is loaded: this is the hot path of a contest.
    item = db.session.scalar(
        select(AttemptItem).where(AttemptItem.id == item_id, AttemptItem.attempt_id == attempt.id)
    )
    if item is None:
        raise _not_in_attempt()
    size = len(item.choice_order)
    if not all(isinstance(p, int) and 0 <= p < size for p in positions) or len(set(positions)) != len(positions):
        raise _not_a_choice()
    if item.version.kind != QuestionKind.MULTIPLE and len(positions) > 1:
        raise _one_choice_only()
    if seq <= item.answer_seq:
        return item  # a resend, or an older save overtaken on the network
    # Time spent on this answer: since the attempt's previous save, or its start (item statistics).
    previous = db.session.scalar(
        select(func.max(AttemptItem.answered_at)).where(AttemptItem.attempt_id == attempt.id)
    ) or attempt.started_at
    spent_ms = max(0, int((now - max(previous, attempt.started_at)).total_seconds() * 1000))
    for column, value in _answer(item, positions, seq, now, spent_ms).items():
        setattr(item, column, value)
    db.session.flush()
    return item


@dataclass(frozen=True)
class SavedAnswer:
    item_id: int
    seq: int  # the stored save's: newer than the one sent when that one came late
    positions: list[int]  # display positions, ascending


def _no_attempt() -> NotFound:
    return NotFound(_("Không tìm thấy bài thi."))


_LIVE_REFUSALS: dict[str, Callable[[], Exception]] = {
    "elsewhere": _no_attempt, "missing": _no_attempt, "forbidden": PermissionDenied,
    "closed": _submitted, "late": _time_up, "item": _not_in_attempt, "choices": _not_a_choice,
    "single": _one_choice_only,
}


def record_answer(
    attempt_id: int, user_id: int, item_id: int, positions: Sequence[int], seq: int,
    context_prefix: str, now: datetime | None = None,
) -> SavedAnswer:
    """Save one answer to the person's attempt: in Redis when the app has it (no database work:
    the hot path of a contest), else in the database. Only attempts whose context starts with
    ``context_prefix`` are found (a round's page saves to round attempts only)."""
    now = now or utcnow()
    if len(set(positions)) != len(positions):
        raise _not_a_choice()
    if not live_answers.enabled():
        attempt = attempt_of(attempt_id, user_id, context_prefix)
        item = save_answer(attempt, item_id, positions, seq, now)
        return SavedAnswer(item.id, item.answer_seq, sorted(item.choice_order.index(i) for i in item.selected or []))
    found = live_answers.save(attempt_id, user_id, item_id, positions, seq, now, context_prefix)
    if found.outcome == "missing":
        # Started before Redis was configured, or Redis lost it: rebuild the hash from the database.
        attempt = attempt_of(attempt_id, user_id, context_prefix)
        if attempt.status != AttemptStatus.IN_PROGRESS:
            raise _submitted()
        _go_live(attempt, new=False)
        found = live_answers.save(attempt_id, user_id, item_id, positions, seq, now, context_prefix)
    refusal = _LIVE_REFUSALS.get(found.outcome)
    if refusal is not None:
        raise refusal()
    assert found.answer is not None
    return SavedAnswer(item_id, found.answer.seq, found.answer.positions)


def attempt_of(attempt_id: int, user_id: int | None, context_prefix: str) -> Attempt:
    """The person's attempt of that id, among attempts whose context starts with ``context_prefix``."""
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or not attempt.context.startswith(context_prefix):
        raise NotFound(_("Không tìm thấy bài thi."))
    if attempt.user_id != user_id:
        raise PermissionDenied
    return attempt


def _live_answers(attempt: Attempt, closing: bool) -> dict[int, live_answers.LiveAnswer]:
    if attempt.status != AttemptStatus.IN_PROGRESS or not live_answers.enabled():
        return {}
    return live_answers.close(attempt.id) if closing else live_answers.peek(attempt.id)


def _is_correct(item: AttemptItem, selected: list[int] | None) -> bool:
    return bool(selected) and sorted(selected) == sorted(item.version.correct)  # type: ignore[arg-type]


def close(attempt: Attempt, now: datetime | None = None) -> Attempt:
    """Submit (or, past the deadline, close) the attempt and grade what was saved. Idempotent."""
    if attempt.status == AttemptStatus.SUBMITTED:
        return attempt
    now = now or utcnow()
    live = _live_answers(attempt, closing=True)
    graded = []
    for item in attempt.items:
        answer = live.get(item.id)
        if answer is not None and answer.seq > item.answer_seq:
            values = _answer(item, answer.positions, answer.seq, answer.saved_at, answer.answer_ms)
        else:
            values = {column: getattr(item, column) for column in _ANSWER_COLUMNS}
        values["is_correct"] = _is_correct(item, values["selected"])  # type: ignore[arg-type]
        graded.append((item, values))
    _write_items(graded)
    submitted_at = min(now, attempt.deadline_at)
    attempt.score = sum(bool(values["is_correct"]) for _item, values in graded)
    attempt.status = AttemptStatus.SUBMITTED
    attempt.submitted_at = submitted_at
    attempt.duration_ms = max(0, int((submitted_at - attempt.started_at).total_seconds() * 1000))
    db.session.flush()
    attempt_closed.send(attempt)
    return attempt


def _write_items(graded: list[tuple[AttemptItem, dict[str, object]]]) -> None:
    # One bulk UPDATE by primary key instead of the unit of work (a tenth of the servers' CPU under
    # load went to flushing graded items); the objects are then set to what the rows now hold.
    if not graded:
        return
    db.session.execute(update(AttemptItem), [{"id": item.id, **values} for item, values in graded])
    for item, values in graded:
        for column, value in values.items():
            set_committed_value(item, column, value)


def close_due(context: str | None = None, now: datetime | None = None) -> int:
    """Close every attempt whose deadline has passed (abandoned ones are graded with what was saved)."""
    now = now or utcnow()
    query = select(Attempt).where(
        Attempt.status == AttemptStatus.IN_PROGRESS, Attempt.deadline_at < now - grace()
    )
    if context is not None:
        query = query.where(Attempt.context == context)
    attempts = list(db.session.scalars(query))
    for attempt in attempts:
        close(attempt, now)
    return len(attempts)


def attempt_state(attempt: Attempt, now: datetime | None = None, reveal: bool = False) -> dict[str, object]:
    """What the browser needs to show (and resume) the attempt. Correct answers and explanations
    are included only when ``reveal`` is true and the attempt is submitted."""
    now = now or utcnow()
    reveal = reveal and attempt.status == AttemptStatus.SUBMITTED
    live = _live_answers(attempt, closing=False)
    items = []
    for item in attempt.items:
        version = item.version
        selected = [item.choice_order.index(i) for i in (item.selected or [])]
        seq = item.answer_seq
        answer = live.get(item.id)
        if answer is not None and answer.seq > seq:
            selected, seq = answer.positions, answer.seq
        shown = {
            "id": item.id,
            "position": item.position,
            "kind": version.kind,
            "text": version.text,
            "choices": [version.choices[i] for i in item.choice_order],
            "selected": selected,
            "seq": seq,
        }
        if reveal:
            shown["correct"] = [item.choice_order.index(i) for i in version.correct]
            shown["is_correct"] = item.is_correct
            shown["explanation"] = version.explanation
        items.append(shown)
    in_progress = attempt.status == AttemptStatus.IN_PROGRESS
    remaining = max(0.0, (attempt.deadline_at - now).total_seconds()) if in_progress else 0
    return {
        "id": attempt.id,
        "status": attempt.status,
        "server_time": now.isoformat(),
        "deadline": attempt.deadline_at.isoformat(),
        "remaining_seconds": round(remaining, 1),
        "items": items,
        "answered": sum(1 for i in items if i["selected"]),
        "score": attempt.score if attempt.status == AttemptStatus.SUBMITTED else None,
        "max_score": attempt.max_score,
        "duration_ms": attempt.duration_ms,
    }


def count_attempts(user: User, context: str, since: datetime | None = None) -> int:
    query = select(func.count()).where(Attempt.user_id == user.id, Attempt.context == context)
    if since is not None:
        query = query.where(Attempt.started_at >= since)
    return db.session.scalar(query) or 0
