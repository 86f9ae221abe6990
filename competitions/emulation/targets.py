"""Targets (chỉ tiêu) down the tree: who may set which, the grid of a unit, all-or-nothing saving
and the split check.

Targets belong to a period (month, quarter or year) and an activity kind, and to a unit or a team.
The holders *directly below* a unit are its active child units that may have units below them
(district, commune, ward, ...) and the active teams of the unit itself or of its leaf children
(a hamlet's team, an enterprise's team): a hamlet or an enterprise never holds a target, its team does.

Who sets what: an admin sets targets for any unit or team (typically the province or the units at the
top); the staff of a unit (organiser, officer) split their unit's targets among the holders below it,
so a non-admin may set a target only on a unit strictly below their own unit, or on a team in their
scope. Quantities are whole numbers from 0 to MAX_QUANTITY; a blank removes the target.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from competitions.emulation.catalogue import kinds
from competitions.emulation.models import ActivityKind, Target, holder_key
from competitions.emulation.periods import MAX_YEAR, MIN_YEAR, Period, PeriodKind, current_month
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from core.org.models import Unit
from core.org.scope import in_scope
from core.org.service import PARENT_KINDS
from core.teams.models import Team
from core.teams.service import is_staff
from core.text import fold

#: a target above this is a typing slip (a whole province helps a few million people a year)
MAX_QUANTITY = 10_000_000
_WHOLE = re.compile(r"^[+]?\d+$")
_NEGATIVE = re.compile(r"^-\s*\d+([.,]\d+)?$")


@dataclass(frozen=True)
class Holder:
    """A unit or a team that may hold a target."""

    key: str  # competitions.emulation.models.holder_key: "u12" / "t34"
    code: str  # as the Excel sheet shows it: the unit's code (else "U<id>") or "T<team id>"
    name: str
    unit: Unit | None = None
    team: Team | None = None

    @classmethod
    def of_unit(cls, unit: Unit) -> Holder:
        return cls(holder_key(unit_id=unit.id), unit.code or f"U{unit.id}", unit.name, unit=unit)

    @classmethod
    def of_team(cls, team: Team) -> Holder:
        return cls(holder_key(team_id=team.id), f"T{team.id}", team.name, team=team)

    @property
    def is_team(self) -> bool:
        return self.team is not None


def holds_targets(unit: Unit) -> bool:
    """Units that hold targets themselves; leaves (hamlets, enterprises) hold them through their team."""
    return unit.kind_enum in PARENT_KINDS


def holder_parent_id(team_unit: Unit) -> int | None:
    """The unit whose target a team's target is part of: its own unit, or the parent of a leaf unit."""
    return team_unit.id if holds_targets(team_unit) else team_unit.parent_id


def holders_below(unit: Unit) -> list[Holder]:
    """The active units and teams directly below ``unit``: units first, then teams, each by name."""
    children = db.session.scalars(select(Unit).where(Unit.parent_id == unit.id, Unit.active)).all()
    units = sorted((c for c in children if holds_targets(c)), key=lambda u: fold(u.name))
    leaf_ids = [c.id for c in children if not holds_targets(c)]
    teams = db.session.scalars(
        select(Team).where(Team.active, Team.unit_id.in_([unit.id, *leaf_ids]))
    ).all()
    return [Holder.of_unit(u) for u in units] + [Holder.of_team(t) for t in sorted(teams, key=lambda t: fold(t.name))]


# --- who may do what -------------------------------------------------------------------------------


def can_set(user: User, holder: Holder) -> bool:
    """Admin: anything. Organiser / officer: a unit strictly below their own, or a team in their scope."""
    if user.role_code == RoleCode.ADMIN:
        return True
    if not is_staff(user) or user.unit is None:
        return False
    if holder.team is not None:
        return in_scope(user, holder.team.unit)
    assert holder.unit is not None
    return holder.unit.id != user.unit.id and in_scope(user, holder.unit)


def can_view(user: User, unit: Unit) -> bool:
    """Staff see the targets of the units in their scope (their own unit's included)."""
    return is_staff(user) and in_scope(user, unit)


def require_view(user: User, unit: Unit) -> None:
    if not can_view(user, unit):
        raise PermissionDenied


def can_split(user: User, unit: Unit) -> bool:
    """May set the targets of every holder directly below ``unit``."""
    return is_staff(user) and in_scope(user, unit)


# --- quantities ------------------------------------------------------------------------------------


def parse_quantity(text: object) -> int | None:
    """A cell as typed or read from a sheet: blank → None (no target), else a whole number 0…MAX_QUANTITY.
    The ValidationError says what is wrong; the caller adds which row and column."""
    value = str(text if text is not None else "").strip().replace("\u00a0", "").replace(" ", "")
    if not value:
        return None
    if _NEGATIVE.match(value):
        raise ValidationError(_("“%(v)s” là số âm; chỉ tiêu phải từ 0 trở lên.", v=value))
    if not _WHOLE.match(value):
        raise ValidationError(
            _("“%(v)s” không phải số nguyên; hãy ghi một số nguyên không dấu phân cách, ví dụ 1200.", v=value)
        )
    quantity = int(value)
    if quantity > MAX_QUANTITY:
        raise ValidationError(
            _("%(v)s quá lớn; chỉ tiêu tối đa là %(max)s.", v=value, max=format_decimal(MAX_QUANTITY))
        )
    return quantity


# --- reading ---------------------------------------------------------------------------------------


def targets_of(period: Period, holders: Iterable[Holder]) -> dict[tuple[str, int], int]:
    """Quantities set for exactly ``period`` by (holder key, activity id)."""
    keys = [holder.key for holder in holders]
    if not keys:
        return {}
    rows = db.session.execute(
        select(Target.holder, Target.activity_id, Target.quantity).where(
            Target.period == period.key, Target.holder.in_(keys)
        )
    )
    return {(holder, activity_id): quantity for holder, activity_id, quantity in rows}


def columns_for(values: Iterable[tuple[str, int]]) -> list[ActivityKind]:
    """The active kinds, plus any inactive kind that already has one of these targets (history stays)."""
    used = {activity_id for _holder, activity_id in values}
    return [kind for kind in kinds(active_only=False) if kind.active or kind.id in used]


@dataclass
class GridRow:
    holder: Holder
    values: dict[int, int]  # activity id -> quantity
    editable: bool


class SplitStatus(StrEnum):
    EMPTY = "empty"  # neither the unit nor the holders below have a target
    UNSET = "unset"  # the holders below have targets, the unit has none
    OK = "ok"  # they add up exactly
    SHORT = "short"  # below the unit's target: a warning
    OVER = "over"  # above it: a note (more ambition is allowed)


@dataclass(frozen=True)
class SplitRow:
    """For one activity: the unit's own target against the sum of its holders' targets."""

    activity: ActivityKind
    parent: int | None
    children: int
    assigned: int  # how many holders below have a target for it

    @property
    def gap(self) -> int:
        """What is left to hand out (negative: handed out beyond the unit's target)."""
        return (self.parent or 0) - self.children

    @property
    def status(self) -> SplitStatus:
        if self.parent is None:
            return SplitStatus.UNSET if self.assigned else SplitStatus.EMPTY
        if self.children == self.parent:
            return SplitStatus.OK
        return SplitStatus.SHORT if self.children < self.parent else SplitStatus.OVER


def _split_rows(
    own: Holder, holders: list[Holder], activities: list[ActivityKind], values: dict[tuple[str, int], int]
) -> list[SplitRow]:
    rows = []
    for activity in activities:
        below = [values[(h.key, activity.id)] for h in holders if (h.key, activity.id) in values]
        rows.append(SplitRow(activity, values.get((own.key, activity.id)), sum(below), len(below)))
    return rows


def split_check(parent_unit: Unit, period: Period) -> list[SplitRow]:
    """Per activity, whether the targets of the holders directly below ``parent_unit`` add up to its
    own target for ``period``: short is a warning, over a note, never an error."""
    own, holders = Holder.of_unit(parent_unit), holders_below(parent_unit)
    values = targets_of(period, [own, *holders])
    return _split_rows(own, holders, columns_for(values), values)


@dataclass
class Grid:
    """The targets screen of one unit for one period."""

    unit: Unit
    period: Period
    activities: list[ActivityKind]
    own: GridRow
    rows: list[GridRow]
    split: list[SplitRow]

    @property
    def editable(self) -> bool:
        return self.own.editable or any(row.editable for row in self.rows)


def target_grid(unit: Unit, period: Period, viewer: User) -> Grid:
    require_view(viewer, unit)
    own, holders = Holder.of_unit(unit), holders_below(unit)
    values = targets_of(period, [own, *holders])
    activities = columns_for(values)

    def row(holder: Holder) -> GridRow:
        found = {a.id: values[(holder.key, a.id)] for a in activities if (holder.key, a.id) in values}
        return GridRow(holder, found, can_set(viewer, holder))

    return Grid(unit, period, activities, row(own), [row(h) for h in holders],
                _split_rows(own, holders, activities, values))


# --- writing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetEntry:
    holder: Holder
    activity: ActivityKind
    quantity: int | None  # None removes the target


@dataclass
class Saved:
    created: int = 0
    updated: int = 0
    removed: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.removed


def set_targets(actor: User, period: Period, entries: list[TargetEntry]) -> Saved:
    """Write targets, all or nothing (one SAVEPOINT; flushed, not committed: the caller commits).
    PermissionDenied when any holder is not the actor's to set; ValidationError for an inactive kind
    or a bad quantity. Unchanged values write nothing."""
    for entry in entries:
        if not can_set(actor, entry.holder):
            raise PermissionDenied
        if entry.quantity is not None and not 0 <= entry.quantity <= MAX_QUANTITY:
            raise ValidationError(_("Chỉ tiêu của “%(h)s” phải là số nguyên từ 0 đến %(max)d.",
                                    h=entry.holder.name, max=MAX_QUANTITY))
    existing = {
        (t.holder, t.activity_id): t
        for t in db.session.scalars(select(Target).where(
            Target.period == period.key, Target.holder.in_({e.holder.key for e in entries})
        ))
    } if entries else {}
    for entry in entries:
        current = existing.get((entry.holder.key, entry.activity.id))
        changes = entry.quantity != (current.quantity if current else None)
        if changes and not entry.activity.active:
            raise ValidationError(_("Hoạt động “%(a)s” đã ngừng sử dụng; không giao chỉ tiêu mới cho hoạt động này.",
                                    a=entry.activity.name))
    saved = Saved()
    try:
        with db.session.begin_nested():
            for entry in entries:
                current = existing.get((entry.holder.key, entry.activity.id))
                if entry.quantity is None:
                    if current is not None:
                        db.session.delete(current)
                        saved.removed += 1
                elif current is None:
                    db.session.add(Target(
                        period=period.key, activity_id=entry.activity.id, holder=entry.holder.key,
                        unit_id=entry.holder.unit.id if entry.holder.unit else None,
                        team_id=entry.holder.team.id if entry.holder.team else None,
                        quantity=entry.quantity, set_by_id=actor.id,
                    ))
                    saved.created += 1
                elif current.quantity != entry.quantity:
                    current.quantity, current.set_by_id = entry.quantity, actor.id
                    saved.updated += 1
            db.session.flush()
    except IntegrityError as error:  # someone saved the same cells at the same moment
        raise ValidationError(_("Chỉ tiêu vừa được người khác thay đổi; hãy tải lại trang và lưu lại.")) from error
    return saved


@dataclass(frozen=True)
class CellError:
    holder_key: str
    activity_id: int | None
    message: str


class GridErrors(ValidationError):
    """Every bad cell of a grid at once (nothing was written)."""

    def __init__(self, errors: list[CellError]) -> None:
        super().__init__(_("Có %(n)d ô chưa hợp lệ nên chưa lưu gì; hãy sửa các ô được đánh dấu.", n=len(errors)))
        self.errors = errors


def save_grid(actor: User, unit: Unit, period: Period, cells: dict[str, dict[int, str]]) -> Saved:
    """Save a grid posted as ``{holder key: {activity id: text}}``: the unit's own row and the rows
    of the holders directly below it. Every bad cell is reported (GridErrors, naming row and column)
    and nothing is written unless all are good; a row the actor may not set is PermissionDenied."""
    require_view(actor, unit)
    own = Holder.of_unit(unit)
    holders = {h.key: h for h in [own, *holders_below(unit)]}
    active = {kind.id: kind for kind in kinds(active_only=True)}
    errors: list[CellError] = []
    entries: list[TargetEntry] = []
    for key, row in cells.items():
        holder = holders.get(key)
        if holder is None:
            errors.append(CellError(key, None, _("Dòng “%(k)s” không phải đơn vị hay tổ trực thuộc %(u)s.",
                                                 k=key, u=unit.name)))
            continue
        if not can_set(actor, holder):
            raise PermissionDenied
        for activity_id, text in row.items():
            activity = active.get(activity_id)
            if activity is None:
                message = _("Cột %(a)s không phải hoạt động đang dùng.", a=activity_id)
                errors.append(CellError(key, activity_id, message))
                continue
            try:
                entries.append(TargetEntry(holder, activity, parse_quantity(text)))
            except ValidationError as error:
                errors.append(CellError(key, activity_id, _("“%(h)s”, cột “%(a)s”: %(m)s",
                                                           h=holder.name, a=activity.name, m=error.message)))
    if errors:
        raise GridErrors(errors)
    return set_targets(actor, period, entries)


# --- periods offered on the screens -----------------------------------------------------------------


def _shift(period: Period, steps: int) -> Period:
    """The period ``steps`` months / quarters / years after ``period`` (negative: before)."""
    if period.kind == PeriodKind.YEAR:
        return Period(period.year + steps, PeriodKind.YEAR, 1)
    size = 12 if period.kind == PeriodKind.MONTH else 4
    index = period.year * size + period.number - 1 + steps
    return Period(index // size, period.kind, index % size + 1)


def period_choices(now: datetime, selected: Period | None = None) -> list[Period]:
    """What the period pickers offer: next month and the 12 before it, next quarter and the 4 before
    it, next year and the 2 before it (targets are set ahead, progress is looked at behind); the
    selected period is always among them."""
    month = current_month(now)
    quarter = Period(month.year, PeriodKind.QUARTER, (month.number - 1) // 3 + 1)
    year = Period(month.year, PeriodKind.YEAR, 1)
    choices = [
        _shift(start, step)
        for start, back in ((month, 12), (quarter, 4), (year, 2))
        for step in range(1, -back - 1, -1)
    ]
    choices = [p for p in choices if MIN_YEAR <= p.year <= MAX_YEAR]
    if selected is not None and selected not in choices:
        choices.insert(0, selected)
    return choices
