"""Question bank and attempt tables.

What was asked is immutable: a question's content lives in ``QuestionVersion`` rows, and an
attempt item points at the version it showed. Editing a question that has been asked adds a
version; past attempts keep showing exactly what was asked and which answer was correct then.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.accounts.models import User
from core.db_types import UTCDateTime, utcnow
from core.extensions import db


class QuestionKind(StrEnum):
    SINGLE = "single"  # one correct choice
    MULTIPLE = "multiple"  # several correct choices, all must be picked
    TRUE_FALSE = "true_false"  # choices "Đúng" / "Sai"


class Difficulty(StrEnum):
    EASY = "easy"  # Dễ
    MEDIUM = "medium"  # Trung bình
    HARD = "hard"  # Khó


class QuestionStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"  # the only status ever drawn into a quiz
    RETIRED = "retired"


class Category(db.Model):
    """A topic (lĩnh vực) of the bank; the five defaults come with the migrations."""

    __tablename__ = "quiz_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class Question(db.Model):
    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default=QuestionStatus.DRAFT, index=True)
    # The current version; use_alter breaks the questions <-> question_versions cycle at creation.
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("question_versions.id", use_alter=True)
    )
    # Copies of the current version's fields that lists filter and search on.
    category_id: Mapped[int] = mapped_column(ForeignKey("quiz_categories.id"), index=True)
    difficulty: Mapped[str] = mapped_column(String(10), index=True)
    search_text: Mapped[str] = mapped_column(Text, default="")  # folded: accent-insensitive search
    fingerprint: Mapped[str] = mapped_column(String(500), index=True)  # folded text: duplicate check
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    current: Mapped[QuestionVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True, lazy="joined"
    )
    versions: Mapped[list[QuestionVersion]] = relationship(
        foreign_keys="QuestionVersion.question_id", back_populates="question", order_by="QuestionVersion.number"
    )
    category: Mapped[Category] = relationship(lazy="joined")
    tags: Mapped[list[QuestionTag]] = relationship(
        back_populates="question", cascade="all, delete-orphan", order_by="QuestionTag.name"
    )
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    retired_by: Mapped[User | None] = relationship(foreign_keys=[retired_by_id])

    @property
    def tag_names(self) -> list[str]:
        return [tag.name for tag in self.tags]


class QuestionVersion(db.Model):
    """One immutable wording of a question, as shown to players."""

    __tablename__ = "question_versions"
    __table_args__ = (UniqueConstraint("question_id", "number", name="uq_question_versions_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    number: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[str] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(Text)
    choices: Mapped[list[str]] = mapped_column(JSON)  # 2 to 6 texts, in authoring order (A, B, ...)
    correct: Mapped[list[int]] = mapped_column(JSON)  # indexes into choices, ascending
    explanation: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(300), default="")
    category_id: Mapped[int] = mapped_column(ForeignKey("quiz_categories.id"))
    difficulty: Mapped[str] = mapped_column(String(10))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    question: Mapped[Question] = relationship(foreign_keys=[question_id], back_populates="versions")
    # Loaded on use (many-to-one: once per category per session), so that the items of an attempt,
    # which join their version, stay a light query on the answer-saving path.
    category: Mapped[Category] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def letters(self) -> list[str]:
        return [chr(ord("A") + index) for index in range(len(self.choices))]

    @property
    def correct_letters(self) -> list[str]:
        return [chr(ord("A") + index) for index in self.correct]


class QuestionTag(db.Model):
    __tablename__ = "question_tags"

    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(60), primary_key=True, index=True)

    question: Mapped[Question] = relationship(back_populates="tags")


class AttemptStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


class Attempt(db.Model):
    """One person's run through a drawn set of questions. ``context`` names what it is for
    (e.g. "round:42"), set by the package that owns it; quiz knows nothing of rounds."""

    __tablename__ = "attempts"
    __table_args__ = (
        # At most one attempt in progress per person and context, whatever the races (two tabs,
        # two phones, a double click): the database refuses the second.
        Index(
            "uq_attempts_one_in_progress", "user_id", "context", unique=True,
            sqlite_where=text("status = 'in_progress'"), postgresql_where=text("status = 'in_progress'"),
        ),
        # A round's attempts by status (results, closing due attempts); a status-only index would
        # lead SQLite to read every round's attempts.
        Index("ix_attempts_context_status", "context", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    context: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(12), default=AttemptStatus.IN_PROGRESS)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[int] = mapped_column(Integer, default=0)
    max_score: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[int | None] = mapped_column(Integer)

    items: Mapped[list[AttemptItem]] = relationship(
        back_populates="attempt", order_by="AttemptItem.position", cascade="all, delete-orphan"
    )
    user: Mapped[User] = relationship()


class AttemptItem(db.Model):
    """One question of an attempt: which version was shown, in which choice order, what was picked."""

    __tablename__ = "attempt_items"
    __table_args__ = (UniqueConstraint("attempt_id", "position", name="uq_attempt_items_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    version_id: Mapped[int] = mapped_column(ForeignKey("question_versions.id"), index=True)
    choice_order: Mapped[list[int]] = mapped_column(JSON)  # display order, as indexes into the version's choices
    selected: Mapped[list[int] | None] = mapped_column(JSON)  # indexes into the version's choices
    is_correct: Mapped[bool | None] = mapped_column(Boolean)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer_ms: Mapped[int | None] = mapped_column(Integer)  # since the attempt's previous save (or its start)
    # The client numbers its saves; a save older than the one stored (arriving out of order on a
    # weak network) is ignored, and resending the same save changes nothing.
    answer_seq: Mapped[int] = mapped_column(Integer, default=0)

    attempt: Mapped[Attempt] = relationship(back_populates="items")
    version: Mapped[QuestionVersion] = relationship(lazy="joined")
