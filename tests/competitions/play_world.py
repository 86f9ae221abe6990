"""A small world to take quizzes in: a province, a team in one commune with a member, approved
questions and a published round open now. (Until tests/competitions/conftest.py has make_round.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from competitions.models import Round, RoundStatus
from core.accounts.models import User
from core.db_types import utcnow
from core.extensions import db
from core.org.models import Unit
from core.teams.models import Team
from quiz.attempts import DrawRule
from quiz.models import Question
from tests.factories import Factory, QuizFactory, Tree

QUESTIONS = 8
PER_ATTEMPT = 5


def open_round(scope: Unit, **values: object) -> Round:
    """A published round open from an hour ago for a day: 5 questions in 10 minutes, once."""
    now = utcnow()
    settings: dict[str, object] = {
        "title": "Đợt thi tuần 1", "opens_at": now - timedelta(hours=1), "closes_at": now + timedelta(days=1),
        "scope_unit_id": scope.id, "draw_plan": [DrawRule(PER_ATTEMPT).as_dict()], "time_limit_seconds": 600,
        "status": RoundStatus.PUBLISHED, "published_at": now,
    }
    round_ = Round(**{**settings, **values})
    db.session.add(round_)
    db.session.commit()  # kept when a view rolls back after a refusal (the test's outer transaction still ends it)
    return round_


@dataclass
class PlayWorld:
    make: Factory
    tree: Tree
    team: Team  # in Ấp Phước Lợi, Xã Châu Thành
    member: User
    questions: list[Question]
    round: Round  # open_round() scoped to Xã Châu Thành


@pytest.fixture(name="world")
def world_fixture(make: Factory) -> PlayWorld:
    """Import ``world_fixture`` into a test module to use the ``world`` fixture."""
    tree = make.tree()
    team = make.team(tree.hamlet)
    member = make.member(team, full_name="Nguyễn Thị Thu").user
    quiz = QuizFactory(make)
    questions = [quiz.question(text=f"Câu hỏi số {n}: Đề án 06 là gì?") for n in range(QUESTIONS - 1)]
    questions.append(quiz.question(text="VNeID là ứng dụng định danh điện tử.", choices=["Đúng", "Sai"], correct=[0]))
    return PlayWorld(make, tree, team, member, questions, open_round(tree.commune))
