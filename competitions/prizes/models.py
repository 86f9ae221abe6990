"""Prizes (giải thưởng): what is awarded for a round, a season or an emulation period, who won it,
and every step of the decision. A prize decision must rest on these rows: the winners are frozen
when an admin approves, and every change before or after leaves an audit entry."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.accounts.models import User
from core.db_types import UTCDateTime, utcnow
from core.extensions import db
from core.org.models import Unit
from core.teams.models import Team


class AwardOwner(StrEnum):
    ROUND = "round"  # a round's results (competitions.results)
    SERIES = "series"  # a season's cumulative standings
    EMULATION = "emulation"  # an emulation period's team ranking (competitions.emulation.scoring)


class AwardStatus(StrEnum):
    DRAFT = "draft"  # prizes being set up, proposals reviewed
    APPROVED = "approved"  # winners frozen by an admin
    PUBLISHED = "published"  # public results page, winners notified


class Audience(StrEnum):
    INDIVIDUAL = "individual"
    TEAM = "team"
    UNIT = "unit"  # collective prizes for communes (or districts)


class CollectiveScoring(StrEnum):
    PARTICIPATION_RATE = "participation_rate"  # participants / members of the unit's teams
    PARTICIPANTS = "participants"  # number of participants
    POINTS = "points"  # participation rate in percent + points per individual winner of the unit


class SeriesRule(StrEnum):
    HIGHEST = "highest"  # a person who won in an earlier round of the season may only win a higher prize
    FIRST = "first"  # a person who won in an earlier round of the season wins nothing more


class Award(db.Model):
    """The prizes of one round, season or emulation period (xét giải) and their decision."""

    __tablename__ = "awards"
    __table_args__ = (
        Index("ix_awards_owner", "owner", "round_id", "series_id", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(10))  # AwardOwner
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"))
    series_id: Mapped[int | None] = mapped_column(ForeignKey("round_series.id"))
    period: Mapped[str | None] = mapped_column(String(8))  # an emulation period key ("2026-Q4")
    scope_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)  # whose staff manage it
    status: Mapped[str] = mapped_column(String(10), default=AwardStatus.DRAFT, index=True)
    # eligibility settings (each tested; docs/prizes.md)
    exclude_staff: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    series_rule: Mapped[str] = mapped_column(String(10), default=SeriesRule.HIGHEST)
    min_participation: Mapped[float | None] = mapped_column(Float)  # team prizes: share of members, 0–1
    min_band: Mapped[str | None] = mapped_column(String(60))  # team prizes by emulation: at least this band
    collective_scoring: Mapped[str] = mapped_column(String(20), default=CollectiveScoring.PARTICIPATION_RATE)
    points_per_winner: Mapped[int] = mapped_column(Integer, default=5)  # CollectiveScoring.POINTS
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped by every decision step (stale forms)

    scope_unit: Mapped[Unit] = relationship()
    tiers: Mapped[list[PrizeTier]] = relationship(
        back_populates="award", cascade="all, delete-orphan", order_by="PrizeTier.position"
    )
    winners: Mapped[list[Winner]] = relationship(
        back_populates="award", cascade="all, delete-orphan", order_by="Winner.position"
    )
    exclusions: Mapped[list[Exclusion]] = relationship(
        back_populates="award", cascade="all, delete-orphan", order_by="Exclusion.id"
    )
    tie_decisions: Mapped[list[TieDecision]] = relationship(
        back_populates="award", cascade="all, delete-orphan", order_by="TieDecision.id"
    )
    events: Mapped[list[AwardEvent]] = relationship(
        back_populates="award", cascade="all, delete-orphan", order_by="AwardEvent.id"
    )


class PrizeTier(db.Model):
    """One prize of the structure: "Giải Nhất", 1 of it, 2,000,000 VND, for individuals."""

    __tablename__ = "prize_tiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id"), index=True)
    audience: Mapped[str] = mapped_column(String(10))  # Audience
    label: Mapped[str] = mapped_column(String(80))
    count: Mapped[int] = mapped_column(Integer)
    value_vnd: Mapped[int | None] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer, default=0)  # best prize first within an audience

    award: Mapped[Award] = relationship(back_populates="tiers")


class Winner(db.Model):
    """A winner as approved: frozen at approval with what the certificate and the decision list
    print (names as they were), so later edits of people or teams do not change a decision."""

    __tablename__ = "prize_winners"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id"), index=True)
    tier_id: Mapped[int] = mapped_column(ForeignKey("prize_tiers.id"))
    position: Mapped[int] = mapped_column(Integer)  # order in the decision list (STT)
    subject: Mapped[str] = mapped_column(String(20))  # "p<user id>", "t<team id>", "u<unit id>"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    name: Mapped[str] = mapped_column(String(200))  # the person, team or unit
    team_name: Mapped[str] = mapped_column(String(200), default="")
    unit_name: Mapped[str] = mapped_column(String(200), default="")  # the commune (đơn vị)
    phone: Mapped[str | None] = mapped_column(String(10))  # masked wherever it is shown publicly
    rank: Mapped[int] = mapped_column(Integer)
    score_text: Mapped[str] = mapped_column(String(40), default="")  # "9/10", "92,5 điểm", "87 %"
    time_text: Mapped[str] = mapped_column(String(40), default="")  # "3 phút 12 giây"

    award: Mapped[Award] = relationship(back_populates="winners")
    tier: Mapped[PrizeTier] = relationship()
    user: Mapped[User | None] = relationship()
    team: Mapped[Team | None] = relationship()


class Exclusion(db.Model):
    """A candidate taken out by staff (disqualified, or a decision) with the reason; the next in
    line moves up."""

    __tablename__ = "prize_exclusions"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id"), index=True)
    subject: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())  # False: withdrawn

    award: Mapped[Award] = relationship(back_populates="exclusions")
    actor: Mapped[User] = relationship()


class TieDecision(db.Model):
    """How staff settled a tie across a prize boundary: one more prize for all tied, or the ones
    picked, always with a reason."""

    __tablename__ = "prize_tie_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id"), index=True)
    tier_id: Mapped[int] = mapped_column(ForeignKey("prize_tiers.id"))
    tied: Mapped[list[str]] = mapped_column(JSON)  # the subjects that were tied
    decision: Mapped[str] = mapped_column(String(10))  # "add" (everyone tied wins) or "pick"
    picked: Mapped[list[str]] = mapped_column(JSON, default=list)  # for "pick"
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    award: Mapped[Award] = relationship(back_populates="tie_decisions")


class AwardEvent(db.Model):
    """The audit log of an award: created, prizes changed, excluded, tie settled, approved,
    reopened, published; with who, when and what."""

    __tablename__ = "award_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, object] | None] = mapped_column(JSON)

    award: Mapped[Award] = relationship(back_populates="events")
    actor: Mapped[User] = relationship()


class Notification(db.Model):
    """A message for one person in the app (a prize won); shown until read."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(String(400))
    link: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
