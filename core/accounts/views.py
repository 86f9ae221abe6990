"""Sign-in, sign-out and the user's own password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from core.accounts import service
from core.accounts.forms import ChangePasswordForm, LoginForm
from core.accounts.permissions import PUBLIC, SIGNED_IN, access
from core.errors import ValidationError
from core.extensions import db, limiter
from core.forms import show_error
from core.text import fold

bp = Blueprint("accounts", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _login_key() -> str:
    # Per account as well as per address: a botnet guessing one member's password is stopped too.
    return "login:" + fold(request.form.get("login", ""))


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
@access(PUBLIC)
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_login_key)
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = service.authenticate(form.login.data, form.password.data)
        if user is not None:
            db.session.commit()
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors = [_("Số điện thoại/tên đăng nhập hoặc mật khẩu không đúng.")]
    return render_template("core/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@access(SIGNED_IN)
def logout() -> Response:
    logout_user()
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@access(SIGNED_IN)
def change_password() -> str | Response:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            service.change_password(current_user, form.current_password.data, form.new_password.data)
        except ValidationError as error:
            show_error(form, error)
        else:
            db.session.commit()
            flash(_("Đã đổi mật khẩu."), "success")
            return redirect(url_for("main.index"))
    return render_template("core/change_password.html", form=form)
