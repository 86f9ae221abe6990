"""Progress pages: achieved against target per activity for a team or a unit, with SVG bar charts
drawn on the server, and the units and teams below a unit ranked with the laggards marked. The rules
(targets summed from below, the expected share, who lags, who sees what) are in
competitions.emulation.progress."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import format_decimal, format_percent
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from competitions.emulation import progress
from competitions.emulation.periods import period_from_args
from competitions.emulation.targets import holder_parent_id, period_choices
from core.accounts.permissions import SIGNED_IN, access
from core.db_types import utcnow
from core.extensions import db
from core.org.models import Unit
from core.org.scope import in_scope
from core.org.service import ancestors
from core.teams.models import Team
from core.teams.service import active_membership_of, is_staff

bp = Blueprint("progress", __name__, url_prefix="/emulation/progress")


@bp.app_template_filter("progress_percent")
def progress_percent(ratio: float | None) -> str:
    return "—" if ratio is None else format_percent(ratio, format="#,##0%")


@bp.app_template_filter("progress_quantity")
def progress_quantity(value: int | None) -> str:
    return "—" if value is None else format_decimal(value, format="#,##0")


@bp.route("/")
@access(SIGNED_IN)
def index() -> str | Response:
    """Staff start at their unit, members at their team."""
    period = period_from_args()
    if is_staff(current_user):
        unit = current_user.unit
        if unit is None:
            roots = list(db.session.scalars(select(Unit).where(Unit.parent_id.is_(None), Unit.active)
                                            .order_by(Unit.name)))
            if len(roots) != 1:
                return render_template("emulation/progress_roots.html", roots=roots, period=period)
            unit = roots[0]
        return redirect(url_for(".unit_page", unit_id=unit.id, period=period.key))
    membership = active_membership_of(current_user)
    if membership is None:
        return render_template("emulation/progress_roots.html", roots=[], period=period)
    return redirect(url_for(".team_page", team_id=membership.team_id, period=period.key))


@bp.route("/units/<int:unit_id>")
@access(SIGNED_IN)
def unit_page(unit_id: int) -> str:
    unit = db.get_or_404(Unit, unit_id)
    progress.require_view_unit(current_user, unit)
    period = period_from_args()
    return render_template(
        "emulation/progress_unit.html", report=progress.unit_progress(unit, period), period=period,
        periods=period_choices(utcnow(), period),
        ancestors=[(a, in_scope(current_user, a)) for a in ancestors(unit)],
    )


@bp.route("/teams/<int:team_id>")
@access(SIGNED_IN)
def team_page(team_id: int) -> str:
    team = db.get_or_404(Team, team_id)
    progress.require_view_team(current_user, team)
    period = period_from_args()
    parent_id = holder_parent_id(team.unit)  # the unit whose page lists this team
    parent = db.session.get(Unit, parent_id) if parent_id is not None else None
    return render_template(
        "emulation/progress_team.html", team=team, period=period, periods=period_choices(utcnow(), period),
        progress_rows=progress.team_progress(team, period), expected=progress.expected_share(period),
        staff_unit=parent if parent is not None and progress.can_view_unit(current_user, parent) else None,
    )
