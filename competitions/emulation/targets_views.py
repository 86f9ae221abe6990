"""The targets screens: a unit's grid for a period (its own row, one row per unit or team directly
below, the split check), saving it all or nothing, and the Excel export and import (upload → preview →
confirm). The rules are in competitions.emulation.targets and target_sheets."""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from werkzeug.wrappers import Response

from competitions.emulation import target_sheets, targets
from competitions.emulation.periods import Period, period_from_args
from competitions.emulation.targets import CellError, GridErrors
from core.accounts.permissions import STAFF, access
from core.db_types import utcnow
from core.downloads import xlsx_download
from core.errors import ValidationError
from core.extensions import db
from core.forms import show_error
from core.imports.forms import ConfirmForm
from core.imports.preview import discard_plan, keep_for_confirm, load_plan
from core.imports.views import preview_page
from core.org.models import Unit
from core.org.scope import in_scope
from core.org.service import ancestors

bp = Blueprint("targets", __name__, url_prefix="/emulation/targets")

_CELL = re.compile(r"^c-([ut]\d+)-(\d+)$")
_PLAN_KIND = "targets"


class TargetsUploadForm(FlaskForm):
    file = FileField(
        _l("Tệp chỉ tiêu (.xlsx hoặc .csv)"), validators=[FileRequired(_l("Hãy chọn tệp để tải lên."))],
        render_kw={"accept": ".xlsx,.csv"},
    )


def _unit(unit_id: int) -> Unit:
    """The unit, if it exists (404) and the user may see its targets (403)."""
    unit = db.get_or_404(Unit, unit_id)
    targets.require_view(current_user, unit)
    return unit


def _grid_url(unit: Unit, period: Period) -> str:
    return url_for(".grid", unit_id=unit.id, period=period.key)


def _posted_cells() -> dict[str, dict[int, str]]:
    cells: dict[str, dict[int, str]] = {}
    for name, value in request.form.items():
        if match := _CELL.match(name):
            cells.setdefault(match.group(1), {})[int(match.group(2))] = value
    return cells


@bp.route("/")
@access(*STAFF)
def index() -> str | Response:
    """One's own unit; an admin without one picks a province."""
    period = period_from_args()
    if current_user.unit is not None:
        return redirect(_grid_url(current_user.unit, period))
    roots = list(db.session.scalars(select(Unit).where(Unit.parent_id.is_(None), Unit.active).order_by(Unit.name)))
    if len(roots) == 1:
        return redirect(_grid_url(roots[0], period))
    return render_template("emulation/targets_roots.html", roots=roots, period=period)


@bp.route("/<int:unit_id>", methods=["GET", "POST"])
@access(*STAFF)
def grid(unit_id: int) -> tuple[str, int] | Response:
    unit, period = _unit(unit_id), period_from_args()
    posted: dict[str, dict[int, str]] = {}
    errors: list[CellError] = []
    if request.method == "POST":
        posted = _posted_cells()
        try:
            saved = targets.save_grid(current_user, unit, period, posted)
        except GridErrors as error:
            db.session.rollback()
            errors = error.errors
            flash(error.message, "error")
        except ValidationError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("Đã lưu chỉ tiêu %(p)s: %(n)d ô thay đổi.", p=period.label, n=saved.changed)
                  if saved.changed else _("Không có ô nào thay đổi."), "success")
            return redirect(_grid_url(unit, period))
    return render_template(
        "emulation/targets.html", grid=targets.target_grid(unit, period, current_user), period=period,
        periods=targets.period_choices(utcnow(), period), posted=posted,
        errors={(e.holder_key, e.activity_id): e.message for e in errors}, error_list=errors,
        ancestors=[(a, in_scope(current_user, a)) for a in ancestors(unit)],
        can_split=targets.can_split(current_user, unit),
    ), 422 if errors else 200


@bp.route("/<int:unit_id>/chi-tieu.xlsx")
@access(*STAFF)
def export(unit_id: int) -> Response:
    unit, period = _unit(unit_id), period_from_args()
    data = target_sheets.export_targets(unit, period, current_user)
    return xlsx_download(data, f"chi-tieu-{period.key}-{unit.code or unit.id}.xlsx")


def _preview(plan: target_sheets.TargetPlan, filename: str, headers: dict[str, str], token: str | None,
             status: int = 200) -> tuple[str, int]:
    return preview_page("emulation/targets_preview.html", plan, filename, headers, token, status)


@bp.route("/<int:unit_id>/import", methods=["GET", "POST"])
@access(*STAFF)
def import_upload(unit_id: int) -> tuple[str, int]:
    unit, period = _unit(unit_id), period_from_args()
    if not targets.can_split(current_user, unit):
        abort(403)
    form = TargetsUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            table = target_sheets.read_targets_file(upload.filename, upload.stream)
        except ValidationError as error:
            show_error(form, error)
        else:
            plan = target_sheets.import_targets(table.rows, unit, period, current_user, table.headers, dry_run=True)
            params = {"headers": table.headers, "unit_id": unit.id, "period": period.key}
            token = keep_for_confirm(_PLAN_KIND, current_user.id, upload.filename, plan, table.rows, params)
            return _preview(plan, upload.filename, table.headers, token)
    return render_template("emulation/targets_import.html", form=form, unit=unit, period=period), 200


@bp.route("/import/confirm", methods=["POST"])
@access(*STAFF)
def import_confirm() -> Response | tuple[str, int]:
    form = ConfirmForm()
    try:
        stored = load_plan(_PLAN_KIND, form.token.data, current_user.id)
    except ValidationError as error:
        flash(error.message, "error")
        return redirect(url_for(".index"))
    unit, period = _unit(stored.params["unit_id"]), Period.parse(stored.params["period"])
    headers = stored.params["headers"]
    try:
        plan = target_sheets.import_targets(stored.rows, unit, period, current_user, headers)
    except ValidationError as error:  # a write refused mid-way: its SAVEPOINT is undone
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".import_upload", unit_id=unit.id, period=period.key))
    if not plan.written:
        flash(_("Chỉ tiêu hoặc danh sách đơn vị đã thay đổi sau lần xem trước nên chưa ghi gì; hãy xem các lỗi "
                "dưới đây."), "error")
        return _preview(plan, stored.filename, headers, None, status=409)
    saved = plan.saved
    assert saved is not None
    db.session.commit()
    discard_plan(_PLAN_KIND)
    flash(_("Đã nhập chỉ tiêu %(p)s: %(c)d mới, %(u)d sửa, %(r)d xóa.",
            p=period.label, c=saved.created, u=saved.updated, r=saved.removed), "success")
    return redirect(_grid_url(unit, period))
