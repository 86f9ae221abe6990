"""The question bank screens (Department staff and Youth Union organisers)."""

from __future__ import annotations

from flask import Blueprint, render_template

from core.accounts.permissions import access
from core.accounts.roles import RoleCode

bp = Blueprint("quiz", __name__, url_prefix="/bank")


@bp.route("/")
@access(RoleCode.ADMIN, RoleCode.ORGANISER)
def bank() -> str:
    return render_template("error.html", code=501, message="TODO")
