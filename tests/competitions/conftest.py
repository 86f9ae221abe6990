"""Shared fixtures for rounds (competitions.rounds).

- ``quiz`` (tests/conftest.py): approved questions, ``quiz.question(category_id=..., difficulty=...)``.
- ``tree``: ``make.tree()`` (tests.factories.Tree: province, commune, hamlet, other_commune, district, ...).
- ``make_round(**overrides) -> Round``: a published round, open now (opened an hour ago, closes in
  7 days), scoped to ``tree.province``, drawing 3 approved questions of any category in 10 minutes,
  one attempt, created by an admin. The first call adds 3 approved questions to the bank.
  Overrides: any field of competitions.rounds.RoundInput (``title``, ``opens_at``, ``closes_at``,
  ``period_kind``) or Settings (``scope_unit_id``, ``draw_plan`` as DrawRules, ``time_limit_minutes``,
  ``attempt_policy``, ``max_attempts``, ``prediction_kind``, ``allow_public``, ``tie_breaks``, ...),
  plus ``status="draft"`` to leave it unpublished and ``actor`` (a staff user) to create it as.
  A plan the bank cannot fill makes publishing fail: add questions first, or ask for a draft.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import timedelta

import pytest

from competitions import rounds
from competitions.models import Round, RoundStatus
from competitions.rounds import RoundInput, Settings
from core.db_types import utcnow
from quiz.attempts import DrawRule
from tests.factories import Tree

_SETTINGS = {f.name for f in fields(Settings)}


@pytest.fixture
def tree(make) -> Tree:
    return make.tree()


@pytest.fixture
def make_round(make, quiz, tree) -> Callable[..., Round]:
    state: dict[str, object] = {}

    def build(status: str = RoundStatus.PUBLISHED, actor: object = None, **overrides: object) -> Round:
        if "admin" not in state:
            state["admin"] = make.admin()
            for n in range(3):
                quiz.question(text=f"Câu hỏi của đợt thi mẫu {n}?")
        now = utcnow()
        settings = Settings(**{
            "scope_unit_id": tree.province.id, "draw_plan": [DrawRule(3)], "time_limit_minutes": 10,
            **{k: v for k, v in overrides.items() if k in _SETTINGS},
        })
        data = RoundInput(**{
            "title": "Đợt thi mẫu", "opens_at": now - timedelta(hours=1), "closes_at": now + timedelta(days=7),
            "settings": settings, **{k: v for k, v in overrides.items() if k not in _SETTINGS},
        })
        return rounds.create_round(data, actor or state["admin"], publish=status == RoundStatus.PUBLISHED)

    return build
