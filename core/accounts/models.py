from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.accounts.roles import RoleCode
from core.db_types import UTCDateTime, utcnow
from core.extensions import db

if TYPE_CHECKING:
    from core.org.models import Unit


class Role(db.Model):
    __tablename__ = "roles"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    rank: Mapped[int] = mapped_column(Integer)


class User(UserMixin, db.Model):
    """A person who signs in: Department staff, organiser, officer or team member."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(10), unique=True)
    username: Mapped[str | None] = mapped_column(String(40), unique=True)
    # None until a password is set: members imported from a roster cannot sign in before that.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role_code: Mapped[str] = mapped_column(
        ForeignKey("roles.code"), default=RoleCode.MEMBER, server_default=RoleCode.MEMBER.value
    )
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    role: Mapped[Role] = relationship(lazy="joined")
    unit: Mapped[Unit | None] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sessions of deactivated users
        return self.active

    @property
    def role_enum(self) -> RoleCode:
        return RoleCode(self.role_code)

    @property
    def login_name(self) -> str:
        return self.phone or self.username or ""

    def __repr__(self) -> str:
        return f"<User {self.id} {self.login_name} {self.role_code}>"
