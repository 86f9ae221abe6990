"""Awards written as rows for the proposal tests (the structures service is tested on its own).

- ``award(owner_row, tiers, **settings)``: an award of a round, a series or an emulation period
  (a Period) with its prize tiers, rows of (audience, label, count).
- ``exclude``, ``decide``: an Exclusion or a TieDecision as the workflow writes them.
- ``decided``: an award approved with Winner rows (what earlier rounds of a series leave).
- ``World`` and the ``w`` fixture (import ``w_fixture``): a province with a team in Xã Châu Thành
  and one in Phường Rạch Giá, a closed round of T0 (tests.competitions.test_results.Contest makes
  the attempts with exact scores and times), an admin; ``table``/``line_of`` read a proposal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from competitions.emulation.periods import Period
from competitions.models import Round, Series
from competitions.prizes.models import (
    Audience,
    Award,
    AwardOwner,
    AwardStatus,
    Exclusion,
    PrizeTier,
    TieDecision,
    Winner,
)
from competitions.prizes.proposal import Line, Proposal
from core.accounts.models import User
from core.extensions import db
from core.teams.models import Team
from tests.competitions.test_results import T0, WEEK, Contest, _hours
from tests.factories import Factory, Tree

INDIVIDUAL, TEAM, UNIT = Audience.INDIVIDUAL, Audience.TEAM, Audience.UNIT
WEEKLY = [(INDIVIDUAL, "Giải Nhất", 1), (INDIVIDUAL, "Giải Nhì", 2), (INDIVIDUAL, "Giải Ba", 3)]
TWO = [(INDIVIDUAL, "Giải Nhất", 1), (INDIVIDUAL, "Giải Nhì", 2)]
AFTER = T0 + 2 * WEEK  # the round of T0 has closed


def award(owner: Round | Series | Period, tiers: Sequence[tuple[str, str, int]] = WEEKLY,
          **settings: object) -> Award:
    if isinstance(owner, Round):
        where = {"owner": AwardOwner.ROUND, "round_id": owner.id, "scope_unit_id": owner.scope_unit_id}
    elif isinstance(owner, Series):
        where = {"owner": AwardOwner.SERIES, "series_id": owner.id, "scope_unit_id": owner.scope_unit_id}
    else:
        where = {"owner": AwardOwner.EMULATION, "period": owner.key}
    row = Award(title=str(settings.pop("title", "Giải thưởng")), **{**where, **settings})
    row.tiers = [PrizeTier(audience=audience, label=label, count=count, position=n)
                 for n, (audience, label, count) in enumerate(tiers)]
    db.session.add(row)
    db.session.flush()
    return row


def tier(row: Award, label: str, audience: str = INDIVIDUAL) -> PrizeTier:
    return next(t for t in row.tiers if t.label == label and t.audience == audience)


def exclude(row: Award, subject: str, reason: str, actor: User, active: bool = True) -> Exclusion:
    exclusion = Exclusion(award_id=row.id, subject=subject, reason=reason, actor_id=actor.id, active=active)
    db.session.add(exclusion)
    db.session.flush()
    return exclusion


def decide(row: Award, label: str, tied: Sequence[str], decision: str, actor: User,
           picked: Sequence[str] = (), reason: str = "Hội đồng quyết định", audience: str = INDIVIDUAL) -> TieDecision:
    choice = TieDecision(award_id=row.id, tier_id=tier(row, label, audience).id, tied=list(tied), decision=decision,
                         picked=list(picked), reason=reason, actor_id=actor.id)
    db.session.add(choice)
    db.session.flush()
    return choice


def decided(row: Award, winners: Sequence[tuple[str, User]], status: str = AwardStatus.APPROVED) -> Award:
    """Approve ``row`` with these (tier label, person) individual winners."""
    for position, (label, person) in enumerate(winners, start=1):
        db.session.add(Winner(award_id=row.id, tier_id=tier(row, label).id, position=position, subject=f"p{person.id}",
                              user_id=person.id, name=person.full_name, rank=position))
    row.status = status
    db.session.flush()
    return row


def subjects(people: Sequence[User]) -> list[str]:
    return [f"p{p.id}" for p in people]


# --- the world of the proposal tests -------------------------------------------------------------


@dataclass
class World:
    make: Factory
    tree: Tree
    contest: Contest
    team: Team  # Ấp Phước Lợi, Xã Châu Thành
    other: Team  # Khu phố 1, Phường Rạch Giá
    round: Round  # the province's round of T0, closed at AFTER
    staff: User

    def people(self, count: int, team: Team | None = None, prefix: str = "Người") -> list[User]:
        return [self.contest.member(team or self.team, f"{prefix} {n}") for n in range(count)]

    def ranked(self, people: list[User], ties: dict[int, int] | None = None) -> None:
        """Each person one attempt, in order: 3 right for the first three, fewer after; the person
        at index ``i`` in ``ties`` gets exactly the result of the person at ``ties[i]``."""
        ties = ties or {}
        for n, person in enumerate(people):
            same = ties.get(n, n)
            self.contest.take(self.round, person, max(0, 3 - same // 3), 100 + same, _hours(1))


@pytest.fixture(name="w")
def w_fixture(make: Factory) -> World:
    contest = Contest(make)
    tree = make.tree()
    team, other = make.team(tree.hamlet), make.team(tree.other_hamlet)
    admin = make.admin()
    return World(make, tree, contest, team, other, contest.round(tree.province), admin)


def table(proposal: Proposal, audience: str = INDIVIDUAL) -> list[tuple[str, str, str]]:
    """(name, status, prize) per line of the audience, in ranking order."""
    return [(line.name, line.status, line.tier_label) for line in proposal.of(audience)]


def line_of(proposal: Proposal, subject: str) -> Line:
    return next(line for line in proposal.lines if line.subject == subject)
