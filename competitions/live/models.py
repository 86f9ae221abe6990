"""Live contests, their players and answers. The running game lives in competitions.live.state
(Redis or in process); these tables are its record: each question's answers and the players'
scores are written when the question is revealed, so a crash loses at most the question in play."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.accounts.models import User
from core.db_types import UTCDateTime, utcnow
from core.extensions import db
from core.org.models import Unit
from core.teams.models import Team


class ContestMode(StrEnum):
    INDIVIDUAL = "individual"
    TEAM = "team"  # a team's score is the mean of its players' points


class ContestStatus(StrEnum):
    DRAFT = "draft"  # being prepared
    LOBBY = "lobby"  # launched: a PIN, players joining
    RUNNING = "running"
    FINISHED = "finished"


class LiveContest(db.Model):
    __tablename__ = "live_contests"
    # A PIN names one contest at a time: it is freed (NULL) when the contest finishes.
    __table_args__ = (
        Index("uq_live_contests_pin", "pin", unique=True, sqlite_where=text("pin IS NOT NULL"),
              postgresql_where=text("pin IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)  # the host's unit
    mode: Mapped[str] = mapped_column(String(12), default=ContestMode.INDIVIDUAL)
    allow_guests: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    seconds_per_question: Mapped[int] = mapped_column(Integer, default=20)
    max_points: Mapped[int] = mapped_column(Integer, default=1000)
    streak_bonus: Mapped[int] = mapped_column(Integer, default=100)  # per correct answer in a row after the first
    max_players: Mapped[int] = mapped_column(Integer, default=5000)
    version_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # the questions, in order (QuestionVersion ids)
    status: Mapped[str] = mapped_column(String(10), default=ContestStatus.DRAFT, index=True)
    pin: Mapped[str | None] = mapped_column(String(6))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    host: Mapped[User] = relationship()
    unit: Mapped[Unit | None] = relationship()

    @property
    def context(self) -> str:
        return f"contest:{self.id}"


class LivePlayer(db.Model):
    __tablename__ = "live_players"
    __table_args__ = (UniqueConstraint("contest_id", "nickname_key", name="uq_live_players_nickname"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("live_contests.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)  # None: a guest
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    nickname: Mapped[str] = mapped_column(String(40))
    nickname_key: Mapped[str] = mapped_column(String(40))  # folded: no two "Minh Anh" / "minh anh"
    token_hash: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of the phone's rejoin token
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    score: Mapped[int] = mapped_column(Integer, default=0)
    streak: Mapped[int] = mapped_column(Integer, default=0)

    user: Mapped[User | None] = relationship()
    team: Mapped[Team | None] = relationship()


class LiveAnswer(db.Model):
    __tablename__ = "live_answers"
    __table_args__ = (UniqueConstraint("player_id", "question_index", name="uq_live_answers_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("live_contests.id"), index=True)
    player_id: Mapped[int] = mapped_column(ForeignKey("live_players.id"), index=True)
    question_index: Mapped[int] = mapped_column(Integer)
    version_id: Mapped[int] = mapped_column(ForeignKey("question_versions.id"))
    choice: Mapped[int | None] = mapped_column(Integer)  # index into the version's choices; None: no answer
    is_correct: Mapped[bool] = mapped_column(Boolean, default=False)
    points: Mapped[int] = mapped_column(Integer, default=0)
    response_ms: Mapped[int | None] = mapped_column(Integer)  # from the question shown to the answer, server clock
