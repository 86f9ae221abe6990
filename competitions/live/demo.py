"""The demo live contest, added by `flask demo load` once the demo bank is loaded: a team contest
of the demo province, hosted by the provincial Youth Union account, guests welcome, five
single-answer questions of 20 seconds, launched (a PIN, the lobby open), ready to host."""

from __future__ import annotations

import random

from sqlalchemy import exists, select

from competitions.demo import HOST
from competitions.live import contests
from competitions.live.contests import ContestInput
from competitions.live.models import ContestMode, ContestStatus, LiveContest
from core.accounts.models import User
from core.demo import DemoPart, find_province
from core.extensions import db
from quiz.models import Question, QuestionKind, QuestionStatus, QuestionVersion

TITLE = "Rung chuông vàng: Chuyển đổi số cộng đồng"
QUESTIONS = 5
SECONDS = 20


def _host() -> User | None:
    return db.session.scalar(select(User).where(User.username == HOST))


def _present() -> bool:
    host = _host()
    return host is not None and bool(db.session.scalar(select(exists().where(LiveContest.host_id == host.id))))


def _build(rng: random.Random) -> None:
    host = _host()
    if find_province() is None or host is None:
        return
    pool = list(db.session.scalars(
        select(Question.id).join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
        .where(Question.status == QuestionStatus.APPROVED, QuestionVersion.kind == QuestionKind.SINGLE)
        .order_by(Question.id)
    ))
    if len(pool) < QUESTIONS:
        return  # the bank part loaded too few questions; a later `flask demo load` tries again
    contest = contests.create_contest(
        ContestInput(TITLE, ContestMode.TEAM, SECONDS, allow_guests=True, question_ids=rng.sample(pool, QUESTIONS)),
        host,
    )
    contests.launch(contest, host)


def _showcase() -> list[str]:
    host = _host()
    if host is None:
        return []
    ready = db.session.scalars(select(LiveContest).where(
        LiveContest.host_id == host.id, LiveContest.status.in_((ContestStatus.LOBBY, ContestStatus.RUNNING)),
    ).order_by(LiveContest.id))
    return [
        f"Thi trực tiếp / live contest: /live/contests/{c.id}/host (PIN {c.pin}, {HOST}); "
        f"người chơi / players: /live/join?pin={c.pin}"
        for c in ready
    ]


DEMO_LIVE = DemoPart(name="live contest", present=_present, build=_build, showcase=_showcase)
