from __future__ import annotations

from flask import Blueprint, render_template

from core.accounts.permissions import STAFF, access

bp = Blueprint("org", __name__, url_prefix="/units")


@bp.route("/")
@access(*STAFF)
def units() -> str:
    return render_template("error.html", code=501, message="TODO")
