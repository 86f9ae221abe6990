"""The demo's prizes: the closed weekly round before the latest one, awarded and published (individual
prizes by the weekly preset, collective prizes for the communes with the best participation),
so the public results page, the certificates, the decision list and the marked boards show. The
latest closed round is left without prizes, for a visitor to award it themselves."""

from __future__ import annotations

import random

from sqlalchemy import exists, select

from competitions.demo import HOST
from competitions.models import Entry, PeriodKind, Round, RoundStatus
from competitions.prizes import presets, structures, workflow
from competitions.prizes.models import Award, AwardOwner
from competitions.prizes.proposal import propose
from competitions.prizes.structures import AwardInput
from core.accounts.models import User
from core.db_types import utcnow
from core.demo import DemoPart
from core.extensions import db

ADMIN = "admin"


def _present() -> bool:
    return bool(db.session.scalar(select(exists().where(Award.id.isnot(None)))))


def _round() -> Round | None:
    """The closed weekly round before the latest one, if people took it."""
    played = exists().where(Entry.round_id == Round.id)
    rounds = db.session.scalars(
        select(Round).where(Round.status == RoundStatus.PUBLISHED, Round.period_kind == PeriodKind.WEEKLY,
                            Round.closes_at <= utcnow(), played)
        .order_by(Round.closes_at.desc()).limit(2)
    ).all()
    return rounds[1] if len(rounds) == 2 else None


def _build(rng: random.Random) -> None:  # noqa: ARG001 - nothing random: the results decide
    round_ = _round()
    host = db.session.scalar(select(User).where(User.username == HOST))
    admin = db.session.scalar(select(User).where(User.username == ADMIN))
    if round_ is None or host is None or admin is None:
        return
    data = AwardInput(title=f"Giải thưởng {round_.title}", owner=AwardOwner.ROUND, round_id=round_.id)
    data, tiers = presets.apply_preset("weekly_individual", data)
    _, collective = presets.apply_preset("collective_rate", data)
    award = structures.create_award(data, tiers + collective, host)
    for tie in propose(award).ties:  # equal on every tie-break: everyone tied wins, as organisers do
        workflow.settle_tie(award, tie.tier_id, "add", [], "Bằng điểm, bằng thời gian: cùng nhận giải.", host)
    workflow.approve(award, admin)
    workflow.publish(award, host)


def _showcase() -> list[str]:
    award = db.session.scalar(select(Award).order_by(Award.id))
    if award is None:
        return []
    return [
        f"Giải thưởng / prizes: /prizes/{award.id} (kết quả công bố / published), /awards/{award.id}/review "
        f"(xét duyệt / review: admin, tinhdoan), /awards/{award.id}/outputs (giấy chứng nhận, danh sách / "
        "certificates, decision list)"
    ]


DEMO_PRIZES = DemoPart(name="prizes", present=_present, build=_build, showcase=_showcase)
