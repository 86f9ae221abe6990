"""The demo question bank, loaded by `flask demo load` from data/demo/question_bank.csv.

The CSV is the single source: it is imported through quiz.importer, the path staff files take, so
the demo bank obeys the same rules and the file doubles as an example of the import layout.
"""

from __future__ import annotations

import random

from flask_babel import gettext as _
from sqlalchemy import exists, select

from core.config import ROOT
from core.demo import DemoPart
from core.errors import ValidationError
from core.extensions import db
from quiz.importer import import_questions, read_questions_file
from quiz.models import Question, QuestionStatus

DEMO_BANK_FILE = ROOT / "data" / "demo" / "question_bank.csv"


def _present() -> bool:
    return bool(db.session.scalar(select(exists().where(Question.id.isnot(None)))))


def load_demo_bank() -> int:
    """Import the demo questions as approved; how many. A bad row in the file fails the whole load."""
    with DEMO_BANK_FILE.open("rb") as stream:
        table = read_questions_file(DEMO_BANK_FILE.name, stream)
    plan = import_questions(table.rows, author=None, status=QuestionStatus.APPROVED, headers=table.headers)
    if not plan.written:
        raise ValidationError(_("Tệp %(f)s có lỗi: %(e)s", f=DEMO_BANK_FILE.name, e="; ".join(plan.error_lines())))
    return len(plan.question_ids)


def _build(_rng: random.Random) -> None:  # the file fixes the data: no randomness needed
    load_demo_bank()


DEMO_BANK = DemoPart(name="question bank", present=_present, build=_build)
