"""Emulation (thi đua): the activity catalogue, targets (chỉ tiêu) down the tree, activity reports
up, the weighted scheme that turns both (and quiz results) into a team's points, and badges."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.accounts.models import User
from core.db_types import UTCDateTime, utcnow
from core.extensions import db
from core.org.models import Unit
from core.teams.models import Team


class ActivityKind(db.Model):
    """A kind of field work a team reports (people guided to install VNeID, households visited, ...).
    The defaults are rows written by the migration, so every fresh database has them."""

    __tablename__ = "activity_kinds"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(200))  # stored data, in Vietnamese
    unit_label: Mapped[str] = mapped_column(String(40))  # "người", "sản phẩm", "hồ sơ", "hộ", "buổi"
    evidence_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A report line above (active team members × this) in one month is flagged for review.
    plausible_per_member: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Target(db.Model):
    """How much of one activity a unit or a team must achieve in one period (chỉ tiêu).

    ``period`` is a competitions.emulation.periods.Period key ("2026-11", "2026-Q4", "2026").
    Exactly one of ``unit_id`` / ``team_id`` is set; ``holder`` ("u12" / "t34") makes the pair unique.
    """

    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("period", "activity_id", "holder", name="uq_targets_period_activity_holder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(8), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity_kinds.id"), index=True)
    holder: Mapped[str] = mapped_column(String(12))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    activity: Mapped[ActivityKind] = relationship(lazy="joined")
    unit: Mapped[Unit | None] = relationship()
    team: Mapped[Team | None] = relationship()


def holder_key(unit_id: int | None = None, team_id: int | None = None) -> str:
    """The ``holder`` of a unit's or a team's target (exactly one of the two)."""
    if (unit_id is None) == (team_id is None):
        raise ValueError("a target belongs to a unit or to a team")
    return f"u{unit_id}" if unit_id is not None else f"t{team_id}"


class ReportStatus(StrEnum):
    SUBMITTED = "submitted"  # waiting for the commune officer
    VERIFIED = "verified"  # counts
    REJECTED = "rejected"  # does not count; the team may correct and re-file it


class ActivityReport(db.Model):
    """One entry of a team's monthly report (several entries in a month add up): quantities per
    activity kind, a note and optional evidence. Only verified entries count."""

    __tablename__ = "activity_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # "2026-11": the month reported on
    status: Mapped[str] = mapped_column(String(10), default=ReportStatus.SUBMITTED, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    evidence_link: Mapped[str | None] = mapped_column(String(500))
    evidence_file: Mapped[str | None] = mapped_column(String(200))  # a stored photo's name (instance/evidence)
    # filed after the month's deadline day
    late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # a quantity looks implausible: the officer must confirm having checked it
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The form's one-time token: a resent submission (double tap, retry on a weak network) files nothing twice.
    client_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_reason: Mapped[str] = mapped_column(Text, default="")

    team: Mapped[Team] = relationship(lazy="joined")
    filed_by: Mapped[User] = relationship(foreign_keys=[filed_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    lines: Mapped[list[ReportLine]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ReportLine.activity_id"
    )
    events: Mapped[list[ReportEvent]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ReportEvent.id"
    )


class ReportLine(db.Model):
    __tablename__ = "activity_report_lines"
    __table_args__ = (UniqueConstraint("report_id", "activity_id", name="uq_report_lines_activity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("activity_reports.id"), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity_kinds.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    report: Mapped[ActivityReport] = relationship(back_populates="lines")
    activity: Mapped[ActivityKind] = relationship(lazy="joined")


class ReportEvent(db.Model):
    """The history of a report: who did what when, with the report as it was before and after."""

    __tablename__ = "activity_report_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("activity_reports.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(12))  # filed, corrected, verified, rejected
    reason: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[dict[str, object] | None] = mapped_column(JSON)
    after: Mapped[dict[str, object] | None] = mapped_column(JSON)

    report: Mapped[ActivityReport] = relationship(back_populates="events")
    actor: Mapped[User] = relationship()


class CriterionKind(StrEnum):
    ACTIVITY = "activity"  # achieved / target of one activity kind, capped, × points
    QUIZ_PARTICIPATION = "quiz_participation"  # share of members × rounds taken
    QUIZ_SCORE = "quiz_score"  # the team's mean quiz score, as a share of the maximum
    LIVE_CONTESTS = "live_contests"  # the team's live contest results
    REPORTS_ON_TIME = "reports_on_time"  # months reported by the deadline day


class Scheme(db.Model):
    """A version of the emulation scheme: weighted criteria on a 100-point scale and the grading
    bands. A period is scored with the scheme in force at its first month (the latest version whose
    ``effective_from`` is not after it), so a new version never rescores a past period."""

    __tablename__ = "emulation_schemes"
    __table_args__ = (UniqueConstraint("version", name="uq_emulation_schemes_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    effective_from: Mapped[str] = mapped_column(String(7), index=True)  # "2026-11"
    # [{"name": "Hoàn thành xuất sắc", "min_points": 90, "min_ratio": 0.85}, ...], best band first;
    # a team below every band is "Chưa hoàn thành" (competitions.emulation.schemes.NOT_DONE).
    bands: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="scheme", cascade="all, delete-orphan", order_by="Criterion.position"
    )


class Criterion(db.Model):
    __tablename__ = "emulation_criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("emulation_schemes.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity_kinds.id"))  # for ACTIVITY
    points: Mapped[float] = mapped_column(Float)
    cap: Mapped[float] = mapped_column(Float, default=1.0)  # achievement counted up to this ratio
    position: Mapped[int] = mapped_column(Integer, default=0)

    scheme: Mapped[Scheme] = relationship(back_populates="criteria")
    activity: Mapped[ActivityKind | None] = relationship(lazy="joined")


class BadgeSubject(StrEnum):
    TEAM = "team"
    MEMBER = "member"


class BadgeRule(db.Model):
    """A badge and the rule that earns it. Rules are data: ``kind`` names one of the evaluators in
    competitions.emulation.badges and ``params`` its thresholds; the defaults come with the migration."""

    __tablename__ = "badge_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(300))
    icon: Mapped[str] = mapped_column(String(8), default="🏅")
    subject: Mapped[str] = mapped_column(String(10))  # BadgeSubject
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class BadgeAward(db.Model):
    """A badge earned once per occasion: ``occasion`` says which ("2026-11:vneid", "round:42", ...)."""

    __tablename__ = "badge_awards"
    __table_args__ = (
        UniqueConstraint("rule_id", "holder", "occasion", name="uq_badge_awards_occasion"),
        Index("ix_badge_awards_team", "team_id"),
        Index("ix_badge_awards_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("badge_rules.id"))
    holder: Mapped[str] = mapped_column(String(12))  # "t<team id>" or "m<user id>": unique with rule and occasion
    # A team badge has team_id only; a member badge has user_id and the team of the day.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    occasion: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str] = mapped_column(String(300), default="")
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rule: Mapped[BadgeRule] = relationship(lazy="joined")
    team: Mapped[Team | None] = relationship()
    user: Mapped[User | None] = relationship()


class TeamLevel(db.Model):
    """A team level reached with cumulative emulation points (the sum of its monthly scores)."""

    __tablename__ = "team_levels"

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(80))
    min_points: Mapped[int] = mapped_column(Integer)


class FeedItem(db.Model):
    """A line in a team's feed: a badge earned, a level reached, a report verified or rejected."""

    __tablename__ = "team_feed"
    __table_args__ = (Index("ix_team_feed_team_at", "team_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    kind: Mapped[str] = mapped_column(String(20))  # badge, level, report
    text: Mapped[str] = mapped_column(String(400))
    link: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
