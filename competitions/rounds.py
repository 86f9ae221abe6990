"""Rules of rounds (đợt thi) and series (mùa thi): what a valid round is, who may create and change
it, publishing, freezing after the first attempt, phases, who may take part, and cutting a season
into weekly, monthly or quarterly rounds.

Times are aware UTC datetimes. ``closes_at`` is exclusive: a weekly round opens Monday 00:00 local
time and closes at the next Monday 00:00, so it is open through Sunday 23:59:59; screens show and
take the last open minute (``last_open_minute``, "Sunday 23:59"), never the exclusive bound.

Once anyone has started an attempt (a quiz Attempt with ``round.context`` exists) the round is
frozen: its questions and rules stay as the players met them; only the title and the description
may still change. Before that, a published round may be edited or unpublished.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, case, exists, false, null, or_, select
from sqlalchemy.sql.elements import ColumnElement

from competitions.models import (
    DEFAULT_TIE_BREAKS,
    AttemptPolicy,
    PeriodKind,
    PredictionKind,
    Reveal,
    Round,
    RoundStatus,
    Series,
    TeamScoring,
    TieBreak,
)
from core import locks
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from core.locks import LockSpace
from core.org.models import Unit
from core.org.scope import in_scope, unit_scope_clause
from core.org.service import PARENT_KINDS
from core.teams.service import active_membership_of, is_staff
from core.text import clean
from core.timeutil import local_midnight, to_local, week_start
from quiz import bank
from quiz.attempts import DrawRule, shortfalls
from quiz.models import Attempt, Category, Difficulty

MIN_TIME_LIMIT, MAX_TIME_LIMIT = 1, 180  # minutes
MAX_QUESTIONS = 100  # per attempt, all rows of the draw plan together
MAX_ATTEMPTS = 10  # the N of "best of N"
MAX_TITLE, MAX_DESCRIPTION, MAX_PREDICTION = 200, 2000, 300  # column widths (description: a sane cap)
MIN_YEAR, MAX_YEAR = 2020, 2100
#: a round covers a province, a district or a commune-level unit: the units that have units below them.
SCOPE_KINDS = PARENT_KINDS
#: what may still change once somebody has started an attempt.
EDITABLE_WHEN_FROZEN = frozenset({"title", "description"})
ONE_MINUTE = timedelta(minutes=1)


class Phase(StrEnum):
    UPCOMING = "upcoming"  # sắp mở
    OPEN = "open"  # đang mở
    CLOSED = "closed"  # đã đóng


PHASE_LABELS = {Phase.UPCOMING: _l("Sắp mở"), Phase.OPEN: _l("Đang mở"), Phase.CLOSED: _l("Đã đóng")}
STATUS_LABELS = {RoundStatus.DRAFT: _l("Bản nháp"), RoundStatus.PUBLISHED: _l("Đã công bố")}
PERIOD_LABELS = {
    PeriodKind.WEEKLY: _l("Tuần"),
    PeriodKind.MONTHLY: _l("Tháng"),
    PeriodKind.QUARTERLY: _l("Quý"),
    PeriodKind.YEARLY: _l("Năm"),
    PeriodKind.CUSTOM: _l("Tùy chọn"),
}
POLICY_LABELS = {
    AttemptPolicy.ONCE: _l("Chỉ một lượt"),
    AttemptPolicy.BEST_OF_N: _l("Nhiều lượt (tối đa N), tính lượt cao nhất"),
    AttemptPolicy.DAILY_BEST: _l("Mỗi ngày một lượt, tính lượt cao nhất trong đợt"),
}
PREDICTION_LABELS = {
    PredictionKind.PARTICIPANTS: _l("Số người tham gia đợt thi"),
    PredictionKind.PERFECT_SCORES: _l("Số người trả lời đúng tất cả các câu"),
}
TIE_BREAK_LABELS = {
    TieBreak.SCORE: _l("Điểm cao hơn"),
    TieBreak.PREDICTION: _l("Dự đoán gần đúng hơn"),
    TieBreak.DURATION: _l("Thời gian làm bài ngắn hơn"),
    TieBreak.SUBMITTED_AT: _l("Nộp bài sớm hơn"),
}
REVEAL_LABELS = {
    Reveal.AFTER_CLOSE: _l("Sau khi đợt thi đóng"),
    Reveal.AFTER_SUBMIT: _l("Ngay sau khi nộp bài"),
}
TEAM_SCORING_LABELS = {
    TeamScoring.ACTIVE_MEAN: _l("Trung bình trên mọi thành viên (người không thi tính 0 điểm)"),
    TeamScoring.PARTICIPANT_MEAN: _l("Trung bình trên những người đã thi"),
    TeamScoring.BEST_K: _l("Trung bình của K người điểm cao nhất"),
}
# Stored data, not screen text: players read the question in Vietnamese whatever the organiser's language.
DEFAULT_PREDICTION_QUESTIONS = {
    PredictionKind.PARTICIPANTS: "Có bao nhiêu người tham gia đợt thi này?",
    PredictionKind.PERFECT_SCORES: "Có bao nhiêu người trả lời đúng tất cả các câu hỏi của đợt thi này?",
}
#: series kinds and what a season of each is cut into (a yearly or custom round stands alone).
SEASON_KINDS = (PeriodKind.WEEKLY, PeriodKind.MONTHLY, PeriodKind.QUARTERLY)


# --- input ---------------------------------------------------------------------------------------


def _default_tie_breaks() -> list[str]:
    return [str(t) for t in DEFAULT_TIE_BREAKS]


@dataclass
class Settings:
    """What a round and every round of a series share. Field names are the form fields' names,
    so a ValidationError's ``field`` points at the input at fault."""

    scope_unit_id: int | None
    draw_plan: list[DrawRule]
    time_limit_minutes: int | None
    description: str = ""
    allow_public: bool = False
    attempt_policy: str = AttemptPolicy.ONCE
    max_attempts: int | None = None  # used by BEST_OF_N only
    prediction_kind: str | None = None
    prediction_question: str = ""  # empty: the default question of the kind
    tie_breaks: list[str] = field(default_factory=_default_tie_breaks)
    reveal: str = Reveal.AFTER_CLOSE
    live_board: bool = True
    team_scoring: str = TeamScoring.ACTIVE_MEAN
    best_k: int | None = 3  # used by BEST_K only


@dataclass
class RoundInput:
    title: str
    opens_at: datetime | None
    closes_at: datetime | None  # exclusive
    settings: Settings
    period_kind: str = PeriodKind.CUSTOM


@dataclass
class SeriesInput:
    period_kind: str
    year: int | None
    quarter: int | None  # weekly seasons: the quarter whose Mondays start the rounds
    settings: Settings
    title: str = ""  # empty: "Thi tuần – Quý 1/2027"


def round_input(round_: Round) -> RoundInput:
    """What the round holds, as the edit form shows it (and as a frozen round must be resubmitted)."""
    return RoundInput(
        title=round_.title,
        opens_at=round_.opens_at,
        closes_at=round_.closes_at,
        period_kind=round_.period_kind,
        settings=Settings(
            scope_unit_id=round_.scope_unit_id,
            draw_plan=plan_rules(round_),
            time_limit_minutes=round_.time_limit_seconds // 60,
            description=round_.description,
            allow_public=round_.allow_public,
            attempt_policy=round_.attempt_policy,
            max_attempts=round_.max_attempts,
            prediction_kind=round_.prediction_kind,
            prediction_question=round_.prediction_question,
            tie_breaks=list(round_.tie_breaks),
            reveal=round_.reveal,
            live_board=round_.live_board,
            team_scoring=round_.team_scoring,
            best_k=round_.best_k,
        ),
    )


def plan_rules(round_: Round) -> list[DrawRule]:
    return [DrawRule.from_dict(rule) for rule in round_.draw_plan]


# --- validation ----------------------------------------------------------------------------------


def _choice(value: str | None, allowed: type[StrEnum], field_name: str, message: str) -> str:
    if value not in {str(member) for member in allowed}:
        raise ValidationError(message, field=field_name)
    return str(value)


def _check_title(title: str) -> str:
    title = clean(title)
    if not title:
        raise ValidationError(_("Chưa nhập tên đợt thi."), field="title")
    if len(title) > MAX_TITLE:
        raise ValidationError(_("Tên dài quá %(n)d ký tự.", n=MAX_TITLE), field="title")
    return title


def _check_description(text: str) -> str:
    text = bank.clean_multiline(text)
    if len(text) > MAX_DESCRIPTION:
        raise ValidationError(_("Mô tả dài quá %(n)d ký tự.", n=MAX_DESCRIPTION), field="description")
    return text


def _check_scope(unit_id: int | None, actor: User) -> Unit:
    unit = db.session.get(Unit, unit_id) if unit_id else None
    if unit is None:
        raise ValidationError(_("Hãy chọn phạm vi của đợt thi."), field="scope_unit_id")
    if unit.kind_enum not in SCOPE_KINDS:
        raise ValidationError(
            _("Phạm vi đợt thi là tỉnh, huyện hoặc xã/phường/đặc khu, không phải ấp hay doanh nghiệp."),
            field="scope_unit_id",
        )
    if not unit.active:
        raise ValidationError(_("Đơn vị “%(u)s” đã ngừng hoạt động.", u=unit.name), field="scope_unit_id")
    if not can_manage(actor, unit):
        raise ValidationError(_("Đơn vị “%(u)s” nằm ngoài phạm vi của bạn.", u=unit.name), field="scope_unit_id")
    return unit


def _check_plan(plan: list[DrawRule]) -> list[dict[str, object]]:
    if not plan:
        raise ValidationError(_("Chưa có câu hỏi nào: hãy nhập số câu cho ít nhất một dòng."), field="draw_plan")
    active = {category.id for category in bank.categories(active_only=True)}
    levels = {str(level) for level in Difficulty}
    for row, rule in enumerate(plan, start=1):
        if not 1 <= rule.count <= MAX_QUESTIONS:
            raise ValidationError(_("Số câu phải từ 1 đến %(n)d.", n=MAX_QUESTIONS), field="draw_plan", row=row)
        if rule.category_id is not None and rule.category_id not in active:
            raise ValidationError(_("Lĩnh vực không tồn tại hoặc đã ngừng dùng."), field="draw_plan", row=row)
        if rule.difficulty is not None and rule.difficulty not in levels:
            raise ValidationError(_("Mức độ không hợp lệ."), field="draw_plan", row=row)
    total = sum(rule.count for rule in plan)
    if total > MAX_QUESTIONS:
        raise ValidationError(
            _("Đề có %(n)d câu, nhiều hơn mức tối đa %(max)d câu.", n=total, max=MAX_QUESTIONS), field="draw_plan"
        )
    return [rule.as_dict() for rule in plan]


def _check_time_limit(minutes: int | None) -> int:
    if minutes is None or not MIN_TIME_LIMIT <= minutes <= MAX_TIME_LIMIT:
        raise ValidationError(
            _("Thời gian làm bài phải từ %(a)d đến %(b)d phút.", a=MIN_TIME_LIMIT, b=MAX_TIME_LIMIT),
            field="time_limit_minutes",
        )
    return minutes * 60


def _check_policy(policy: str, max_attempts: int | None) -> tuple[str, int]:
    policy = _choice(policy, AttemptPolicy, "attempt_policy", _("Hãy chọn cách tính lượt thi."))
    if policy != AttemptPolicy.BEST_OF_N:
        return policy, 1  # one attempt, or one a day
    if max_attempts is None or not 2 <= max_attempts <= MAX_ATTEMPTS:
        raise ValidationError(
            _("Số lượt tối đa phải từ 2 đến %(n)d.", n=MAX_ATTEMPTS), field="max_attempts"
        )
    return policy, max_attempts


def _check_prediction(kind: str | None, question: str) -> tuple[str | None, str]:
    if not kind:
        return None, ""
    kind = _choice(kind, PredictionKind, "prediction_kind", _("Loại câu hỏi dự đoán không hợp lệ."))
    question = clean(question) or DEFAULT_PREDICTION_QUESTIONS[PredictionKind(kind)]
    if len(question) > MAX_PREDICTION:
        raise ValidationError(
            _("Câu hỏi dự đoán dài quá %(n)d ký tự.", n=MAX_PREDICTION), field="prediction_question"
        )
    return kind, question


def _check_tie_breaks(order: list[str]) -> list[str]:
    # Score always comes first: every practice ranks by score, and a fast empty submission must
    # never beat a good one. The prediction criterion ties everyone when there is no prediction question.
    known = {str(t) for t in TieBreak}
    if any(item not in known for item in order):
        raise ValidationError(_("Tiêu chí xếp hạng không hợp lệ."), field="tie_breaks")
    if len(set(order)) != len(order):
        raise ValidationError(_("Mỗi tiêu chí xếp hạng chỉ chọn một lần."), field="tie_breaks")
    if not order or order[0] != TieBreak.SCORE:
        raise ValidationError(_("Tiêu chí xếp hạng đầu tiên phải là điểm."), field="tie_breaks")
    return list(order)


def _check_team_scoring(method: str, best_k: int | None) -> tuple[str, int]:
    method = _choice(method, TeamScoring, "team_scoring", _("Hãy chọn cách tính điểm tổ."))
    if method != TeamScoring.BEST_K:
        return method, 3  # the column's default; unused by the other methods
    most = current_app.config["TEAM_MAX_MEMBERS"]
    if best_k is None or not 1 <= best_k <= most:
        raise ValidationError(_("K phải từ 1 đến %(n)d (số thành viên tối đa của một tổ).", n=most), field="best_k")
    return method, best_k


def _settings_values(settings: Settings, actor: User) -> dict[str, object]:
    """The columns the settings become; raises ValidationError naming the first field at fault."""
    scope = _check_scope(settings.scope_unit_id, actor)
    draw_plan = _check_plan(settings.draw_plan)
    time_limit_seconds = _check_time_limit(settings.time_limit_minutes)
    attempt_policy, max_attempts = _check_policy(settings.attempt_policy, settings.max_attempts)
    prediction_kind, prediction_question = _check_prediction(
        settings.prediction_kind, settings.prediction_question
    )
    tie_breaks = _check_tie_breaks(settings.tie_breaks)
    reveal = _choice(settings.reveal, Reveal, "reveal", _("Hãy chọn thời điểm công bố đáp án."))
    team_scoring, best_k = _check_team_scoring(settings.team_scoring, settings.best_k)
    return {
        "description": _check_description(settings.description),
        "scope_unit_id": scope.id,
        "allow_public": bool(settings.allow_public),
        "draw_plan": draw_plan,
        "time_limit_seconds": time_limit_seconds,
        "attempt_policy": attempt_policy,
        "max_attempts": max_attempts,
        "prediction_kind": prediction_kind,
        "prediction_question": prediction_question,
        "tie_breaks": tie_breaks,
        "reveal": reveal,
        "live_board": bool(settings.live_board),
        "team_scoring": team_scoring,
        "best_k": best_k,
    }


def _round_values(data: RoundInput, actor: User) -> dict[str, object]:
    title = _check_title(data.title)
    period_kind = _choice(data.period_kind, PeriodKind, "period_kind", _("Hãy chọn loại đợt thi."))
    if data.opens_at is None:
        raise ValidationError(_("Chưa nhập thời gian mở."), field="opens_at")
    if data.closes_at is None:
        raise ValidationError(_("Chưa nhập thời gian đóng."), field="closes_at")
    if data.closes_at <= data.opens_at:
        raise ValidationError(_("Thời gian đóng phải sau thời gian mở."), field="closes_at")
    values = _settings_values(data.settings, actor)
    if data.closes_at - data.opens_at < timedelta(minutes=data.settings.time_limit_minutes or 0):
        raise ValidationError(_("Đợt thi mở ngắn hơn thời gian làm bài."), field="closes_at")
    return {"title": title, "period_kind": period_kind, "opens_at": data.opens_at, "closes_at": data.closes_at,
            **values}


def describe_rule(rule: DrawRule) -> str:
    """``"2 câu · Kinh tế số · Khó"``; a rule without category or difficulty says "mọi …"."""
    category = db.session.get(Category, rule.category_id) if rule.category_id else None
    return " · ".join((
        _("%(n)d câu", n=rule.count),
        category.name if category else _("mọi lĩnh vực"),
        bank.difficulty_label(rule.difficulty) if rule.difficulty else _("mọi mức độ"),
    ))


def shortfall_message(plan: list[DrawRule]) -> str | None:
    """Why the approved questions cannot fill this plan ("2 câu · Kinh tế số · Khó: … chỉ có 1 câu"), or None."""
    missing = shortfalls(plan)
    if not missing:
        return None
    parts = "; ".join(
        _("%(rule)s: ngân hàng chỉ có %(have)d câu đã duyệt", rule=describe_rule(m.rule), have=m.available)
        for m in missing
    )
    return _("Chưa thể công bố vì ngân hàng chưa đủ câu hỏi: %(parts)s.", parts=parts)


def _require_drawable(plan: list[DrawRule]) -> None:
    message = shortfall_message(plan)
    if message:
        raise ValidationError(message, field="draw_plan")


# --- who may -------------------------------------------------------------------------------------


def can_manage(user: User, unit: Unit) -> bool:
    """Admins act on every unit; organisers and officers on their own unit and below."""
    return is_staff(user) and in_scope(user, unit)


def require_manage(user: User, unit: Unit) -> None:
    if not can_manage(user, unit):
        raise PermissionDenied


def _require_staff(user: User) -> None:
    if not is_staff(user):
        raise PermissionDenied


def _entry_clause(user: User) -> ColumnElement[bool]:
    """Rounds the user may enter (the rule of competitions.play.standing, as SQL for the lists): a
    team member competes for their team, in rounds scoped to the team's unit or a unit above it;
    a member in no team may take the public rounds covering where they live."""
    membership = active_membership_of(user)
    if membership is not None:
        return Round.scope_unit_id.in_(membership.team.unit.ancestor_ids())
    if user.role_code != RoleCode.MEMBER or user.unit is None:
        return false()
    return and_(Round.allow_public, Round.scope_unit_id.in_(user.unit.ancestor_ids()))


# --- state ---------------------------------------------------------------------------------------


def phase(round_: Round, now: datetime | None = None) -> Phase:
    now = now or utcnow()
    if now < round_.opens_at:
        return Phase.UPCOMING
    if now < round_.closes_at:
        return Phase.OPEN
    return Phase.CLOSED


def last_open_minute(closes_at: datetime) -> datetime:
    """The minute shown as the closing time (UTC): a round closing Monday 00:00 shows "Sunday 23:59"."""
    return closes_at - ONE_MINUTE


def closing_after(last_minute: datetime) -> datetime:
    """The exclusive closing time of a round open through the whole of ``last_minute`` (aware)."""
    return last_minute.replace(second=0, microsecond=0) + ONE_MINUTE


def is_frozen(round_: Round) -> bool:
    """True once anybody has started an attempt in this round."""
    return bool(db.session.scalar(select(exists().where(Attempt.context == round_.context))))


def started_round_ids(round_ids: list[int]) -> set[int]:
    """Which of these rounds have attempts (one query for a list screen)."""
    if not round_ids:
        return set()
    # A transient Round names the context exactly as Round.context does for a stored one.
    contexts = {Round(id=round_id).context: round_id for round_id in round_ids}
    found = db.session.scalars(select(Attempt.context).where(Attempt.context.in_(contexts)).distinct())
    return {contexts[context] for context in found}


def _lock(round_: Round) -> None:
    """Serialise changes of the rules with attempts starting (competitions.play takes it shared)."""
    locks.take(locks.exclusive(LockSpace.ROUND, round_.id))


# --- changes -------------------------------------------------------------------------------------


def _publish_now(round_: Round, now: datetime | None) -> None:
    round_.status = RoundStatus.PUBLISHED
    round_.published_at = now or utcnow()


def create_round(data: RoundInput, actor: User, publish: bool = False, now: datetime | None = None) -> Round:
    """A new round (a draft unless ``publish``); nothing is written when anything is invalid."""
    _require_staff(actor)
    values = _round_values(data, actor)
    if publish:
        _require_drawable(data.settings.draw_plan)
    round_ = Round(created_by_id=actor.id, status=RoundStatus.DRAFT, **values)
    if publish:
        _publish_now(round_, now)
    db.session.add(round_)
    db.session.flush()
    return round_


def _flat(data: RoundInput) -> dict[str, object]:
    values = asdict(data)
    return {**values.pop("settings"), **values}


def update_round(round_: Round, data: RoundInput, actor: User) -> Round:
    """Change a round. Once frozen only the title and description may change: the other fields must
    come back as ``round_input(round_)`` gives them, else the change is refused naming the field."""
    require_manage(actor, round_.scope_unit)
    _lock(round_)
    if is_frozen(round_):
        current = _flat(round_input(round_))
        changed = next(
            (name for name, value in _flat(data).items()
             if name not in EDITABLE_WHEN_FROZEN and value != current[name]),
            None,
        )
        if changed is not None:
            raise ValidationError(
                _("Đã có người làm bài nên câu hỏi và thể lệ của đợt thi không thể thay đổi; "
                  "chỉ sửa được tên và mô tả."),
                field=changed,
            )
        round_.title = _check_title(data.title)
        round_.description = _check_description(data.settings.description)
        return round_
    values = _round_values(data, actor)
    if round_.status == RoundStatus.PUBLISHED and values["draw_plan"] != round_.draw_plan:
        _require_drawable(data.settings.draw_plan)
    for name, value in values.items():
        setattr(round_, name, value)
    db.session.flush()
    return round_


def publish(round_: Round, actor: User, now: datetime | None = None) -> Round:
    """Make the round visible to its players; refused while the bank cannot fill its plan."""
    require_manage(actor, round_.scope_unit)
    if round_.status != RoundStatus.PUBLISHED:
        _require_drawable(plan_rules(round_))
        _publish_now(round_, now)
    return round_


def unpublish(round_: Round, actor: User) -> Round:
    """Back to a draft, only while nobody has started an attempt."""
    require_manage(actor, round_.scope_unit)
    _lock(round_)
    if is_frozen(round_):
        raise ValidationError(_("Đã có người làm bài nên không thể hủy công bố đợt thi này."))
    round_.status = RoundStatus.DRAFT
    round_.published_at = None
    return round_


# --- lists ---------------------------------------------------------------------------------------


def _phase_rank(now: datetime) -> ColumnElement[int]:
    return case((Round.closes_at <= now, 2), (Round.opens_at > now, 1), else_=0)


def staff_rounds(user: User, now: datetime, only: Phase | None = None) -> Select[tuple[Round]]:
    """The rounds a staff member sees: every round of their scope (drafts too), and the published
    rounds of the units above them (which their members take part in, read only). Open first,
    then upcoming (soonest first), then closed (latest first)."""
    _require_staff(user)
    above = Round.scope_unit_id.in_(user.unit.ancestor_ids()) if user.unit is not None else false()
    query = (
        select(Round).join(Unit, Round.scope_unit_id == Unit.id)
        .where(or_(unit_scope_clause(user), and_(above, Round.status == RoundStatus.PUBLISHED)))
    )
    if only is not None:
        query = query.where(_phase_rank(now) == {Phase.OPEN: 0, Phase.UPCOMING: 1, Phase.CLOSED: 2}[only])
    closed = Round.closes_at <= now
    return query.order_by(
        _phase_rank(now), case((closed, null()), else_=Round.opens_at), Round.opens_at.desc(), Round.id
    )


def rounds_for(user: User, now: datetime | None = None) -> list[Round]:
    """Published rounds the user may take part in that are open or still to come, soonest first;
    of a season only its next round to come (a published season would otherwise fill the page)."""
    now = now or utcnow()
    rows = db.session.scalars(
        select(Round)
        .where(Round.status == RoundStatus.PUBLISHED, Round.closes_at > now, _entry_clause(user))
        .order_by(Round.opens_at, Round.id)
    )
    shown, seasons = [], set()
    for round_ in rows:
        if round_.opens_at > now and round_.series_id is not None:
            if round_.series_id in seasons:
                continue
            seasons.add(round_.series_id)
        shown.append(round_)
    return shown


def series_rounds(series: Series, user: User) -> list[Round]:
    """The series' rounds the user sees: all of them for its managers, the published ones otherwise."""
    if can_manage(user, series.scope_unit):
        return list(series.rounds)
    return [round_ for round_ in series.rounds if round_.status == RoundStatus.PUBLISHED]


def can_view_series(user: User, series: Series) -> bool:
    """Its managers, and staff of the units below it (like the list of rounds)."""
    if can_manage(user, series.scope_unit):
        return True
    return is_staff(user) and user.unit is not None and series.scope_unit_id in user.unit.ancestor_ids()


# --- seasons -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeasonRound:
    title: str
    opens_at: datetime
    closes_at: datetime  # exclusive: the next round's opening


def quarter_of(day: date) -> int:
    return (day.month - 1) // 3 + 1


def _month_start(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def _span(first: date, last: date) -> str:
    if first.year == last.year:
        return f"{first:%d/%m}–{last:%d/%m/%Y}"
    return f"{first:%d/%m/%Y}–{last:%d/%m/%Y}"


def _weeks(year: int, quarter: int) -> list[SeasonRound]:
    # A week belongs to the quarter its Monday falls in, so every round is a whole Monday–Sunday
    # week and the seasons of consecutive quarters follow each other without gap or overlap
    # (Q1 2027 runs from Monday 04/01 to Sunday 04/04/2027; Q2 starts Monday 05/04).
    start, end = _month_start(year, quarter * 3 - 2), _month_start(year, quarter * 3 + 1)
    monday = week_start(start + timedelta(days=6))  # the first Monday on or after the quarter's first day
    weeks = []
    while monday < end:
        sunday = monday + timedelta(days=6)
        weeks.append(SeasonRound(
            f"Tuần {len(weeks) + 1} ({_span(monday, sunday)})",
            local_midnight(monday), local_midnight(sunday + timedelta(days=1)),
        ))
        monday += timedelta(days=7)
    return weeks


def _calendar(year: int, months: int, label: str) -> list[SeasonRound]:
    """Rounds of ``months`` calendar months each, from January: "Tháng 3/2027", "Quý 2/2027"."""
    return [
        SeasonRound(
            f"{label} {number}/{year}",
            local_midnight(_month_start(year, (number - 1) * months + 1)),
            local_midnight(_month_start(year, number * months + 1)),
        )
        for number in range(1, 12 // months + 1)
    ]


def season(period_kind: str, year: int | None, quarter: int | None = None) -> list[SeasonRound]:
    """The rounds of one season: the weeks of a quarter, the 12 months or the 4 quarters of a year.
    Titles are stored data, in Vietnamese: "Tuần 1 (04/01–10/01/2027)", "Tháng 3/2027", "Quý 2/2027"."""
    if period_kind not in SEASON_KINDS:
        raise ValidationError(_("Mùa thi gồm các đợt tuần, tháng hoặc quý."), field="period_kind")
    if year is None or not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationError(_("Năm phải từ %(a)d đến %(b)d.", a=MIN_YEAR, b=MAX_YEAR), field="year")
    if period_kind == PeriodKind.WEEKLY:
        if quarter not in (1, 2, 3, 4):
            raise ValidationError(_("Hãy chọn quý (1 đến 4)."), field="quarter")
        return _weeks(year, quarter)
    if period_kind == PeriodKind.MONTHLY:
        return _calendar(year, 1, "Tháng")
    return _calendar(year, 3, "Quý")


def _season_title(period_kind: str, periods: list[SeasonRound]) -> str:
    """"Thi tuần – Quý 1/2027" (the quarter of the season's first Monday), "Thi tháng – Năm 2027"."""
    first = to_local(periods[0].opens_at).date()
    if period_kind == PeriodKind.WEEKLY:
        return f"Thi tuần – Quý {quarter_of(first)}/{first.year}"
    return f"Thi {'tháng' if period_kind == PeriodKind.MONTHLY else 'quý'} – Năm {first.year}"


def create_series(data: SeriesInput, actor: User, publish: bool = False, now: datetime | None = None) -> Series:
    """A whole season at once, every round with the same settings (drafts unless ``publish``).
    The same season twice for the same unit is refused."""
    _require_staff(actor)
    periods = season(data.period_kind, data.year, data.quarter)
    title = clean(data.title) or _season_title(data.period_kind, periods)
    if len(title) > MAX_TITLE:
        raise ValidationError(_("Tên dài quá %(n)d ký tự.", n=MAX_TITLE), field="title")
    values = _settings_values(data.settings, actor)
    duplicate = db.session.scalar(select(exists().where(
        Round.series_id.isnot(None), Round.scope_unit_id == values["scope_unit_id"],
        Round.period_kind == data.period_kind, Round.opens_at == periods[0].opens_at,
    )))
    if duplicate:
        raise ValidationError(_("Đơn vị này đã có mùa thi cho khoảng thời gian này."), field="year")
    if publish:
        _require_drawable(data.settings.draw_plan)
    series = Series(title=title, period_kind=data.period_kind, scope_unit_id=values["scope_unit_id"],
                    created_by_id=actor.id)
    db.session.add(series)
    for period in periods:
        round_ = Round(
            title=period.title, period_kind=data.period_kind, opens_at=period.opens_at, closes_at=period.closes_at,
            series=series, created_by_id=actor.id, status=RoundStatus.DRAFT, **values,
        )
        if publish:
            _publish_now(round_, now)
        db.session.add(round_)
    db.session.flush()
    return series


def publish_series(series: Series, actor: User, now: datetime | None = None) -> int:
    """Publish every draft round of the series; returns how many were published."""
    drafts = [round_ for round_ in series.rounds if round_.status == RoundStatus.DRAFT]
    for round_ in drafts:
        publish(round_, actor, now)
    return len(drafts)


def local_today() -> date:
    return to_local(utcnow()).date()

