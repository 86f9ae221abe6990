from __future__ import annotations

from flask import Blueprint, render_template

from core.accounts.permissions import SIGNED_IN, access

bp = Blueprint("teams", __name__, url_prefix="/teams")


@bp.route("/")
@access(SIGNED_IN)
def list_teams() -> str:
    return render_template("error.html", code=501, message="TODO")


@bp.route("/<int:team_id>")
@access(SIGNED_IN)
def team_detail(team_id: int) -> str:
    return render_template("error.html", code=501, message="TODO")
