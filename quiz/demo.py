"""The demo question bank, loaded by `flask demo load` from data/demo/question_bank.csv."""

from __future__ import annotations

import random

from sqlalchemy import exists, select

from core.demo import DemoPart
from core.extensions import db
from quiz.models import Question


def _present() -> bool:
    return bool(db.session.scalar(select(exists().where(Question.id.isnot(None)))))


def _build(rng: random.Random) -> None:
    """TODO: import the CSV through quiz.importer."""


DEMO_BANK = DemoPart(name="question bank", present=_present, build=_build)
