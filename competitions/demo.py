"""The demo rounds, added by `flask demo load` once the demo bank holds enough approved questions:
the weekly season of the current quarter (the current week's round open now) and this month's round,
both for the whole demo province, created by the provincial Youth Union account and published."""

from __future__ import annotations

import random

from sqlalchemy import exists, select

from competitions import rounds
from competitions.models import AttemptPolicy, PeriodKind, PredictionKind, Round, RoundStatus, Series
from competitions.rounds import RoundInput, SeriesInput, Settings
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.demo import PROVINCE, STAFF, DemoPart, find_province
from core.extensions import db
from core.timeutil import week_start
from quiz import bank
from quiz.attempts import DrawRule, shortfalls

#: the account that hosts the demo rounds: Tỉnh đoàn, whose scope is the whole province.
HOST = next(a.username for a in STAFF if a.role == RoleCode.ORGANISER and a.unit == PROVINCE)
WEEKLY_PER_CATEGORY, MONTHLY_PER_CATEGORY = 2, 4  # five categories: 10 and 20 questions


def _present() -> bool:
    province = find_province()
    return province is not None and bool(
        db.session.scalar(select(exists().where(Series.scope_unit_id == province.id)))
    )


def _plan(per_category: int) -> list[DrawRule]:
    return [DrawRule(per_category, category.id) for category in bank.categories()]


def _build(rng: random.Random) -> None:
    province = find_province()
    host = db.session.scalar(select(User).where(User.username == HOST))
    if province is None or host is None:
        return
    weekly = Settings(
        scope_unit_id=province.id, draw_plan=_plan(WEEKLY_PER_CATEGORY), time_limit_minutes=10,
        attempt_policy=AttemptPolicy.ONCE, prediction_kind=PredictionKind.PARTICIPANTS,
        prediction_question="Có bao nhiêu người tham gia đợt thi này?",
    )
    monthly = Settings(
        scope_unit_id=province.id, draw_plan=_plan(MONTHLY_PER_CATEGORY), time_limit_minutes=20,
        attempt_policy=AttemptPolicy.BEST_OF_N, max_attempts=3,
    )
    if shortfalls(weekly.draw_plan) or shortfalls(monthly.draw_plan):
        return  # the bank part loaded too few questions; a later `flask demo load` tries again
    today = rounds.local_today()
    monday = week_start(today)  # the current week belongs to the quarter of its Monday
    rounds.create_series(
        SeriesInput(PeriodKind.WEEKLY, monday.year, rounds.quarter_of(monday), weekly), host, publish=True
    )
    month = rounds.season(PeriodKind.MONTHLY, today.year)[today.month - 1]
    rounds.create_round(
        RoundInput(month.title, month.opens_at, month.closes_at, monthly, PeriodKind.MONTHLY), host, publish=True
    )

def _showcase() -> list[str]:
    """The demo's open rounds, their live boards and projector pages (paths of the app's address)."""
    now = utcnow()
    province = find_province()
    if province is None:
        return []
    open_now = db.session.scalars(
        select(Round).where(Round.scope_unit_id == province.id, Round.status == RoundStatus.PUBLISHED,
                            Round.opens_at <= now, Round.closes_at > now).order_by(Round.opens_at)
    )
    return [
        f"Đợt thi đang mở / open round: /rounds/{r.id} ({r.title}); bảng xếp hạng trực tiếp / live board: "
        f"/boards/{r.context}:people; trình chiếu / projector: /boards/{r.context}:teams/projector"
        for r in open_now
    ]


DEMO_ROUNDS = DemoPart(name="rounds", present=_present, build=_build, showcase=_showcase)
