"""Board pages: a ranked table that works without JavaScript and moves live with it, and a
full-screen projector mode. Public boards need no sign-in."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from core.accounts.permissions import PUBLIC, access
from core.qr import qr_svg
from leaderboard import service
from leaderboard.broadcast import NAMESPACE

bp = Blueprint("boards", __name__, url_prefix="/boards")

PROJECTOR_ROWS = 10  # readable from the back of a hall
ROTATE_SECONDS = 15


def _user():  # noqa: ANN202 - the signed-in User or None
    return current_user._get_current_object() if current_user.is_authenticated else None


@bp.route("/<board>")
@access(PUBLIC)
def board(board: str) -> str:
    info = service.board_info(board, _user())
    top = current_app.config["BOARD_TOP_N"]  # as many rows as every live update carries
    view = service.view(board, top, service.member_of(board, _user()))
    return render_template("leaderboard/board.html", info=info, view=view, namespace=NAMESPACE,
                           top=top, interval=current_app.config["BOARD_UPDATE_INTERVAL_MS"])


@bp.route("/<board>/projector")
@access(PUBLIC)
def projector(board: str) -> str:
    """Full screen for the commune hall: large type, high contrast, rotating through the boards of
    the same round (its tabs), a QR code to the round's page."""
    info = service.board_info(board, _user())
    rotation = [name for name, _label in info.tabs] or [board]
    views = [service.view(name, PROJECTOR_ROWS) for name in rotation]
    infos = [service.board_info(name, _user()) for name in rotation]
    link = request.host_url.rstrip("/") + info.link if info.link else None
    return render_template(
        "leaderboard/projector.html", info=info, boards=list(zip(infos, views, strict=True)), namespace=NAMESPACE,
        start=rotation.index(board) if board in rotation else 0, rotate=ROTATE_SECONDS, top=PROJECTOR_ROWS,
        qr=qr_svg(link) if link else None, link=link,
    )
