from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db_types import UTCDateTime, utcnow
from core.extensions import db


class UnitKind(StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"
    WARD = "ward"
    TOWN = "town"
    SPECIAL_ZONE = "special_zone"
    HAMLET = "hamlet"
    ENTERPRISE = "enterprise"


COMMUNE_LEVEL = frozenset({UnitKind.COMMUNE, UnitKind.WARD, UnitKind.TOWN, UnitKind.SPECIAL_ZONE})


class Unit(db.Model):
    """A node of the org tree. ``path`` ("/1/7/42/") makes "this unit and everything below" one query."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_units_parent_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    code: Mapped[str | None] = mapped_column(String(20), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    path: Mapped[str] = mapped_column(String(400), index=True, default="")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent", order_by="Unit.name")

    @property
    def kind_enum(self) -> UnitKind:
        return UnitKind(self.kind)

    @property
    def is_commune_level(self) -> bool:
        return self.kind_enum in COMMUNE_LEVEL

    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to this unit, itself included."""
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def __repr__(self) -> str:
        return f"<Unit {self.id} {self.kind} {self.name}>"
