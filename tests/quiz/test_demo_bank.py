"""The demo question bank: data/demo/question_bank.csv imported through the importer, approved."""

from __future__ import annotations

import random

from sqlalchemy import select

from quiz import bank
from quiz.demo import DEMO_BANK, DEMO_BANK_FILE
from quiz.models import Difficulty, Question, QuestionStatus


def test_the_demo_bank_loads_many_valid_approved_questions_covering_every_category_and_difficulty(session):
    assert not DEMO_BANK.present()
    DEMO_BANK.build(random.Random(0))
    assert DEMO_BANK.present()
    questions = list(session.scalars(select(Question)))
    assert len(questions) >= 150
    assert {q.status for q in questions} == {QuestionStatus.APPROVED}
    assert {q.category_id for q in questions} == {c.id for c in bank.categories()}
    assert {q.difficulty for q in questions} == set(Difficulty)
    for question in questions:  # as the question form would accept them
        version = question.current
        again = bank.validate(bank.QuestionInput(
            text=version.text, choices=version.choices, correct=version.correct, category_id=version.category_id,
            difficulty=version.difficulty, kind=version.kind, explanation=version.explanation,
            source=version.source, tags=question.tag_names,
        ))
        assert (again.text, again.choices, again.correct) == (version.text, version.choices, version.correct)


def test_the_demo_file_is_the_import_layout():
    header = DEMO_BANK_FILE.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("STT,Câu hỏi,Loại câu hỏi,Phương án A,")
