from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    login = StringField(
        _l("Số điện thoại hoặc tên đăng nhập"),
        validators=[DataRequired(_l("Hãy nhập số điện thoại hoặc tên đăng nhập."))],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        _l("Mật khẩu"), validators=[DataRequired(_l("Hãy nhập mật khẩu."))],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Ghi nhớ đăng nhập trên máy này"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Mật khẩu hiện tại"), validators=[DataRequired(_l("Hãy nhập mật khẩu hiện tại."))],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("Mật khẩu mới"),
        validators=[
            DataRequired(_l("Hãy nhập mật khẩu mới.")),
            Length(min=8, message=_l("Mật khẩu phải có ít nhất 8 ký tự.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Nhập lại mật khẩu mới"),
        validators=[EqualTo("new_password", message=_l("Hai lần nhập mật khẩu mới không khớp."))],
        render_kw={"autocomplete": "new-password"},
    )
