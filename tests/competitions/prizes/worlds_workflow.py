"""A closed round with its award, for the workflow, review and public page tests.

``build(make)`` makes, in Tỉnh An Giang (tests.factories.Tree):
- a round scoped to Xã Châu Thành that closed a week after T0 (2025), taken by five people of
  "Tổ Ấp Phước Lợi" (a leader, a deputy, three members) and one of "Tổ Ấp Tân Hòa";
- an award of the round: Giải Nhất (1) and Giải Nhì (1) for individuals, one team prize and one
  collective prize;
- staff: an admin, a second admin, the officer of Xã Châu Thành (manages the award), an officer of
  Phường Rạch Giá (does not), and the officer's colleague of the same commune (told of a collective prize).

Scores (3 questions): An 3 (60 s), Bình 2 (70 s), Cường 2 (70 s, the same moment as Bình: a tie
for Giải Nhì unless ``tie=False``, then Cường takes 90 s), Dũng 1, Em 1, Phúc (the other team) 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from competitions.models import Round
from competitions.prizes.models import Audience, Award, AwardOwner, PrizeTier
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.extensions import db
from core.teams.models import Team, TeamRole
from tests.competitions.test_results import T0, WEEK, Contest
from tests.factories import Factory, Tree

AFTER = T0 + 2 * WEEK  # the round has closed and can be finalised
BEFORE = T0 + timedelta(days=3)  # the round still runs
TIERS = [
    (Audience.INDIVIDUAL, "Giải Nhất", 1),
    (Audience.INDIVIDUAL, "Giải Nhì", 1),
    (Audience.TEAM, "Giải tổ xuất sắc", 1),
    (Audience.UNIT, "Giải tập thể", 1),
]


@dataclass
class World:
    tree: Tree
    round: Round
    award: Award
    team: Team
    other_team: Team
    people: dict[str, User]
    admin: User
    admin2: User
    officer: User
    colleague: User
    elsewhere: User
    extra: dict[str, object] = field(default_factory=dict)

    def p(self, name: str) -> str:
        return f"p{self.people[name].id}"

    def tier(self, label: str) -> PrizeTier:
        return next(t for t in self.award.tiers if t.label == label)


def _member(contest: Contest, make: Factory, team: Team, name: str, role: str = TeamRole.MEMBER) -> User:
    membership = make.member(team, role, full_name=name)
    membership.requested_at = membership.joined_at = T0 - timedelta(days=30)
    db.session.flush()
    return membership.user


def make_award(round_: Round, tiers=TIERS, title: str = "Giải thưởng Tuần 1") -> Award:  # noqa: ANN001
    award = Award(title=title, owner=AwardOwner.ROUND, round_id=round_.id, scope_unit_id=round_.scope_unit_id)
    award.tiers = [PrizeTier(audience=a, label=label, count=count, position=n)
                   for n, (a, label, count) in enumerate(tiers)]
    db.session.add(award)
    db.session.flush()
    return award


def build(make: Factory, tie: bool = True, tiers=TIERS) -> World:  # noqa: ANN001
    contest = Contest(make)
    tree = make.tree()
    team = make.team(tree.hamlet, "Tổ Ấp Phước Lợi")
    other = make.team(tree.hamlet2, "Tổ Ấp Tân Hòa")
    people = {
        "An": _member(contest, make, team, "Nguyễn Văn An", TeamRole.LEADER),
        "Bình": _member(contest, make, team, "Trần Thị Bình", TeamRole.DEPUTY),
        "Cường": _member(contest, make, team, "Lê Văn Cường"),
        "Dũng": _member(contest, make, team, "Phạm Văn Dũng"),
        "Em": _member(contest, make, team, "Võ Thị Em"),
        "Phúc": _member(contest, make, other, "Đặng Văn Phúc", TeamRole.LEADER),
    }
    round_ = contest.round(tree.commune, title="Tuần 1 — Chuyển đổi số")
    at = T0 + timedelta(hours=2)
    contest.take(round_, people["An"], 3, 60, at)
    contest.take(round_, people["Bình"], 2, 70, at)
    contest.take(round_, people["Cường"], 2, 70 if tie else 90, at)
    contest.take(round_, people["Dũng"], 1, 50, at + timedelta(hours=1))
    contest.take(round_, people["Em"], 1, 55, at + timedelta(hours=1))
    contest.take(round_, people["Phúc"], 0, 40, at + timedelta(hours=1))
    return World(
        tree=tree, round=round_, award=make_award(round_, tiers), team=team, other_team=other, people=people,
        admin=make.admin("Lê Quản Trị"), admin2=make.admin("Hồ Quản Trị Hai"),
        officer=make.user(RoleCode.OFFICER, tree.commune, full_name="Cán Bộ Châu Thành"),
        colleague=make.user(RoleCode.ORGANISER, tree.commune, full_name="Bí Thư Đoàn Xã"),
        elsewhere=make.user(RoleCode.OFFICER, tree.other_commune, full_name="Cán Bộ Rạch Giá"),
    )

