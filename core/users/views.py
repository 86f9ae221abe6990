from __future__ import annotations

from flask import Blueprint, render_template

from core.accounts.permissions import access
from core.accounts.roles import RoleCode

bp = Blueprint("users", __name__, url_prefix="/admin/users")


@bp.route("/")
@access(RoleCode.ADMIN)
def list_users() -> str:
    return render_template("error.html", code=501, message="TODO")
