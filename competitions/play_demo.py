"""Demo attempts: demo members take the demo's rounds through competitions.play, with the clock set
inside each round's window, so that results pages and leaderboards have something to show.

About 60 submitted attempts in the most recent closed round, about 20 in the open one and about
45 in the closed round before (whose prizes the demo awards), if the demo has such rounds. The
showcase team stays out of the open round: its demo accounts are the ones a visitor signs in with
to try the quiz themselves.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import Select, exists, select

from competitions import play
from competitions.models import Entry, Round, RoundStatus
from core.accounts.models import User
from core.db_types import utcnow
from core.demo import SHOWCASE_HAMLET, DemoPart
from core.extensions import db
from core.org.models import Unit
from core.teams.models import Membership, MembershipStatus, Team

CLOSED_ROUND_ATTEMPTS = 60
OPEN_ROUND_ATTEMPTS = 20
EARLIER_ROUND_ATTEMPTS = 45


def _present() -> bool:
    return bool(db.session.scalar(select(exists().where(Entry.id.isnot(None)))))


def _published() -> Select[tuple[Round]]:
    return select(Round).where(Round.status == RoundStatus.PUBLISHED)


def _people(round_: Round, without_showcase: bool) -> list[User]:
    """Active members of the active teams within the round's scope, in a stable order."""
    query = (
        select(User).join(Membership, Membership.user_id == User.id).join(Team).join(Unit, Team.unit_id == Unit.id)
        .where(
            Membership.status == MembershipStatus.ACTIVE, Team.active,
            Unit.path.startswith(round_.scope_unit.path),
        )
        .order_by(User.id)
    )
    if without_showcase:
        query = query.where(Unit.name != SHOWCASE_HAMLET)
    return list(db.session.scalars(query).unique())


def _take(user: User, round_: Round, start_at: datetime, end_by: datetime, skill: float, rng: random.Random) -> None:
    """One attempt started at ``start_at`` and submitted before ``end_by``, right ``skill`` of the time."""
    attempt = play.start_attempt(user, round_, rng.randint(20, 150), now=start_at, rng=rng)
    finish = min(attempt.deadline_at, end_by)
    duration = (finish - start_at) * rng.uniform(0.35, 0.95)
    step = duration / (len(attempt.items) + 1)
    moment = start_at
    for seq, item in enumerate(attempt.items, start=1):
        moment += step
        correct = [item.choice_order.index(i) for i in item.version.correct]
        picks = correct if rng.random() < skill else [rng.randrange(len(item.choice_order))]
        play.answer(user.id, attempt.id, item.id, picks, seq, now=moment)
    play.submit(attempt, round_, now=moment + step)


def _simulate(round_: Round, target: int, end: datetime, rng: random.Random, without_showcase: bool) -> None:
    limit = timedelta(seconds=round_.time_limit_seconds)
    latest = max(round_.opens_at, end - limit)
    span = (latest - round_.opens_at).total_seconds()
    people = _people(round_, without_showcase)
    rng.shuffle(people)
    taken = 0
    for user in people:
        if taken >= target:
            break
        skill = rng.uniform(0.45, 0.95)
        start_at = round_.opens_at + timedelta(seconds=rng.uniform(0, span))
        _take(user, round_, start_at, end, skill, rng)
        taken += 1
        # Where the policy allows it, some come back the next day for a better result.
        again = start_at + timedelta(days=1)
        if again <= latest and taken < target and play.attempts_left(user, round_, again) and rng.random() < 0.3:
            _take(user, round_, again, end, min(1.0, skill + 0.1), rng)
            taken += 1


def _build(rng: random.Random) -> None:
    now = utcnow()
    closed, *earlier = db.session.scalars(
        _published().where(Round.closes_at <= now).order_by(Round.closes_at.desc()).limit(2)
    ).all() or [None]
    running = db.session.scalars(
        _published().where(Round.opens_at <= now, Round.closes_at > now).order_by(Round.opens_at.desc()).limit(1)
    ).first()
    if closed is not None:
        _simulate(closed, CLOSED_ROUND_ATTEMPTS, closed.closes_at, rng, without_showcase=False)
    if running is not None:
        _simulate(running, OPEN_ROUND_ATTEMPTS, now, rng, without_showcase=True)
    for round_ in earlier:  # after the others: their random draws stay what they were
        _simulate(round_, EARLIER_ROUND_ATTEMPTS, round_.closes_at, rng, without_showcase=False)
    db.session.flush()


DEMO_ATTEMPTS = DemoPart(name="round attempts", present=_present, build=_build)
