"""Team screens: list, create, the team page (roster, requests, history) and roster changes.
Who may act on which team is decided by core.teams.service (can_view_team / can_manage_team)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from core.accounts.permissions import SIGNED_IN, STAFF, access
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from core.forms import saved
from core.org import service as org
from core.org.models import Unit
from core.teams import service as teams
from core.teams.forms import AddMemberForm, RoleForm, TeamCreateForm, TeamEditForm, role_choices
from core.teams.models import Membership, MembershipStatus, Team

bp = Blueprint("teams", __name__, url_prefix="/teams")
bp.add_app_template_filter(teams.role_label, "team_role")


def _team(team_id: int) -> Team:
    team = db.session.get(Team, team_id)
    if team is None:
        abort(404)
    return team


def _managed_team(team_id: int) -> Team:
    team = _team(team_id)
    teams.require_manage_team(current_user, team)
    return team


def _membership(team: Team, membership_id: int, status: MembershipStatus) -> Membership:
    """A membership of this team in the expected state; anything else is not found."""
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.team_id != team.id or membership.status != status:
        abort(404)
    return membership


def _unit_options(units: list[Unit]) -> list[tuple[int, str]]:
    base = min((u.depth for u in units), default=0)
    return [(0, _("— Chọn đơn vị —"))] + [
        (u.id, "\u00a0\u00a0" * (u.depth - base) + f"{u.name} · {org.kind_label(u.kind)}") for u in units
    ]


def _back(team: Team) -> Response:
    return redirect(url_for("teams.team_detail", team_id=team.id))


@bp.route("/")
@access(SIGNED_IN)
def list_teams() -> str:
    staff = teams.is_staff(current_user)
    unit = None
    unit_id = request.args.get("unit_id", type=int)
    if unit_id and staff:
        unit = db.session.get(Unit, unit_id)
        if unit is None:
            abort(404)
        org.require_in_scope(current_user, unit)
    q = request.args.get("q", "").strip()
    page = teams.list_teams(current_user, q, unit, request.args.get("page", type=int))
    counts = teams.member_counts([team.id for team in page.items])
    filter_units: list[Unit] = []
    if staff:
        tree = org.scope_tree(current_user, active_only=True, kinds=org.PARENT_KINDS)
        filter_units = [node.unit for node in org.flatten(tree)]
        if unit is not None and unit not in filter_units:
            filter_units.insert(0, unit)  # a hamlet reached from its own page stays selected
    return render_template(
        "core/teams/list.html",
        page=page,
        rows=[(team, teams.size_status(team, counts.get(team.id, 0))) for team in page.items],
        q=q,
        unit=unit,
        staff=staff,
        filter_units=_unit_options(filter_units)[1:],
        area=None if staff else teams.join_area(current_user),
        membership=teams.active_membership_of(current_user),
        args={key: value for key, value in (("q", q), ("unit_id", unit.id if unit else None)) if value},
    )


@bp.route("/new", methods=["GET", "POST"])
@access(*STAFF)
def create_team() -> str | Response:
    form = TeamCreateForm()
    holders = org.team_holder_choices(current_user)
    form.unit_id.choices = _unit_options(holders)
    if request.method == "GET":
        chosen = next((u for u in holders if u.id == request.args.get("unit_id", type=int)), None)
        if chosen is not None:
            form.unit_id.data = chosen.id
            form.name.data = teams.default_team_name(chosen)
    if form.validate_on_submit():
        def create() -> Team:
            unit = next((u for u in holders if u.id == form.unit_id.data), None)
            if unit is None:
                raise ValidationError(_("Hãy chọn một đơn vị trong phạm vi của bạn."), field="unit_id")
            return teams.create_team(unit, form.name.data, form.group_link.data)

        team = saved(create, lambda t: _("Đã lập “%(t)s”.", t=t.name), form)
        if team is not None:
            return _back(team)
    return render_template("core/teams/create.html", form=form)


@bp.route("/<int:team_id>")
@access(SIGNED_IN)
def team_detail(team_id: int) -> str:
    team = _team(team_id)
    teams.require_view_team(current_user, team)
    manage = teams.can_manage_team(current_user, team)
    roster = teams.active_memberships(team)
    mine = teams.active_membership_of(current_user)
    my_request = teams.pending_request_of(current_user, team)
    return render_template(
        "core/teams/detail.html",
        team=team,
        roster=roster,
        size=teams.size_status(team, len(roster)),
        pending=teams.pending_requests(team) if manage else [],
        past=teams.past_memberships(team),
        manage=manage,
        can_dissolve=team.active and teams.can_dissolve_team(current_user, team),
        my_request=my_request,
        can_join=mine is None and my_request is None and teams.can_request_to_join(current_user, team),
        roles=role_choices(),
    )


@bp.route("/<int:team_id>/edit", methods=["GET", "POST"])
@access(SIGNED_IN)
def edit_team(team_id: int) -> str | Response:
    team = _managed_team(team_id)
    form = TeamEditForm(obj=team)
    if form.validate_on_submit() and saved(
        lambda: teams.update_team(team, form.name.data, form.group_link.data), _("Đã lưu thông tin tổ."), form
    ):
        return _back(team)
    return render_template("core/teams/edit.html", form=form, team=team)


@bp.route("/<int:team_id>/members/new", methods=["GET", "POST"])
@access(SIGNED_IN)
def add_member(team_id: int) -> str | Response:
    team = _managed_team(team_id)
    form = AddMemberForm()
    if form.validate_on_submit() and saved(
        lambda: teams.add_member_by_phone(team, form.phone.data, form.full_name.data, form.role.data,
                                          actor=current_user),
        lambda m: _("Đã thêm %(n)s vào tổ.", n=m.user.full_name), form,
    ):
        return _back(team)
    return render_template("core/teams/add_member.html", form=form, team=team, size=teams.size_status(team))


@bp.route("/<int:team_id>/members/<int:membership_id>/role", methods=["POST"])
@access(SIGNED_IN)
def change_role(team_id: int, membership_id: int) -> Response:
    team = _managed_team(team_id)
    membership = _membership(team, membership_id, MembershipStatus.ACTIVE)
    form = RoleForm()
    if not form.validate():
        flash(_("Vai trò không hợp lệ."), "error")
        return _back(team)
    saved(lambda: teams.change_role(membership, form.role.data),
          _("Đã đổi vai trò của %(n)s.", n=membership.user.full_name))
    return _back(team)


@bp.route("/<int:team_id>/members/<int:membership_id>/remove", methods=["POST"])
@access(SIGNED_IN)
def remove_member(team_id: int, membership_id: int) -> Response:
    team = _managed_team(team_id)
    membership = _membership(team, membership_id, MembershipStatus.ACTIVE)
    teams.remove_member(membership, current_user)
    db.session.commit()
    flash(_("%(n)s đã rời tổ; lịch sử tham gia vẫn được giữ.", n=membership.user.full_name), "success")
    return _back(team)


@bp.route("/<int:team_id>/requests/<int:membership_id>/approve", methods=["POST"])
@access(SIGNED_IN)
def approve_request(team_id: int, membership_id: int) -> Response:
    team = _managed_team(team_id)
    membership = _membership(team, membership_id, MembershipStatus.PENDING)
    saved(lambda: teams.approve_request(membership, current_user),
          _("Đã nhận %(n)s vào tổ.", n=membership.user.full_name))
    return _back(team)


@bp.route("/<int:team_id>/requests/<int:membership_id>/reject", methods=["POST"])
@access(SIGNED_IN)
def reject_request(team_id: int, membership_id: int) -> Response:
    team = _managed_team(team_id)
    membership = _membership(team, membership_id, MembershipStatus.PENDING)
    teams.reject_request(membership, current_user)
    db.session.commit()
    flash(_("Đã từ chối yêu cầu của %(n)s.", n=membership.user.full_name), "info")
    return _back(team)


@bp.route("/<int:team_id>/join", methods=["POST"])
@access(SIGNED_IN)
def request_join(team_id: int) -> Response:
    team = _team(team_id)
    saved(lambda: teams.request_to_join(team, current_user), _("Đã gửi yêu cầu tham gia; tổ trưởng sẽ xem xét."))
    return _back(team)


@bp.route("/<int:team_id>/dissolve", methods=["GET", "POST"])
@access(*STAFF)
def dissolve_team(team_id: int) -> str | Response:
    """GET asks to confirm (dissolving cannot be undone from the screens); POST does it."""
    team = _team(team_id)
    if not teams.can_dissolve_team(current_user, team):
        raise PermissionDenied
    if request.method == "GET":
        return render_template("core/teams/dissolve.html", team=team, size=teams.size_status(team))
    saved(lambda: teams.dissolve_team(team, current_user),
          _("Đã giải thể “%(t)s”; thành viên được ghi nhận rời tổ hôm nay.", t=team.name))
    return _back(team)
