from __future__ import annotations

from flask import Blueprint, render_template

from core.accounts.permissions import access
from core.accounts.roles import RoleCode

bp = Blueprint("imports", __name__, url_prefix="/import")


@bp.route("/members")
@access(RoleCode.ADMIN, RoleCode.OFFICER)
def members_upload() -> str:
    return render_template("error.html", code=501, message="TODO")


@bp.route("/units")
@access(RoleCode.ADMIN)
def units_upload() -> str:
    return render_template("error.html", code=501, message="TODO")
