"""The scope rule, written once: a user acts on their own unit and the units below it,
never beside or above. Department staff (admin) act on the whole tree."""

from __future__ import annotations

from sqlalchemy import Select, select, true
from sqlalchemy.sql.elements import ColumnElement

from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.org.models import Unit


def scope_path(user: User) -> str | None:
    """The path prefix the user may act under; None means everything (admin)."""
    if user.role_code == RoleCode.ADMIN:
        return None
    if user.unit is None:
        return "/nowhere/"  # a non-admin without a unit acts on nothing
    return user.unit.path


def in_scope(user: User, unit: Unit | None) -> bool:
    if unit is None:
        return False
    prefix = scope_path(user)
    return prefix is None or unit.path.startswith(prefix)


def unit_scope_clause(user: User) -> ColumnElement[bool]:
    prefix = scope_path(user)
    return true() if prefix is None else Unit.path.startswith(prefix)


def units_in_scope(user: User) -> Select[tuple[Unit]]:
    return select(Unit).where(unit_scope_clause(user))
