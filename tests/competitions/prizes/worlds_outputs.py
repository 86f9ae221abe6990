"""A decided award for the outputs' tests (certificates, decision list): Award, PrizeTier and Winner
rows inserted directly, as the workflow's approval would leave them.

The round "Đợt thi tuần 45: Chuyển đổi số cộng đồng" of Tỉnh An Giang; individual prizes
Giải Nhất (1, 2,000,000 đ), Giải Nhì (2, 1,000,000 đ), Giải Khuyến khích (1, no value); a team prize
and a unit prize. The first winner's name is stored decomposed (combining marks), as some
spreadsheets and phone keyboards type it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from competitions.models import Round
from competitions.prizes.models import Audience, Award, AwardOwner, AwardStatus, PrizeTier, Winner
from core.accounts.models import User
from core.extensions import db
from core.teams.models import Team, TeamRole
from tests.factories import Factory, Tree

ROUND_TITLE = "Đợt thi tuần 45: Chuyển đổi số cộng đồng"
APPROVED_AT = datetime(2026, 11, 29, 18, 30, tzinfo=UTC)  # 30/11/2026 01:30 in Asia/Ho_Chi_Minh

# (name, tier index, score, time); tier indexes into TIERS
PEOPLE = [
    ("Nguyễn Thị Ánh Tuyết", 0, "10/10", "2 phút 05 giây"),
    ("Huỳnh Văn Bé", 1, "10/10", "3 phút 12 giây"),
    ("Đặng Ngọc Phượng", 1, "9/10", "2 phút 40 giây"),
    ("Trần Thị Bình", 2, "8/10", "4 phút 01 giây"),
]
TIERS = [
    (Audience.INDIVIDUAL, "Giải Nhất", 1, 2_000_000),
    (Audience.INDIVIDUAL, "Giải Nhì", 2, 1_000_000),
    (Audience.INDIVIDUAL, "Giải Khuyến khích", 1, None),
    (Audience.TEAM, "Giải Nhất tập thể", 1, 3_000_000),
    (Audience.UNIT, "Giải đơn vị có tỷ lệ tham gia cao nhất", 1, 5_000_000),
]


@dataclass
class World:
    award: Award
    round: Round
    tiers: list[PrizeTier]
    people: list[Winner]  # in the decision's order
    team_winner: Winner
    unit_winner: Winner
    users: list[User]  # the people who won, in PEOPLE's order
    team: Team
    leader: User
    admin: User


def decided_award(make: Factory, tree: Tree, make_round, status: str = AwardStatus.APPROVED) -> World:  # noqa: ANN001
    round_ = make_round(title=ROUND_TITLE)
    admin = make.admin()
    team = make.team(tree.hamlet)
    leader = make.member(team, TeamRole.LEADER, full_name="Lê Văn Tổ Trưởng").user
    users = [make.member(team, full_name=name).user for name, *_ in PEOPLE]
    award = Award(
        title=f"Giải thưởng {ROUND_TITLE}", owner=AwardOwner.ROUND, round_id=round_.id,
        scope_unit_id=tree.province.id, status=status, created_by_id=admin.id, approved_by_id=admin.id,
        approved_at=APPROVED_AT, published_at=APPROVED_AT if status == AwardStatus.PUBLISHED else None,
    )
    db.session.add(award)
    db.session.flush()
    tiers = [
        PrizeTier(award_id=award.id, audience=audience, label=label, count=count, value_vnd=value, position=n)
        for n, (audience, label, count, value) in enumerate(TIERS)
    ]
    db.session.add_all(tiers)
    db.session.flush()
    people = []
    for position, ((name, tier, score, time), user) in enumerate(zip(PEOPLE, users, strict=True), start=1):
        stored = unicodedata.normalize("NFD", name) if position == 1 else name
        people.append(Winner(
            award_id=award.id, tier_id=tiers[tier].id, position=position, subject=f"p{user.id}", user_id=user.id,
            team_id=team.id, unit_id=tree.commune.id, name=stored, team_name=team.name, unit_name=tree.commune.name,
            phone=user.phone, rank=position, score_text=score, time_text=time,
        ))
    team_winner = Winner(
        award_id=award.id, tier_id=tiers[3].id, position=len(people) + 1, subject=f"t{team.id}", team_id=team.id,
        unit_id=tree.commune.id, name=team.name, unit_name=tree.commune.name, rank=1, score_text="92,5 điểm",
    )
    unit_winner = Winner(
        award_id=award.id, tier_id=tiers[4].id, position=len(people) + 2, subject=f"u{tree.commune.id}",
        unit_id=tree.commune.id, name=tree.commune.name, unit_name=tree.commune.name, rank=1, score_text="87 %",
    )
    db.session.add_all([*people, team_winner, unit_winner])
    db.session.flush()
    db.session.expire(award)
    return World(award, round_, tiers, people, team_winner, unit_winner, users, team, leader, admin)
