"""Administration of user accounts (admin only): list, create, edit, reset a password."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from core.accounts import service as accounts
from core.accounts.models import Role, User
from core.accounts.permissions import access
from core.accounts.roles import RoleCode
from core.errors import ValidationError
from core.extensions import db
from core.forms import saved
from core.org import service as org
from core.org.models import Unit, UnitKind
from core.users.forms import ResetPasswordForm, UserCreateForm, UserEditForm

bp = Blueprint("users", __name__, url_prefix="/admin/users")

# Hamlets are left out of the unit select (a province has thousands): members reach a hamlet
# by joining its team, and staff accounts belong to a commune or higher.
_ACCOUNT_UNIT_KINDS = frozenset(UnitKind) - {UnitKind.HAMLET}


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _role_choices() -> list[tuple[str, str]]:
    vietnamese = str(get_locale()) == "vi"
    roles = db.session.scalars(select(Role).order_by(Role.rank.desc()))
    return [(role.code, role.name_vi if vietnamese else role.name_en) for role in roles]


def _unit_choices(current: Unit | None = None) -> list[tuple[int, str]]:
    units = [n.unit for n in org.flatten(org.scope_tree(current_user, active_only=True, kinds=_ACCOUNT_UNIT_KINDS))]
    if current is not None and current not in units:
        units.insert(0, current)  # keep a hamlet or inactive unit the account already has
    return [(0, _("— Không thuộc đơn vị nào (chỉ dành cho quản trị) —"))] + [
        (u.id, "\u00a0\u00a0" * u.depth + f"{u.name} · {org.kind_label(u.kind)}") for u in units
    ]


def _chosen_unit(unit_id: int | None) -> Unit | None:
    if not unit_id:
        return None
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise ValidationError(_("Đơn vị không tồn tại."), field="unit_id")
    return unit


@bp.route("/")
@access(RoleCode.ADMIN)
def list_users() -> str:
    q = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    role = role if role in set(RoleCode) else ""
    page = accounts.search_users(q, role or None, request.args.get("page", type=int))
    return render_template(
        # not "role": base.html sets a top-level "role" that would shadow it
        "core/users/list.html", page=page, q=q, role_filter=role, roles=_role_choices(),
        args={key: value for key, value in (("q", q), ("role", role)) if value},
    )


@bp.route("/new", methods=["GET", "POST"])
@access(RoleCode.ADMIN)
def create_user() -> str | Response:
    form = UserCreateForm()
    form.role.choices = _role_choices()
    form.unit_id.choices = _unit_choices()
    if request.method == "GET":
        form.role.data = RoleCode.MEMBER.value
    if form.validate_on_submit():
        created = saved(
            lambda: accounts.create_user(
                form.full_name.data, role=form.role.data, unit=_chosen_unit(form.unit_id.data),
                phone=form.phone.data, username=form.username.data, password=form.password.data,
            ),
            lambda user: _("Đã tạo tài khoản cho %(n)s.", n=user.full_name), form,
        )
        if created is not None:
            return redirect(url_for("users.list_users"))
    return render_template("core/users/create.html", form=form)


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@access(RoleCode.ADMIN)
def edit_user(user_id: int) -> str | Response:
    user = _user(user_id)
    form = UserEditForm(obj=user)
    form.role.choices = _role_choices()
    form.unit_id.choices = _unit_choices(user.unit)
    if request.method == "GET":
        form.role.data = user.role_code  # obj= would hand the field the Role row, not its code
        form.unit_id.data = user.unit_id or 0
    if form.validate_on_submit() and saved(
        lambda: accounts.update_user(
            user, form.full_name.data, form.role.data, _chosen_unit(form.unit_id.data),
            form.phone.data, form.username.data, form.active.data, actor=current_user,
        ),
        lambda u: _("Đã lưu tài khoản của %(n)s.", n=u.full_name), form,
    ):
        return redirect(url_for("users.list_users"))
    return render_template("core/users/edit.html", form=form, user=user)


@bp.route("/<int:user_id>/password", methods=["GET", "POST"])
@access(RoleCode.ADMIN)
def reset_password(user_id: int) -> str | Response:
    user = _user(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        message = _("Đã đặt mật khẩu mới cho %(n)s. Hãy báo cho người dùng và nhắc họ đổi mật khẩu.", n=user.full_name)
        if saved(lambda: accounts.reset_password(user, form.new_password.data), message, form):
            return redirect(url_for("users.list_users"))
    return render_template("core/users/password.html", form=form, user=user)
