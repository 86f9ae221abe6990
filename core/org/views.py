"""The org tree screens: tree, unit page (the commune page for commune-level units), and the
admin's create / rename / move / deactivate. Staff see their scope; only admin changes the tree."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from core.accounts.permissions import STAFF, access
from core.accounts.roles import RoleCode
from core.errors import ValidationError
from core.extensions import db
from core.forms import saved
from core.org import service as org
from core.org.forms import NO_PARENT, UnitCreateForm, UnitEditForm, UnitMoveForm
from core.org.models import Unit, UnitKind
from core.org.scope import in_scope
from core.teams import service as teams

bp = Blueprint("org", __name__, url_prefix="/units")
bp.add_app_template_filter(org.kind_label, "unit_kind")


def _unit(unit_id: int) -> Unit:
    """The unit, if it exists (404) and lies in the user's scope (403)."""
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        abort(404)
    org.require_in_scope(current_user, unit)
    return unit


def _parent_options(units: list[Unit], root_choice: bool) -> list[tuple[int, str]]:
    """Indented labels ("— Ấp Phước Lợi · Ấp") so the select reads like the tree."""
    base = min((u.depth for u in units), default=0)
    options = [(NO_PARENT, _("— Không trực thuộc đơn vị nào (cấp tỉnh) —"))] if root_choice else []
    options += [
        (u.id, "\u00a0\u00a0" * (u.depth - base) + f"{u.name} · {org.kind_label(u.kind)}") for u in units
    ]
    return options


def _chosen_parent(value: int | None) -> Unit | None:
    """Resolve a posted parent id; one outside the user's scope is refused on the field."""
    if not value:
        return None
    parent = db.session.get(Unit, value)
    if parent is None or not in_scope(current_user, parent):
        raise ValidationError(_("Đơn vị cấp trên không tồn tại hoặc ngoài phạm vi của bạn."), field="parent")
    return parent


def _rules() -> list[tuple[str, list[str]]]:
    """Which kind may sit under which, for the form's help text."""
    return [(org.kind_label(kind), org.allowed_parent_labels(kind)) for kind in UnitKind]


@bp.route("/")
@access(*STAFF)
def units() -> str:
    return render_template(
        "core/org/tree.html", roots=org.scope_tree(current_user),
        can_edit=current_user.role_code == RoleCode.ADMIN,
    )


@bp.route("/<int:unit_id>")
@access(*STAFF)
def unit_detail(unit_id: int) -> str:
    unit = _unit(unit_id)
    # Teams are listed on commune-level units and below; a province or district page would
    # run to hundreds, so there the children's counts and a link to the filtered list stand in.
    team_list = org.teams_below(unit) if org.can_hold_team(unit) else []
    counts = teams.member_counts([team.id for team in team_list])
    return render_template(
        "core/org/detail.html",
        unit=unit,
        ancestors=[(a, in_scope(current_user, a)) for a in org.ancestors(unit)],
        children=org.children_with_counts(unit),
        teams=[(team, teams.size_status(team, counts.get(team.id, 0))) for team in team_list],
        can_edit=current_user.role_code == RoleCode.ADMIN,
        can_add_team=org.can_hold_team(unit) and unit.active,
        can_have_children=unit.kind_enum in org.PARENT_KINDS,
    )


@bp.route("/new", methods=["GET", "POST"])
@access(RoleCode.ADMIN)
def create_unit() -> str | Response:
    form = UnitCreateForm()
    form.parent.choices = _parent_options(org.parent_choices(current_user), root_choice=True)
    if request.method == "GET":
        form.parent.data = request.args.get("parent", type=int) or NO_PARENT
        if request.args.get("kind") in set(UnitKind):
            form.kind.data = request.args["kind"]
    if form.validate_on_submit():
        unit = saved(
            lambda: org.create_unit(form.name.data, form.kind.data, _chosen_parent(form.parent.data), form.code.data),
            lambda u: _("Đã thêm đơn vị “%(u)s”.", u=u.name), form,
        )
        if unit is not None:
            return redirect(url_for("org.unit_detail", unit_id=unit.id))
    return render_template("core/org/create.html", form=form, rules=_rules())


@bp.route("/<int:unit_id>/edit", methods=["GET", "POST"])
@access(RoleCode.ADMIN)
def edit_unit(unit_id: int) -> str | Response:
    unit = _unit(unit_id)
    form = UnitEditForm(obj=unit)
    if form.validate_on_submit() and saved(lambda: org.update_unit(unit, form.name.data, form.code.data),
             lambda u: _("Đã lưu đơn vị “%(u)s”.", u=u.name), form):
        return redirect(url_for("org.unit_detail", unit_id=unit.id))
    return render_template("core/org/edit.html", form=form, unit=unit)


@bp.route("/<int:unit_id>/move", methods=["GET", "POST"])
@access(RoleCode.ADMIN)
def move_unit(unit_id: int) -> str | Response:
    unit = _unit(unit_id)
    form = UnitMoveForm()
    form.parent.choices = _parent_options(
        org.parent_choices(current_user, moving=unit), root_choice=None in org.ALLOWED_PARENTS[unit.kind_enum]
    )
    if request.method == "GET":
        form.parent.data = unit.parent_id or NO_PARENT
    if form.validate_on_submit() and saved(lambda: org.move_unit(unit, _chosen_parent(form.parent.data)),
             lambda u: _("Đã chuyển đơn vị “%(u)s”.", u=u.name), form):
        return redirect(url_for("org.unit_detail", unit_id=unit.id))
    return render_template(
        "core/org/move.html", form=form, unit=unit, allowed=org.allowed_parent_labels(unit.kind)
    )


@bp.route("/<int:unit_id>/deactivate", methods=["POST"])
@access(RoleCode.ADMIN)
def deactivate_unit(unit_id: int) -> Response:
    unit = _unit(unit_id)
    saved(lambda: org.deactivate_unit(unit), _("Đã ngừng hoạt động đơn vị “%(u)s”.", u=unit.name))
    return redirect(url_for("org.unit_detail", unit_id=unit_id))


@bp.route("/<int:unit_id>/reactivate", methods=["POST"])
@access(RoleCode.ADMIN)
def reactivate_unit(unit_id: int) -> Response:
    unit = _unit(unit_id)
    saved(lambda: org.reactivate_unit(unit), _("Đã cho đơn vị “%(u)s” hoạt động trở lại.", u=unit.name))
    return redirect(url_for("org.unit_detail", unit_id=unit_id))
