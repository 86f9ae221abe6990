"""Forms of the account administration screens (admin only)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from core.forms import ChoiceField


def _full_name() -> StringField:
    return StringField(
        _l("Họ và tên"),
        validators=[
            DataRequired(_l("Chưa nhập họ và tên.")),
            Length(max=120, message=_l("Họ và tên dài quá 120 ký tự.")),
        ],
    )


def _phone() -> StringField:
    return StringField(
        _l("Số điện thoại"), validators=[Optional()],
        render_kw={"type": "tel", "inputmode": "tel", "autocomplete": "off"},
    )


def _username() -> StringField:
    return StringField(
        _l("Tên đăng nhập"), validators=[Optional()],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )


def _new_password(label: str) -> PasswordField:
    return PasswordField(
        label, validators=[DataRequired(_l("Hãy nhập mật khẩu."))], render_kw={"autocomplete": "new-password"}
    )


def _confirm(other: str) -> PasswordField:
    return PasswordField(
        _l("Nhập lại mật khẩu"),
        validators=[EqualTo(other, message=_l("Hai lần nhập mật khẩu không khớp."))],
        render_kw={"autocomplete": "new-password"},
    )


class UserCreateForm(FlaskForm):
    full_name = _full_name()
    phone = _phone()
    username = _username()
    role = ChoiceField(_l("Vai trò"))
    unit_id = ChoiceField(_l("Đơn vị"), coerce=int, validate_choice=False)
    password = _new_password(_l("Mật khẩu ban đầu"))
    confirm = _confirm("password")


class UserEditForm(FlaskForm):
    full_name = _full_name()
    phone = _phone()
    username = _username()
    role = ChoiceField(_l("Vai trò"))
    unit_id = ChoiceField(_l("Đơn vị"), coerce=int, validate_choice=False)
    active = BooleanField(_l("Đang hoạt động (được đăng nhập)"))


class ResetPasswordForm(FlaskForm):
    new_password = _new_password(_l("Mật khẩu mới"))
    confirm = _confirm("new_password")
