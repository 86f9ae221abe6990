"""Rounds (đợt thi) and who took part in them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.accounts.models import User
from core.db_types import UTCDateTime, utcnow
from core.extensions import db
from core.org.models import Unit
from core.teams.models import Team


class PeriodKind(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    CUSTOM = "custom"


class AttemptPolicy(StrEnum):
    ONCE = "once"  # one attempt only (Bến Tre)
    BEST_OF_N = "best_of_n"  # up to N attempts, the best counts (Tiền Giang)
    DAILY_BEST = "daily_best"  # one attempt a day, the best of the period counts (Đắk Lắk)


class RoundStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Reveal(StrEnum):
    AFTER_CLOSE = "after_close"  # default: answers cannot circulate in Zalo groups while the round is open
    AFTER_SUBMIT = "after_submit"


class TeamScoring(StrEnum):
    ACTIVE_MEAN = "active_mean"  # sum of members' counted scores / active members (absent count 0)
    PARTICIPANT_MEAN = "participant_mean"  # mean over the members who took part
    BEST_K = "best_k"  # mean of the K best members' scores


class PredictionKind(StrEnum):
    PARTICIPANTS = "participants"  # how many people will take this round?
    PERFECT_SCORES = "perfect_scores"  # how many will answer everything correctly?


class TieBreak(StrEnum):
    SCORE = "score"  # higher first
    PREDICTION = "prediction"  # closer guess first
    DURATION = "duration"  # shorter time first
    SUBMITTED_AT = "submitted_at"  # earlier submission first


DEFAULT_TIE_BREAKS = [TieBreak.SCORE, TieBreak.PREDICTION, TieBreak.DURATION, TieBreak.SUBMITTED_AT]


class Series(db.Model):
    """A season of rounds (the 13 weekly rounds of a quarter, the 12 monthly rounds of a year)."""

    __tablename__ = "round_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    period_kind: Mapped[str] = mapped_column(String(10))
    scope_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    scope_unit: Mapped[Unit] = relationship()
    rounds: Mapped[list[Round]] = relationship(back_populates="series", order_by="Round.opens_at")


ROUND_CONTEXT_PREFIX = "round:"  # a round's attempts have the context "round:<id>"


class Round(db.Model):
    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    period_kind: Mapped[str] = mapped_column(String(10), default=PeriodKind.WEEKLY)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    scope_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    allow_public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # [{"count": 5, "category_id": 2, "difficulty": "easy"}, ...]: quiz.attempts.DrawRule as dicts
    draw_plan: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    time_limit_seconds: Mapped[int] = mapped_column(Integer, default=600)
    attempt_policy: Mapped[str] = mapped_column(String(12), default=AttemptPolicy.ONCE)
    max_attempts: Mapped[int] = mapped_column(Integer, default=1)  # for BEST_OF_N
    prediction_kind: Mapped[str | None] = mapped_column(String(20))
    prediction_question: Mapped[str] = mapped_column(String(300), default="")
    prediction_answer: Mapped[int | None] = mapped_column(Integer)  # computed by the system at closing
    tie_breaks: Mapped[list[str]] = mapped_column(JSON, default=lambda: [str(t) for t in DEFAULT_TIE_BREAKS])
    reveal: Mapped[str] = mapped_column(String(14), default=Reveal.AFTER_CLOSE)
    # the live boards are public while the round runs; otherwise they open to all at closing
    live_board: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    team_scoring: Mapped[str] = mapped_column(String(20), default=TeamScoring.ACTIVE_MEAN)
    best_k: Mapped[int] = mapped_column(Integer, default=3)
    status: Mapped[str] = mapped_column(String(10), default=RoundStatus.DRAFT, index=True)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("round_series.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # closing work done (prediction answer)

    scope_unit: Mapped[Unit] = relationship(lazy="joined")
    series: Mapped[Series | None] = relationship(back_populates="rounds")

    @property
    def context(self) -> str:
        """The attempt context (quiz.models.Attempt.context) of this round's attempts."""
        return f"{ROUND_CONTEXT_PREFIX}{self.id}"


class Entry(db.Model):
    """A person's participation in a round, with the team and unit they competed for at the time
    (so a member who changes team later keeps this result with the team of that day)."""

    __tablename__ = "round_entries"
    __table_args__ = (UniqueConstraint("round_id", "user_id", name="uq_round_entries_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)  # None: a public participant
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)  # the team's unit, or a guest's commune
    prediction: Mapped[int | None] = mapped_column(Integer)
    is_public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    round: Mapped[Round] = relationship()
    user: Mapped[User] = relationship(lazy="joined")
    team: Mapped[Team | None] = relationship()
    unit: Mapped[Unit] = relationship()
