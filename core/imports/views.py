"""Upload → preview (nothing written) → confirm (re-checked, written, committed) for the org tree and rosters."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from core.accounts.models import User
from core.accounts.permissions import access
from core.accounts.roles import RoleCode
from core.downloads import xlsx_download
from core.errors import ValidationError
from core.extensions import db
from core.forms import show_error
from core.imports.forms import ConfirmForm, MembersUploadForm, UnitsUploadForm
from core.imports.plan import ImportPlan, RowStatus
from core.imports.preview import StoredPlan, discard_plan, keep_for_confirm, load_plan
from core.org import importer as org_importer
from core.org.models import COMMUNE_LEVEL, Unit, UnitKind
from core.org.scope import units_in_scope
from core.teams import importer as team_importer

bp = Blueprint("imports", __name__, url_prefix="/import")

#: the preview lists every row with an error, and the other rows up to this many (a phone must cope)
PREVIEW_ROWS = 200
_CONTAINERS = COMMUNE_LEVEL | {UnitKind.PROVINCE, UnitKind.DISTRICT}


def preview_page(template: str, plan: ImportPlan, filename: str, headers: dict[str, str], token: str | None,
                 status: int = 200, **context: object) -> tuple[str, int]:
    """A preview of a checked file (every error row, and up to PREVIEW_ROWS others), with the confirm
    form when ``token`` (from ``keep_for_confirm``) is given."""
    return render_template(
        template, plan=plan, filename=filename, headers=headers,
        rows=plan.visible_rows(PREVIEW_ROWS), preview_rows=PREVIEW_ROWS,
        confirm=ConfirmForm(token=token) if token else None, **context,
    ), status


def _preview(kind: str, plan: ImportPlan, filename: str, headers: dict[str, str], token: str | None,
             status: int = 200) -> tuple[str, int]:
    return preview_page("core/imports/preview.html", plan, filename, headers, token, status, kind=kind)


def _confirm(
    kind: str, apply: Callable[[StoredPlan], tuple[ImportPlan, str]], stale: str,
    success: Callable[[ImportPlan], str],
) -> Response | tuple[str, int]:
    """Write a stored preview, re-checked against the database as it is now: all or nothing.
    ``apply`` runs the import and says where to go after; ``stale`` explains a plan that no longer
    holds (shown again with its new errors, status 409)."""
    form = ConfirmForm()
    try:
        stored = load_plan(kind, form.token.data, current_user.id)
        plan, done_url = apply(stored)
    except ValidationError as error:  # expired preview, or a write refused mid-way (its SAVEPOINT is undone)
        flash(str(error), "error")
        return redirect(url_for(f".{kind}_upload"))
    if not plan.written:
        flash(stale, "error")
        return _preview(kind, plan, stored.filename, stored.params["headers"], None, status=409)
    message = success(plan)
    db.session.commit()
    discard_plan(kind)
    flash(message, "success")
    return redirect(done_url)


# ---- org tree --------------------------------------------------------------------------------

@bp.route("/units", methods=["GET", "POST"])
@access(RoleCode.ADMIN)
def units_upload() -> str | tuple[str, int]:
    form = UnitsUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            table = org_importer.read_units_file(upload.filename, upload.stream)
        except ValidationError as error:
            show_error(form, error)
        else:
            plan = org_importer.import_units(table.rows, dry_run=True)
            token = keep_for_confirm("units", current_user.id, upload.filename, plan, table.rows,
                                     {"headers": table.headers})
            return _preview("units", plan, upload.filename, table.headers, token)
    return render_template("core/imports/units_upload.html", form=form)


@bp.route("/units/confirm", methods=["POST"])
@access(RoleCode.ADMIN)
def units_confirm() -> Response | tuple[str, int]:
    return _confirm(
        "units", lambda stored: (org_importer.import_units(stored.rows), url_for("org.units")),
        stale=_("Cây đơn vị đã thay đổi sau lần xem trước nên chưa ghi gì; hãy xem các lỗi dưới đây."),
        success=lambda plan: _("Đã nhập %(new)d đơn vị mới; %(same)d dòng đã có sẵn, không thay đổi.",
                               new=plan.count(RowStatus.NEW), same=plan.count(RowStatus.UNCHANGED)),
    )


@bp.route("/units/template.xlsx")
@access(RoleCode.ADMIN)
def units_template() -> Response:
    return xlsx_download(org_importer.units_template(), "mau-nhap-don-vi.xlsx")


# ---- team rosters ----------------------------------------------------------------------------

def _unit_choices(user: User) -> list[tuple[int, str]]:
    """Units the person may import into, in tree order: province, districts, communes."""
    # containers only (never thousands of hamlets); a container's parent is a container, so the tree holds
    query = units_in_scope(user).where(Unit.active, Unit.kind.in_(_CONTAINERS) | (Unit.id == user.unit_id))
    units = db.session.scalars(query).all()
    children: dict[int | None, list[Unit]] = {}
    for unit in sorted(units, key=lambda u: u.name):
        children.setdefault(unit.parent_id, []).append(unit)
    ids = {unit.id for unit in units}
    roots = [unit for unit in units if unit.parent_id not in ids]
    choices: list[tuple[int, str]] = []

    def walk(unit: Unit, level: int) -> None:
        choices.append((unit.id, "— " * level + unit.name))
        for child in children.get(unit.id, []):
            walk(child, level + 1)

    for root in sorted(roots, key=lambda u: u.name):
        walk(root, 0)
    return choices


def _members_form() -> MembersUploadForm:
    form = MembersUploadForm()
    form.unit_id.choices = _unit_choices(current_user)
    if form.unit_id.data is None and current_user.unit_id is not None:
        form.unit_id.data = current_user.unit_id
    return form


def _import_unit(unit_id: int | None) -> Unit:
    unit = db.session.get(Unit, unit_id) if unit_id else None
    if unit is None:
        abort(404)
    return unit  # the importer refuses a unit outside the person's scope


@bp.route("/members", methods=["GET", "POST"])
@access(RoleCode.ADMIN, RoleCode.OFFICER)
def members_upload() -> str | tuple[str, int]:
    form = _members_form()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            if form.unit_id.data not in dict(form.unit_id.choices):
                raise ValidationError(_("Hãy chọn một đơn vị trong danh sách."), field="unit_id")
            unit = _import_unit(form.unit_id.data)
            table = team_importer.read_members_file(upload.filename, upload.stream)
        except ValidationError as error:
            show_error(form, error)
        else:
            plan = team_importer.import_members(table.rows, unit, current_user, dry_run=True)
            params = {"headers": table.headers, "unit_id": unit.id}
            token = keep_for_confirm("members", current_user.id, upload.filename, plan, table.rows, params)
            return _preview("members", plan, upload.filename, table.headers, token)
    return render_template("core/imports/members_upload.html", form=form)


@bp.route("/members/confirm", methods=["POST"])
@access(RoleCode.ADMIN, RoleCode.OFFICER)
def members_confirm() -> Response | tuple[str, int]:
    def apply(stored: StoredPlan) -> tuple[ImportPlan, str]:
        unit = _import_unit(stored.params["unit_id"])
        plan = team_importer.import_members(stored.rows, unit, current_user)
        return plan, url_for("teams.list_teams", unit_id=unit.id)

    return _confirm(
        "members", apply,
        stale=_("Danh sách tổ đã thay đổi sau lần xem trước nên chưa ghi gì; hãy xem các lỗi dưới đây."),
        success=lambda plan: _(
            "Đã thêm %(new)d thành viên vào %(teams)d tổ; %(same)d dòng đã có sẵn, không thay đổi.",
            new=plan.count(RowStatus.NEW), teams=sum(1 for t in plan.teams if t.new),
            same=plan.count(RowStatus.UNCHANGED),
        ),
    )


@bp.route("/members/template.xlsx")
@access(RoleCode.ADMIN, RoleCode.OFFICER)
def members_template() -> Response:
    return xlsx_download(team_importer.members_template(), "mau-danh-sach-to-cnscd.xlsx")

