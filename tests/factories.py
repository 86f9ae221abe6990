"""Factories that build real rows through the services (so tests exercise the same rules)."""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import dataclass
from datetime import timedelta

from werkzeug.security import generate_password_hash

from core.accounts import service as accounts
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.extensions import db
from core.org import service as org
from core.org.models import Unit, UnitKind
from core.teams import service as teams
from core.teams.models import Membership, Team, TeamRole
from quiz import bank
from quiz.models import Attempt, AttemptItem, AttemptStatus, Difficulty, Question, QuestionStatus

_PHONES = itertools.count(1)
_USERNAMES = itertools.count(1)


def field_errors(page: str, field: str) -> list[str]:
    """The error messages the _forms.html ``field`` macro rendered under one form field."""
    pattern = rf'<p class="error" id="{re.escape(field)}-error" role="alert">(.*?)</p>'
    return [html.unescape(m) for m in re.findall(pattern, page, flags=re.S)]


def flashes(page: str, category: str = "error") -> list[str]:
    pattern = rf'<p class="flash flash-{category}"[^>]*>(.*?)</p>'
    return [html.unescape(m) for m in re.findall(pattern, page, flags=re.S)]


@dataclass
class Tree:
    """A province with both shapes: communes straight under it, and an old-style district."""

    province: Unit
    commune: Unit  # Xã Châu Thành, directly under the province
    hamlet: Unit  # Ấp Phước Lợi, in Châu Thành
    hamlet2: Unit  # Ấp Tân Hòa, in Châu Thành
    other_commune: Unit  # Phường Rạch Giá, beside Châu Thành
    other_hamlet: Unit  # Khu phố 1, in Rạch Giá
    district: Unit  # Huyện Giồng Riềng
    district_commune: Unit  # Xã Thạnh Hưng, under the district
    district_hamlet: Unit  # Ấp Thạnh Lợi
    enterprise: Unit  # an enterprise under Rạch Giá


class Factory:
    PASSWORD = "mat-khau-thu"  # noqa: S105 - test password
    _HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")  # fast to check in tests

    _default: Unit | None = None

    def default_unit(self) -> Unit:
        """A commune for users whose unit does not matter to the test."""
        if self._default is None:
            province = self.unit("Tỉnh Mặc Định", UnitKind.PROVINCE)
            self._default = self.unit("Xã Mặc Định", UnitKind.COMMUNE, province)
        return self._default

    def phone(self) -> str:
        return f"0912{next(_PHONES):06d}"

    def unit(self, name: str, kind: UnitKind | str, parent: Unit | None = None) -> Unit:
        return org.create_unit(name, kind, parent)

    def tree(self) -> Tree:
        province = self.unit("Tỉnh An Giang", UnitKind.PROVINCE)
        commune = self.unit("Xã Châu Thành", UnitKind.COMMUNE, province)
        other = self.unit("Phường Rạch Giá", UnitKind.WARD, province)
        district = self.unit("Huyện Giồng Riềng", UnitKind.DISTRICT, province)
        district_commune = self.unit("Xã Thạnh Hưng", UnitKind.COMMUNE, district)
        return Tree(
            province=province,
            commune=commune,
            hamlet=self.unit("Ấp Phước Lợi", UnitKind.HAMLET, commune),
            hamlet2=self.unit("Ấp Tân Hòa", UnitKind.HAMLET, commune),
            other_commune=other,
            other_hamlet=self.unit("Khu phố 1", UnitKind.HAMLET, other),
            district=district,
            district_commune=district_commune,
            district_hamlet=self.unit("Ấp Thạnh Lợi", UnitKind.HAMLET, district_commune),
            enterprise=self.unit("Công ty May Kiên Giang", UnitKind.ENTERPRISE, other),
        )

    def user(
        self, role: RoleCode | str = RoleCode.MEMBER, unit: Unit | None = None,
        full_name: str = "Nguyễn Văn An", username: str | None = None,
    ) -> User:
        if unit is None and role != RoleCode.ADMIN:
            unit = self.default_unit()
        user = accounts.create_user(
            full_name, role=role, unit=unit, phone=None if username else self.phone(), username=username
        )
        user.password_hash = self._HASH
        db.session.flush()
        return user

    def team(self, unit: Unit, name: str | None = None) -> Team:
        return teams.create_team(unit, name)

    def member(
        self, team: Team, role: TeamRole | str = TeamRole.MEMBER, full_name: str = "Trần Thị Bình"
    ) -> Membership:
        user = self.user(RoleCode.MEMBER, team.unit, full_name=full_name)
        return teams.add_member(team, user, role)

    def admin(self, full_name: str = "Lê Quản Trị") -> User:
        return self.user(RoleCode.ADMIN, None, full_name=full_name, username=f"admin{next(_USERNAMES)}")

    def fill(self, team: Team, count: int) -> list[Membership]:
        """``count`` more plain members in ``team``."""
        return [self.member(team, full_name=f"Thành viên {i + 1}") for i in range(count)]


class QuizFactory:
    def __init__(self, make) -> None:  # noqa: ANN001 - tests.factories.Factory
        self.make = make
        self._n = 0

    def category(self, name: str = "Chính quyền số"):  # noqa: ANN201
        return bank.find_category(name)

    def data(self, text: str | None = None, **overrides: object) -> bank.QuestionInput:
        self._n += 1
        values = {
            "text": text or f"Câu hỏi thử số {self._n}: ứng dụng nào là ứng dụng định danh điện tử quốc gia?",
            "choices": ["VNeID", "VssID", "Zalo", "Sổ sức khỏe điện tử"],
            "correct": [0],
            "category_id": self.category().id,
            "difficulty": Difficulty.EASY,
            "explanation": "VNeID do Bộ Công an phát triển.",
            "source": "Quyết định 06/QĐ-TTg",
            "tags": ["vneid"],
        }
        values.update(overrides)
        return bank.QuestionInput(**values)

    def question(self, status: QuestionStatus = QuestionStatus.APPROVED, author=None, **overrides: object) -> Question:  # noqa: ANN001
        return bank.create_question(self.data(**overrides), author, status=status)

    def attempt(self, user, answers: list[tuple[Question, list[int]]], answer_ms: int = 5000) -> Attempt:  # noqa: ANN001
        """A submitted attempt answering each (question, chosen indexes) with the current version."""
        start = utcnow() - timedelta(minutes=5)
        attempt = Attempt(user=user, context="test", status=AttemptStatus.SUBMITTED, started_at=start,
                          deadline_at=start + timedelta(minutes=10), submitted_at=start + timedelta(minutes=2))
        score = 0
        for position, (question, chosen) in enumerate(answers):
            version = question.current
            correct = sorted(chosen) == version.correct
            score += int(correct)
            attempt.items.append(AttemptItem(
                position=position, version=version, choice_order=list(range(len(version.choices))),
                selected=chosen, is_correct=correct, answered_at=start + timedelta(seconds=30), answer_ms=answer_ms,
            ))
        attempt.score, attempt.max_score = score, len(answers)
        db.session.add(attempt)
        db.session.flush()
        return attempt
