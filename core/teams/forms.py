"""Forms of the team screens; the rules (limits, one leader, one team per person) are in
core.teams.service."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional

from core.forms import ChoiceField
from core.teams.models import TeamRole
from core.teams.service import ROLE_LABELS


def role_choices() -> list[tuple[str, str]]:
    return [(str(role), str(label)) for role, label in ROLE_LABELS.items()]


def _group_link() -> StringField:
    return StringField(
        _l("Liên kết nhóm Zalo (không bắt buộc)"),
        validators=[Optional(), Length(max=500, message=_l("Liên kết dài quá 500 ký tự."))],
        render_kw={"type": "url", "inputmode": "url", "placeholder": "https://zalo.me/g/..."},
    )


class TeamCreateForm(FlaskForm):
    unit_id = ChoiceField(_l("Đơn vị (ấp, xã/phường hoặc doanh nghiệp)"), coerce=int, validate_choice=False)
    name = StringField(
        _l("Tên tổ"),
        validators=[Optional(), Length(max=200, message=_l("Tên tổ dài quá 200 ký tự."))],
    )
    group_link = _group_link()


class TeamEditForm(FlaskForm):
    name = StringField(
        _l("Tên tổ"),
        validators=[
            DataRequired(_l("Chưa nhập tên tổ.")),
            Length(max=200, message=_l("Tên tổ dài quá 200 ký tự.")),
        ],
    )
    group_link = _group_link()


class AddMemberForm(FlaskForm):
    phone = StringField(
        _l("Số điện thoại"),
        validators=[DataRequired(_l("Chưa nhập số điện thoại."))],
        render_kw={"type": "tel", "inputmode": "tel", "autocomplete": "off"},
    )
    full_name = StringField(
        _l("Họ và tên (khi thêm người mới)"),
        validators=[Optional(), Length(max=120, message=_l("Họ và tên dài quá 120 ký tự."))],
    )
    role = ChoiceField(_l("Vai trò trong tổ"), choices=role_choices, default=TeamRole.MEMBER.value)


class RoleForm(FlaskForm):
    role = ChoiceField(_l("Vai trò"), choices=role_choices)
