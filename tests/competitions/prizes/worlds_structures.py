"""Shared pieces of the prize structure tests: staff of the test tree, a season, valid inputs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from competitions import rounds
from competitions.models import Series
from competitions.prizes.models import Award, AwardEvent, AwardOwner, PrizeTier
from competitions.prizes.structures import AwardInput, AwardSettings, TierInput
from competitions.rounds import SeriesInput, Settings
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.extensions import db
from quiz.attempts import DrawRule
from tests.factories import Factory, Tree


@dataclass
class Staff:
    admin: User
    organiser: User  # Tỉnh đoàn: the whole province
    officer: User  # cán bộ of Xã Châu Thành
    other_officer: User  # cán bộ of Phường Rạch Giá, beside it


def staff(make: Factory, tree: Tree) -> Staff:
    return Staff(
        admin=make.admin(),
        organiser=make.user(RoleCode.ORGANISER, tree.province, full_name="Tỉnh đoàn"),
        officer=make.user(RoleCode.OFFICER, tree.commune, full_name="Cán bộ Châu Thành"),
        other_officer=make.user(RoleCode.OFFICER, tree.other_commune, full_name="Cán bộ Rạch Giá"),
    )


def season(actor: User, unit_id: int, quiz) -> Series:  # noqa: ANN001 - tests.factories.QuizFactory
    """The monthly season of 2027 for ``unit_id``, drafts (3 approved questions in the bank)."""
    for n in range(3):
        quiz.question(text=f"Câu hỏi mùa thi {n}?")
    settings = Settings(scope_unit_id=unit_id, draw_plan=[DrawRule(3)], time_limit_minutes=10)
    return rounds.create_series(SeriesInput("monthly", 2027, None, settings), actor)


WEEKLY = [
    TierInput("individual", "Giải Nhất", 1, 1_000_000),
    TierInput("individual", "Giải Nhì", 2, 500_000),
    TierInput("individual", "Giải Ba", 3, 300_000),
    TierInput("individual", "Giải Khuyến khích", 5, None),
]


def round_award(round_id: int, **settings: object) -> AwardInput:
    return AwardInput("", str(AwardOwner.ROUND), round_id=round_id, settings=AwardSettings(**settings))


def emulation_award(unit_id: int, period: str = "2026-Q4", **settings: object) -> AwardInput:
    return AwardInput("", str(AwardOwner.EMULATION), period=period, scope_unit_id=unit_id,
                      settings=AwardSettings(**settings))


def counts() -> tuple[int, int, int]:
    """Awards, tiers and events stored (all-or-nothing checks)."""
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Award, PrizeTier, AwardEvent))
