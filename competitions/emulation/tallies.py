"""The sums every emulation page starts from: targets and verified achievements per team or unit
in a period, one grouped query each (a province has tens of thousands of teams)."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from competitions.emulation.models import ActivityReport, ReportLine, ReportStatus, Target
from competitions.emulation.periods import Period
from core.extensions import db
from core.org.models import Unit
from core.teams.models import Team

Key = tuple[int, int]  # (team or unit id, activity kind id)


def under(unit: Unit | None) -> ColumnElement[bool]:
    """``unit`` and everything below it as a clause on Unit.path (everything when None)."""
    return Unit.path.startswith(unit.path) if unit is not None else Unit.id.isnot(None)


def achieved_by_team(period: Period, unit: Unit | None = None) -> dict[Key, int]:
    """Verified quantities per (team, activity) over the months of ``period``, for the teams of
    ``unit`` and below (every team when None). Submitted and rejected entries do not count."""
    rows = db.session.execute(
        select(ActivityReport.team_id, ReportLine.activity_id, func.sum(ReportLine.quantity))
        .join(ReportLine, ReportLine.report_id == ActivityReport.id)
        .join(Team, Team.id == ActivityReport.team_id)
        .join(Unit, Unit.id == Team.unit_id)
        .where(ActivityReport.month.in_(period.month_keys), ActivityReport.status == ReportStatus.VERIFIED,
               under(unit))
        .group_by(ActivityReport.team_id, ReportLine.activity_id)
    )
    return {(team_id, activity_id): int(total) for team_id, activity_id, total in rows}


def achieved_by_unit(period: Period, units: list[Unit]) -> dict[Key, int]:
    """Verified quantities per (unit, activity): everything achieved by the teams of each unit and below."""
    if not units:
        return {}
    totals: dict[Key, int] = {}
    # one query grouped by the teams' unit paths; each path's total then goes to every listed unit above it
    by_path = {unit.path: unit.id for unit in units}
    rows = db.session.execute(
        select(Unit.path, ReportLine.activity_id, func.sum(ReportLine.quantity))
        .select_from(ActivityReport)
        .join(ReportLine, ReportLine.report_id == ActivityReport.id)
        .join(Team, Team.id == ActivityReport.team_id)
        .join(Unit, Unit.id == Team.unit_id)
        .where(ActivityReport.month.in_(period.month_keys), ActivityReport.status == ReportStatus.VERIFIED)
        .where(or_(*[Unit.path.startswith(prefix) for prefix in by_path]))
        .group_by(Unit.path, ReportLine.activity_id)
    )
    for path, activity_id, total in rows:
        for prefix, unit_id in by_path.items():
            if path.startswith(prefix):
                totals[(unit_id, activity_id)] = totals.get((unit_id, activity_id), 0) + int(total)
    return totals


def team_targets(period: Period, unit: Unit | None = None) -> dict[Key, int]:
    """Targets per (team, activity) set for exactly ``period``, for the teams of ``unit`` and below."""
    rows = db.session.execute(
        select(Target.team_id, Target.activity_id, Target.quantity)
        .join(Team, Team.id == Target.team_id)
        .join(Unit, Unit.id == Team.unit_id)
        .where(Target.period == period.key, under(unit))
    )
    return {(team_id, activity_id): quantity for team_id, activity_id, quantity in rows}


def unit_targets(period: Period, unit_ids: list[int] | None = None) -> dict[Key, int]:
    """Targets per (unit, activity) set for exactly ``period`` (all units when ``unit_ids`` is None)."""
    query = select(Target.unit_id, Target.activity_id, Target.quantity).where(
        Target.period == period.key, Target.unit_id.isnot(None)
    )
    if unit_ids is not None:
        query = query.where(Target.unit_id.in_(unit_ids))
    return {(unit_id, activity_id): quantity for unit_id, activity_id, quantity in db.session.execute(query)}
