"""Taking part in a round: who may, when and how often; starting, answering and submitting.

The attempt itself (draw, shuffle, deadline, saves, grading) is quiz.attempts; this module adds
what a round decides: its scope and public access, its window, its attempt policy, the entry
(team, unit and prediction of the day) and when answers are revealed.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from competitions.models import ROUND_CONTEXT_PREFIX, AttemptPolicy, Entry, PredictionKind, Reveal, Round, RoundStatus
from competitions.rounds import DEFAULT_PREDICTION_QUESTIONS, Phase, phase, plan_rules
from core import locks
from core.accounts import service as accounts
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.errors import NotFound, PermissionDenied, ValidationError
from core.extensions import db
from core.locks import LockSpace
from core.org.models import COMMUNE_LEVEL, Unit
from core.phone import normalise_phone
from core.teams.models import Team
from core.teams.service import active_membership_of
from core.text import clean, fold
from core.timeutil import local_day_start
from quiz import attempts
from quiz.models import Attempt, AttemptStatus

MAX_PREDICTION = 100_000_000  # far above any turnout; keeps the column a plain integer

_CONTEXT = re.compile(r"round:(\d+)")
_WHOLE_NUMBER = re.compile(r"\d+|\d{1,3}(?:[.\s]\d{3})+")  # "." groups thousands in Vietnamese


class NotNow(ValidationError):
    """Well-formed, but the round's window or the person's past attempts refuse it now (HTTP 409)."""


class NotEligible(PermissionDenied):
    """This person may not take part in this round; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def visible_round(round_id: int) -> Round | None:
    """A round the play pages show: published ones only (drafts stay with their organisers)."""
    round_ = db.session.get(Round, round_id)
    return round_ if round_ is not None and round_.status == RoundStatus.PUBLISHED else None


def round_of(attempt: Attempt | None) -> Round | None:
    """The round an attempt belongs to (None for attempts of other contexts, e.g. live contests)."""
    match = _CONTEXT.fullmatch(attempt.context) if attempt is not None else None
    return db.session.get(Round, int(match[1])) if match else None


# --- who may take part -------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """How a person takes part: for a team, as the public (team None, their commune), or not (reason)."""

    team: Team | None = None
    unit: Unit | None = None
    reason: str | None = None

    @property
    def allowed(self) -> bool:
        return self.reason is None


def _within(round_: Round, unit: Unit) -> bool:
    return unit.path.startswith(round_.scope_unit.path)


def commune_of(unit: Unit | None) -> Unit | None:
    """The commune-level unit at or above ``unit`` (a guest's hamlet counts for its commune)."""
    while unit is not None and not unit.is_commune_level:
        unit = unit.parent
    return unit


def standing(user: User, round_: Round) -> Standing:
    scope = round_.scope_unit.name
    membership = active_membership_of(user)
    if membership is not None:
        team = membership.team
        if team.active and _within(round_, team.unit):
            return Standing(team, team.unit)
        return Standing(reason=_(
            "Đợt thi dành cho các Tổ CNSCĐ thuộc %(u)s; tổ của bạn không thuộc phạm vi này.", u=scope
        ))
    if not round_.allow_public:
        return Standing(reason=_("Đợt thi dành cho thành viên các Tổ CNSCĐ thuộc %(u)s.", u=scope))
    if user.role_code != RoleCode.MEMBER:
        return Standing(reason=_("Tài khoản cán bộ không dự thi; hãy dùng tài khoản thành viên."))
    commune = commune_of(user.unit)
    if commune is None or not _within(round_, commune):
        return Standing(reason=_("Đợt thi dành cho người dân thuộc %(u)s.", u=scope))
    return Standing(None, commune)


def guest_communes(round_: Round) -> list[Unit]:
    """Where a guest may say they live: the active commune-level units within the round's scope."""
    rows = db.session.scalars(
        select(Unit).where(
            Unit.path.startswith(round_.scope_unit.path), Unit.kind.in_([str(k) for k in COMMUNE_LEVEL]),
            Unit.active,
        )
    )
    return sorted(rows, key=lambda unit: fold(unit.name))


def register_guest(round_: Round, full_name: str, phone: str, commune_id: int | None) -> User:
    """The account a member of the public takes part with: a new member account without a team
    in their commune, or the one their phone number already has when the names match (accents
    and case aside). An account with a password, or a staff account, must sign in instead: a
    name and a phone number are no proof of who someone is."""
    if not round_.allow_public:
        raise NotEligible(_("Đợt thi này chỉ dành cho thành viên các Tổ CNSCĐ."))
    name = clean(full_name)
    if not name:
        raise ValidationError(_("Chưa nhập họ và tên."), field="full_name")
    number = normalise_phone(phone)
    commune = next((u for u in guest_communes(round_) if u.id == commune_id), None)
    if commune is None:
        raise ValidationError(_("Hãy chọn xã, phường nơi bạn sinh sống."), field="commune_id")
    user = db.session.scalar(select(User).where(User.phone == number))
    if user is None:
        return accounts.create_user(name, RoleCode.MEMBER, unit=commune, phone=number)
    if fold(user.full_name) != fold(name):
        raise ValidationError(
            _("Số điện thoại %(p)s đã đăng ký với một họ tên khác; hãy nhập đúng họ tên đã đăng ký.", p=number),
            field="full_name",
        )
    if user.password_hash is not None or user.role_code != RoleCode.MEMBER or not user.active:
        raise ValidationError(
            _("Số điện thoại %(p)s đã có tài khoản; hãy đăng nhập bằng mật khẩu để dự thi.", p=number),
            field="phone",
        )
    if active_membership_of(user) is None:
        user.unit = commune  # a guest who moved takes part for where they live now
    return user


# --- when and how often --------------------------------------------------------------------------


def attempts_left(user: User, round_: Round, now: datetime) -> int:
    if round_.attempt_policy == AttemptPolicy.DAILY_BEST:
        return max(0, 1 - attempts.count_attempts(user, round_.context, since=local_day_start(now)))
    limit = round_.max_attempts if round_.attempt_policy == AttemptPolicy.BEST_OF_N else 1
    return max(0, limit - attempts.count_attempts(user, round_.context))


def _used_up(round_: Round, now: datetime) -> str:
    if round_.attempt_policy == AttemptPolicy.DAILY_BEST:
        if local_day_start(now) + timedelta(days=1) >= round_.closes_at:
            return _("Hôm nay bạn đã thi; mỗi ngày được thi một lần và hôm nay là ngày cuối của đợt thi.")
        return _("Hôm nay bạn đã thi; mỗi ngày được thi một lần, hãy quay lại vào ngày mai.")
    if round_.attempt_policy == AttemptPolicy.BEST_OF_N:
        return _("Bạn đã dùng hết %(n)d lượt thi của đợt này.", n=round_.max_attempts)
    return _("Bạn đã thi đợt này; mỗi người chỉ được thi một lần.")


def check_start(user: User, round_: Round, now: datetime) -> Standing:
    """The person's standing when they may start a new attempt now; raises why not otherwise."""
    if round_.status != RoundStatus.PUBLISHED:
        raise NotNow(_("Đợt thi chưa được công bố."))
    current = phase(round_, now)
    if current == Phase.UPCOMING:
        raise NotNow(_("Đợt thi chưa mở."))
    if current == Phase.CLOSED:
        raise NotNow(_("Đợt thi đã kết thúc."))
    who = standing(user, round_)
    if who.reason is not None:
        raise NotEligible(who.reason)
    if attempts_left(user, round_, now) == 0:
        raise NotNow(_used_up(round_, now))
    return who


def entry_of(user: User, round_: Round) -> Entry | None:
    # The user is at hand: not joined in again (with their role and unit) on every start.
    query = select(Entry).where(Entry.round_id == round_.id, Entry.user_id == user.id).options(lazyload(Entry.user))
    return db.session.scalar(query)


def has_prediction(round_: Round) -> bool:
    return round_.prediction_kind is not None


def prediction_question(round_: Round) -> str:
    return round_.prediction_question or DEFAULT_PREDICTION_QUESTIONS[PredictionKind(round_.prediction_kind)]


def parse_prediction(value: object) -> int:
    """A non-negative whole number, sent as JSON (1250) or typed ("1250", "1.250", "1 250")."""
    number = -1
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        number = int(re.sub(r"\D", "", value))
    if not 0 <= number <= MAX_PREDICTION:
        raise ValidationError(
            _("Câu hỏi dự đoán: hãy nhập một số nguyên không âm, ví dụ 1250."), field="prediction"
        )
    return number


def _enter(user: User, round_: Round, who: Standing, prediction: object) -> Entry:
    """The person's entry, made at their first start with the team and unit of that day; the
    prediction is given once (a guess made later, knowing the turnout so far, would be unfair).
    The caller holds the person's start lock: no concurrent start makes the entry meanwhile."""
    entry = entry_of(user, round_)
    if entry is not None:
        return entry
    assert who.unit is not None  # an allowed standing always names the unit
    entry = Entry(
        round_id=round_.id, user_id=user.id, team_id=who.team.id if who.team else None, unit_id=who.unit.id,
        prediction=parse_prediction(prediction) if has_prediction(round_) else None, is_public=who.team is None,
    )
    db.session.add(entry)
    return entry


def in_progress(user: User, round_: Round, now: datetime) -> Attempt | None:
    """The person's attempt in progress; one abandoned past its deadline is closed on the way
    (graded with what was saved) and does not count as in progress."""
    active = attempts.active_attempt(user, round_.context)
    if active is not None and attempts.is_due(active, now):
        attempts.close(active, now)
        return None
    return active


def start_attempt(
    user: User, round_: Round, prediction: object = None, now: datetime | None = None,
    rng: random.Random | None = None,
) -> Attempt:
    """Start an attempt, or return the one in progress (two tabs, two phones land on the same)."""
    _lock_starts(round_.id, user.id)
    db.session.refresh(round_)  # an edit may have landed between loading the round and the lock
    return _start_locked(user, round_, prediction, now, rng)


def start_in(round_id: int, user: User, prediction: object = None) -> tuple[Attempt, Round]:
    """``start_attempt`` for the API: the round is read once, under the locks (a start is the
    costliest request of a contest). A draft or unknown round is not found."""
    _lock_starts(round_id, user.id)
    round_ = visible_round(round_id)
    if round_ is None:
        raise NotFound(_("Không tìm thấy đợt thi."))
    return _start_locked(user, round_, prediction), round_


def _lock_starts(round_id: int, user_id: int) -> None:
    # Shared on the round: an organiser's edit (competitions.rounds, exclusive) waits for starts
    # in flight and then finds the round frozen, or a start waits for the edit and draws by the
    # new rules. Exclusive on the person's starts: a double tap or a second phone waits for the
    # first start, then finds its attempt. Other people's starts never wait.
    locks.take(locks.shared(LockSpace.ROUND, round_id), locks.exclusive(LockSpace.PERSON_STARTS, user_id))


def _start_locked(
    user: User, round_: Round, prediction: object = None, now: datetime | None = None,
    rng: random.Random | None = None,
) -> Attempt:
    now = now or utcnow()
    active = in_progress(user, round_, now)
    if active is not None:
        return active
    who = check_start(user, round_, now)
    _enter(user, round_, who, prediction)
    deadline = min(now + timedelta(seconds=round_.time_limit_seconds), round_.closes_at)
    return attempts.start(user, round_.context, plan_rules(round_), deadline, now, rng, serialised=True)


# --- answering and results -------------------------------------------------------------------------


def answers_revealed(round_: Round, now: datetime) -> bool:
    """Whether submitted attempts may show the correct answers and explanations now. After the
    close, once the last answers in flight can no longer be saved."""
    return round_.reveal == Reveal.AFTER_SUBMIT or now > round_.closes_at + attempts.grace()


def attempt_view(attempt: Attempt, round_: Round, now: datetime | None = None) -> dict[str, object]:
    """The attempt's state for the quiz page; an attempt past its deadline is closed first (the
    server closes it whether or not the phone is still there to submit)."""
    now = now or utcnow()
    if attempts.is_due(attempt, now):
        attempts.close(attempt, now)
    revealed = answers_revealed(round_, now)
    state = attempts.attempt_state(attempt, now, reveal=revealed)
    state["round_id"] = round_.id
    state["revealed"] = revealed and attempt.status == AttemptStatus.SUBMITTED
    return state


def _whole_number(value: object, field: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValidationError(_("Dữ liệu gửi lên không hợp lệ (%(f)s).", f=field), field=field)
    return value


def answer(
    user_id: int, attempt_id: int, item_id: object, choices: object, seq: object, now: datetime | None = None
) -> attempts.SavedAnswer:
    """Save the choices (display positions) picked for one item of the person's round attempt;
    see quiz.attempts.save_answer for the ``seq`` rule. Refused once the attempt is over: its
    deadline is never later than the round's closing, so a closed round takes no answers either."""
    item = _whole_number(item_id, "item_id")
    if not isinstance(choices, list):
        raise ValidationError(_("Dữ liệu gửi lên không hợp lệ (%(f)s).", f="choices"), field="choices")
    positions = [_whole_number(choice, "choices") for choice in choices]
    number = _whole_number(seq, "seq", minimum=1)
    return attempts.record_answer(attempt_id, user_id, item, positions, number, ROUND_CONTEXT_PREFIX, now)


def submit(attempt: Attempt, round_: Round, now: datetime | None = None) -> dict[str, object]:
    """Submit (idempotent) and return the state with the score, and the answers when revealed."""
    now = now or utcnow()
    attempts.close(attempt, now)
    return attempt_view(attempt, round_, now)


def my_attempts(user: User, round_: Round) -> list[Attempt]:
    return list(db.session.scalars(
        select(Attempt).where(Attempt.user_id == user.id, Attempt.context == round_.context)
        .order_by(Attempt.started_at, Attempt.id)
    ))


# --- the round page ---------------------------------------------------------------------------------


@dataclass
class Overview:
    """What the round page shows to one visitor (``user`` None: not signed in)."""

    round: Round
    phase: Phase
    attempts: list[Attempt]
    active: Attempt | None = None
    entry: Entry | None = None
    standing: Standing | None = None
    can_start: bool = False
    blocker: str | None = None  # why the start button is not there

    @property
    def needs_prediction(self) -> bool:
        return self.can_start and self.entry is None and has_prediction(self.round)


def overview(user: User | None, round_: Round, now: datetime | None = None) -> Overview:
    now = now or utcnow()
    view = Overview(round_, phase(round_, now), attempts=[])
    if user is None:
        return view
    view.active = active = in_progress(user, round_, now)
    view.attempts = my_attempts(user, round_)
    view.entry = entry_of(user, round_)
    view.standing = standing(user, round_)
    if active is None:
        try:
            check_start(user, round_, now)
            view.can_start = True
        except (NotNow, NotEligible) as refusal:
            view.blocker = refusal.message
    return view
