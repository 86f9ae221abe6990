"""Monthly reports as Excel: the page listing the downloads of a month for the signed-in staff
member, and the downloads themselves (a commune's report; the compiled report of a province or
district). Who may download what is decided by competitions.emulation.monthly_reports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from competitions.emulation import monthly_reports
from competitions.emulation.periods import Period, current_month
from core.accounts.models import User
from core.accounts.permissions import STAFF, access
from core.db_types import utcnow
from core.downloads import xlsx_download
from core.errors import ValidationError
from core.extensions import db
from core.org.models import Unit, UnitKind
from core.org.scope import unit_scope_clause
from core.text import fold, slug
from core.timeutil import to_local

bp = Blueprint("emulation_exports", __name__, url_prefix="/emulation/exports")


def _default_month() -> Period:
    """The month just ended: its report is compiled in the following month, up to the deadline day."""
    return Period.month_of(current_month(utcnow()).first_day - timedelta(days=1))


@bp.route("/")
@access(*STAFF)
def downloads() -> str:
    error = None
    try:
        month = monthly_reports.report_month(request.args["month"]) if request.args.get("month") else None
    except ValidationError as problem:
        error, month = problem.message, None
    month = month or _default_month()
    kinds = [str(UnitKind.PROVINCE), str(UnitKind.DISTRICT), *monthly_reports.COMMUNE_KINDS]
    units = list(db.session.scalars(select(Unit).where(unit_scope_clause(current_user), Unit.kind.in_(kinds))))
    compiled = [u for u in units if monthly_reports.can_export_compiled(current_user, u)]
    communes = [u for u in units if monthly_reports.can_export_commune(current_user, u)]
    names = {u.id: fold(u.name) for u in units}

    def tree_order(unit: Unit) -> list[str]:
        return [names.get(i, "") for i in unit.ancestor_ids()]

    return render_template(
        "emulation/exports.html", month=month, error=error,
        compiled=sorted(compiled, key=tree_order), communes=sorted(communes, key=tree_order),
    )


@bp.route("/communes/<int:commune_id>/<month>.xlsx")
@access(*STAFF)
def commune_report(commune_id: int, month: str) -> Response:
    unit, period = _unit_month(commune_id, month, monthly_reports.can_export_commune)
    data = monthly_reports.commune_workbook(monthly_reports.commune_report(unit, period), to_local(utcnow()).date())
    return _download(data, "bao-cao-thang", unit, period)


@bp.route("/compiled/<int:area_id>/<month>.xlsx")
@access(*STAFF)
def compiled_report(area_id: int, month: str) -> Response:
    """The compiled report of a province or a district (``area_id``)."""
    unit, period = _unit_month(area_id, month, monthly_reports.can_export_compiled)
    data = monthly_reports.compiled_workbook(monthly_reports.compiled_report(unit, period), to_local(utcnow()).date())
    return _download(data, "tong-hop-thang", unit, period)


def _unit_month(unit_id: int, month: str, allowed: Callable[[User, Unit], bool]) -> tuple[Unit, Period]:
    """The unit (404) if the user may export its report (403), and the month (404)."""
    unit = db.get_or_404(Unit, unit_id)
    monthly_reports.require(allowed(current_user, unit))
    try:
        return unit, monthly_reports.report_month(month)
    except ValidationError:
        abort(404)


def _download(data: bytes, name: str, unit: Unit, period: Period) -> Response:
    return xlsx_download(data, f"{name}-{period.key}-{slug(unit.name)}.xlsx")
