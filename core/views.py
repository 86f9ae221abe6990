"""Home page, language switch, health check."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text
from werkzeug.wrappers import Response

from core.accounts.permissions import PUBLIC, access
from core.extensions import db
from core.teams.service import active_membership_of

bp = Blueprint("main", __name__)


@bp.route("/")
@access(PUBLIC)
def index() -> str:
    membership = active_membership_of(current_user) if current_user.is_authenticated else None
    return render_template("core/index.html", membership=membership)


@bp.route("/lang/<code>", methods=["POST"])
@access(PUBLIC)
def set_language(code: str) -> Response:
    if code not in ("vi", "en"):
        abort(404)
    session["locale"] = code
    if current_user.is_authenticated:
        current_user.locale = code
        db.session.commit()
    target = request.form.get("next") or ""
    return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("main.index"))


@bp.route("/healthz")
@access(PUBLIC)
def health() -> dict[str, str]:
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
