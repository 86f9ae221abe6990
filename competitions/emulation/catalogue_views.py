"""The activity catalogue screens (admins only): list, add, edit, deactivate and bring back a kind.
The rules are in competitions.emulation.catalogue."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, StringField

from competitions.emulation import catalogue
from competitions.emulation.catalogue import ActivityInput
from competitions.emulation.models import ActivityKind
from competitions.forms import NumberField
from core.accounts.permissions import access
from core.accounts.roles import RoleCode
from core.extensions import db
from core.forms import saved

bp = Blueprint("activities", __name__, url_prefix="/emulation/activities")


class ActivityForm(FlaskForm):
    name = StringField(_l("Tên hoạt động"), render_kw={"maxlength": catalogue.MAX_NAME})
    unit_label = StringField(_l("Đơn vị tính"), render_kw={"maxlength": catalogue.MAX_UNIT_LABEL})
    evidence_required = BooleanField(_l("Bắt buộc có minh chứng (ảnh hoặc liên kết)"))
    plausible_per_member = NumberField(
        _l("Ngưỡng hợp lý mỗi thành viên mỗi tháng"),
        render_kw={"min": 1, "max": catalogue.MAX_PLAUSIBLE, "inputmode": "numeric"},
    )
    position = NumberField(_l("Thứ tự hiển thị"), render_kw={"min": 0, "max": catalogue.MAX_POSITION,
                                                           "inputmode": "numeric"})

    def to_input(self) -> ActivityInput:
        return ActivityInput(
            name=self.name.data or "", unit_label=self.unit_label.data or "",
            evidence_required=bool(self.evidence_required.data),
            plausible_per_member=self.plausible_per_member.data, position=self.position.data,
        )


@bp.route("/")
@access(RoleCode.ADMIN)
def list_activities() -> str:
    return render_template("emulation/activities.html", kinds=catalogue.kinds(active_only=False))


@bp.route("/new", methods=["GET", "POST"])
@access(RoleCode.ADMIN)
def create_activity() -> str | Response:
    form = ActivityForm()
    if form.validate_on_submit():
        kind = saved(lambda: catalogue.create_kind(form.to_input(), current_user),
                     lambda k: _("Đã thêm hoạt động “%(n)s”.", n=k.name), form)
        if kind is not None:
            return redirect(url_for(".list_activities"))
    return render_template("emulation/activities_form.html", form=form, kind=None)


@bp.route("/<int:kind_id>/edit", methods=["GET", "POST"])
@access(RoleCode.ADMIN)
def edit_activity(kind_id: int) -> str | Response:
    kind = db.get_or_404(ActivityKind, kind_id)
    form = ActivityForm(obj=kind)
    if form.validate_on_submit() and saved(
        lambda: catalogue.update_kind(kind, form.to_input(), current_user),
        lambda k: _("Đã lưu hoạt động “%(n)s”.", n=k.name), form,
    ) is not None:
        return redirect(url_for(".list_activities"))
    return render_template("emulation/activities_form.html", form=form, kind=kind)


@bp.route("/<int:kind_id>/<any(deactivate, reactivate):action>", methods=["POST"])
@access(RoleCode.ADMIN)
def toggle_activity(kind_id: int, action: str) -> Response:
    kind = db.get_or_404(ActivityKind, kind_id)
    active = action == "reactivate"
    saved(
        lambda: catalogue.set_active(kind, active, current_user),
        lambda k: _("Hoạt động “%(n)s” được dùng lại.", n=k.name) if active else _(
            "Đã ngừng sử dụng hoạt động “%(n)s”; báo cáo và chỉ tiêu đã có vẫn giữ nguyên.", n=k.name),
    )
    return redirect(url_for(".list_activities"))
