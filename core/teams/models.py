from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.accounts.models import User
from core.db_types import UTCDateTime, utcnow
from core.extensions import db
from core.org.models import Unit


class TeamRole(StrEnum):
    LEADER = "leader"  # tổ trưởng
    DEPUTY = "deputy"  # tổ phó
    MEMBER = "member"  # tổ viên


class MembershipStatus(StrEnum):
    PENDING = "pending"  # asked to join, waiting for the leader
    ACTIVE = "active"
    LEFT = "left"
    REJECTED = "rejected"


class Team(db.Model):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("unit_id", "name", name="uq_teams_unit_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    group_link: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship(lazy="joined")
    memberships: Mapped[list[Membership]] = relationship(back_populates="team")

    def __repr__(self) -> str:
        return f"<Team {self.id} {self.name}>"


_ACTIVE = text("status = 'active'")


class Membership(db.Model):
    """One stint of one person in one team; leaving closes it, so past results keep their team."""

    __tablename__ = "memberships"
    __table_args__ = (
        # The database itself refuses a second leader, a second deputy, or a person active twice.
        Index(
            "uq_memberships_one_leader", "team_id", unique=True,
            sqlite_where=text("status = 'active' AND role = 'leader'"),
            postgresql_where=text("status = 'active' AND role = 'leader'"),
        ),
        Index(
            "uq_memberships_one_deputy", "team_id", unique=True,
            sqlite_where=text("status = 'active' AND role = 'deputy'"),
            postgresql_where=text("status = 'active' AND role = 'deputy'"),
        ),
        Index(
            "uq_memberships_one_active_team", "user_id", unique=True,
            sqlite_where=_ACTIVE, postgresql_where=_ACTIVE,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(10), default=TeamRole.MEMBER)
    status: Mapped[str] = mapped_column(String(10), default=MembershipStatus.ACTIVE)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    team: Mapped[Team] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")

    @property
    def is_active(self) -> bool:
        return self.status == MembershipStatus.ACTIVE
