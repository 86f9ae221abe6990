"""Factories for the question bank and attempts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.db_types import utcnow
from core.extensions import db
from quiz import bank
from quiz.models import Attempt, AttemptItem, AttemptStatus, Difficulty, Question, QuestionStatus


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


@pytest.fixture
def quiz(make) -> QuizFactory:
    return QuizFactory(make)
