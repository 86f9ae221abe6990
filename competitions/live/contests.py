"""Preparing a live contest: its questions (picked, or drawn by category and difficulty), its
settings, and launching it with a PIN."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from competitions.live import state
from competitions.live.models import ContestMode, ContestStatus, LiveContest, LivePlayer
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from core.org.scope import in_scope
from core.text import clean
from quiz import attempts
from quiz.attempts import DrawRule
from quiz.models import Question, QuestionStatus, QuestionVersion

MIN_SECONDS, MAX_SECONDS = 5, 120
MAX_QUESTIONS = 100
HOSTS = (RoleCode.ADMIN, RoleCode.ORGANISER, RoleCode.OFFICER)
MODE_LABELS = {ContestMode.INDIVIDUAL: _l("Cá nhân"), ContestMode.TEAM: _l("Đồng đội (theo tổ)")}


@dataclass
class ContestInput:
    title: str
    mode: str = ContestMode.INDIVIDUAL
    seconds_per_question: int | None = 20
    allow_guests: bool = False
    streak_bonus: int | None = 100
    max_players: int | None = 5000
    question_ids: list[int] = field(default_factory=list)  # picked from the bank, in this order
    draw: list[DrawRule] = field(default_factory=list)  # and/or drawn at random


def may_host(user: User, contest: LiveContest) -> bool:
    """The contest's own host, an admin, or staff whose scope holds the host's unit."""
    if user.id == contest.host_id or user.role_code == RoleCode.ADMIN:
        return True
    return user.role_code in HOSTS and contest.unit is not None and in_scope(user, contest.unit)


def _number(value: int | None, low: int, high: int, field_name: str, message: str) -> int:
    if value is None or not low <= value <= high:
        raise ValidationError(message, field=field_name)
    return value


def _versions(question_ids: Sequence[int], draw: Sequence[DrawRule]) -> list[int]:
    """The current versions of the picked approved questions, then those drawn (no question twice)."""
    picked = list(dict.fromkeys(question_ids))
    found = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(picked)))} if picked else {}
    for qid in picked:
        question = found.get(qid)
        if question is None or question.status != QuestionStatus.APPROVED or question.current is None:
            raise ValidationError(_("Câu hỏi #%(id)d không có trong ngân hàng hoặc chưa được duyệt.", id=qid),
                                  field="question_ids")
    versions = [found[qid].current.id for qid in picked]  # type: ignore[union-attr]
    for row, rule in enumerate(draw, start=1):
        if not 1 <= rule.count <= MAX_QUESTIONS:
            raise ValidationError(_("Số câu phải từ 1 đến %(n)d.", n=MAX_QUESTIONS), field="draw", row=row)
    if draw:
        missing = attempts.shortfalls(draw, exclude=picked)
        if missing:
            short = missing[0]
            message = _("Ngân hàng chỉ còn %(n)d câu đã duyệt cho yêu cầu rút %(k)d câu.", n=short.available,
                        k=short.rule.count)
            raise ValidationError(message, field="draw")
        drawn = attempts.draw(draw, secrets.SystemRandom(), exclude=picked)
        versions += [version.id for version in drawn]
    if not versions:
        raise ValidationError(_("Hãy chọn hoặc rút ít nhất một câu hỏi."), field="question_ids")
    if len(versions) > MAX_QUESTIONS:
        raise ValidationError(_("Tối đa %(n)d câu hỏi cho một cuộc thi.", n=MAX_QUESTIONS), field="question_ids")
    return versions


def create_contest(data: ContestInput, host: User) -> LiveContest:
    if host.role_code not in HOSTS:
        raise PermissionDenied
    title = clean(data.title)
    if not title:
        raise ValidationError(_("Chưa nhập tên cuộc thi."), field="title")
    if data.mode not in set(ContestMode):
        raise ValidationError(_("Hãy chọn hình thức thi."), field="mode")
    contest = LiveContest(
        title=title[:200], host_id=host.id, unit_id=host.unit_id, mode=data.mode, allow_guests=bool(data.allow_guests),
        seconds_per_question=_number(data.seconds_per_question, MIN_SECONDS, MAX_SECONDS, "seconds_per_question",
                                     _("Thời gian mỗi câu từ %(a)d đến %(b)d giây.", a=MIN_SECONDS, b=MAX_SECONDS)),
        streak_bonus=_number(data.streak_bonus, 0, 500, "streak_bonus", _("Điểm thưởng chuỗi từ 0 đến 500.")),
        max_players=_number(data.max_players, 2, 20000, "max_players", _("Số người chơi tối đa từ 2 đến 20.000.")),
        version_ids=_versions(data.question_ids, data.draw),
    )
    db.session.add(contest)
    db.session.flush()
    return contest


def launch(contest: LiveContest, actor: User) -> str:
    """Open the lobby: a fresh 6-digit PIN, the game state. Returns the PIN."""
    if not may_host(actor, contest):
        raise PermissionDenied
    if contest.status != ContestStatus.DRAFT:
        raise ValidationError(_("Cuộc thi đã được mở."), field="status")
    for _attempt in range(20):
        pin = f"{secrets.randbelow(900_000) + 100_000}"
        try:
            with db.session.begin_nested():
                contest.pin = pin
                db.session.flush()
            break
        except IntegrityError:
            continue  # a PIN of another open contest: draw again
    else:
        raise ValidationError(_("Không tạo được mã PIN, hãy thử lại."))
    contest.status = ContestStatus.LOBBY
    contest.launched_at = utcnow()
    db.session.flush()
    state.store().open(contest.id)
    return pin


def ensure_game(contest: LiveContest) -> None:
    """A launched contest whose game state is gone (launched by another process without Redis,
    such as `flask demo load`, or kept longer than Redis keeps it) gets its lobby again, with the
    players who had joined. A running contest's questions cannot be brought back this way."""
    store = state.store()
    if contest.status != ContestStatus.LOBBY or store.phase(contest.id) is not None:
        return
    store.open(contest.id)
    for player in players_of(contest):
        if not player.removed:
            store.add_player(contest.id, player.id, player.team_id)


def by_pin(pin: object) -> LiveContest | None:
    if not isinstance(pin, str | int) or not str(pin).strip().isdigit() or len(str(pin).strip()) != 6:
        return None
    return db.session.scalar(select(LiveContest).where(LiveContest.pin == str(pin).strip()))


def versions_of(contest: LiveContest) -> list[QuestionVersion]:
    found = {v.id: v for v in db.session.scalars(select(QuestionVersion).where(
        QuestionVersion.id.in_(contest.version_ids)))}
    return [found[vid] for vid in contest.version_ids]


def contests_for(user: User) -> list[LiveContest]:
    """The contests a person may host, newest first."""
    rows = db.session.scalars(select(LiveContest).order_by(LiveContest.created_at.desc(), LiveContest.id.desc()))
    return [c for c in rows if may_host(user, c)]


def players_of(contest: LiveContest) -> list[LivePlayer]:
    return list(db.session.scalars(
        select(LivePlayer).where(LivePlayer.contest_id == contest.id).order_by(LivePlayer.id)
    ))
