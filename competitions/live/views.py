"""Live contest pages. Staff prepare a contest, open its lobby (a PIN) and run it from the host
screen on a projector; players type the PIN on their phones and play on the join page. The game
itself goes through the ``/live`` Socket.IO namespace (docs/live-protocol.md); these pages only
render what the scripts (static/js/live_host.js, static/js/live_player.js) start from.
Who may host which contest is decided by competitions.live.contests.may_host."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from competitions.live import contests, events, exports, game
from competitions.live.forms import DEFAULTS, ContestForm, PinForm
from competitions.live.models import ContestMode, ContestStatus, LiveContest, LivePlayer
from core.accounts.permissions import PUBLIC, STAFF, access
from core.downloads import xlsx_download
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from core.forms import saved
from core.qr import qr_svg

bp = Blueprint("live", __name__, url_prefix="/live")

STATUS_LABELS = {
    ContestStatus.DRAFT: lambda: _("Bản nháp"),
    ContestStatus.LOBBY: lambda: _("Phòng chờ đang mở"),
    ContestStatus.RUNNING: lambda: _("Đang thi"),
    ContestStatus.FINISHED: lambda: _("Đã kết thúc"),
}


@bp.app_template_filter("live_status")
def live_status(value: str) -> str:
    return STATUS_LABELS[ContestStatus(value)]()


@bp.app_template_filter("live_mode")
def live_mode(value: str) -> str:
    return str(contests.MODE_LABELS[ContestMode(value)])


def _hosted(contest_id: int) -> LiveContest:
    contest = db.get_or_404(LiveContest, contest_id)
    if not contests.may_host(current_user, contest):
        raise PermissionDenied
    return contest


def _address(endpoint: str, **values: object) -> str:
    return request.host_url.rstrip("/") + url_for(endpoint, **values)


# --- organisers ----------------------------------------------------------------------------------------


@bp.route("/contests")
@access(*STAFF)
def contests_list() -> str:
    return render_template("live/contests.html", items=contests.contests_for(current_user))


@bp.route("/contests/new", methods=["GET", "POST"])
@access(*STAFF)
def create_contest() -> str | Response:
    form = ContestForm(data=DEFAULTS if request.method == "GET" else None)
    form.set_choices()
    searching = request.form.get("action") == "search"  # the picker's search: the form comes back as typed
    if not searching and form.validate_on_submit():
        data = form.to_input()
        if data is not None:
            try:
                contest = contests.create_contest(data, current_user)
            except ValidationError as error:
                db.session.rollback()
                form.show_error(error)
            else:
                db.session.commit()
                flash(_("Đã tạo cuộc thi “%(t)s” gồm %(n)d câu hỏi.", t=contest.title, n=len(contest.version_ids)),
                      "success")
                return redirect(url_for("live.contest_detail", contest_id=contest.id))
    found, total = form.found()
    return render_template("live/contest_form.html", form=form, picked=form.picked(), found=found, total=total)


@bp.route("/contests/<int:contest_id>")
@access(*STAFF)
def contest_detail(contest_id: int) -> str:
    contest = _hosted(contest_id)
    finished = contest.status == ContestStatus.FINISHED
    return render_template(
        "live/contest_detail.html", contest=contest, versions=contests.versions_of(contest),
        questions=exports.question_results(contest) if finished else None,
        players=exports.player_results(contest) if finished else None,
        teams=exports.team_results(contest) if finished else None,
        joined=_joined(contest) if contest.status in (ContestStatus.LOBBY, ContestStatus.RUNNING) else None,
    )


def _joined(contest: LiveContest) -> int:
    return db.session.scalar(select(func.count()).where(LivePlayer.contest_id == contest.id,
                                                        LivePlayer.removed.is_(False))) or 0


@bp.route("/contests/<int:contest_id>/launch", methods=["POST"])
@access(*STAFF)
def launch(contest_id: int) -> Response:
    contest = _hosted(contest_id)
    saved(lambda: contests.launch(contest, current_user),
          lambda pin: _("Phòng chờ đã mở với mã PIN %(pin)s. Mở màn hình trình chiếu để đón người chơi.", pin=pin))
    return redirect(url_for("live.contest_detail", contest_id=contest.id))


@bp.route("/contests/<int:contest_id>/host")
@access(*STAFF)
def host(contest_id: int) -> str | Response:
    """The host screen, full screen on a projector; static/js/live_host.js runs the contest."""
    contest = _hosted(contest_id)
    if contest.status == ContestStatus.DRAFT:
        flash(_("Hãy mở phòng chờ trước khi trình chiếu."), "error")
        return redirect(url_for("live.contest_detail", contest_id=contest.id))
    if contest.status == ContestStatus.FINISHED:
        flash(_("Cuộc thi đã kết thúc."), "info")
        return redirect(url_for("live.contest_detail", contest_id=contest.id))
    contests.ensure_game(contest)
    db.session.commit()
    join_url = _address("live.join", pin=contest.pin)
    short_url = _address("live.enter_pin").split("://", 1)[-1]
    return render_template("live/host.html", contest=contest, namespace=events.NAMESPACE, qr=qr_svg(join_url),
                           join_url=join_url, short_url=short_url)


@bp.route("/contests/<int:contest_id>/results.xlsx")
@access(*STAFF)
def export_results(contest_id: int) -> Response:
    contest = _hosted(contest_id)
    return xlsx_download(exports.workbook(contest), f"ket-qua-thi-truc-tiep-{contest.id}.xlsx")


# --- players -------------------------------------------------------------------------------------------


@bp.route("")
@access(PUBLIC)
def enter_pin() -> str:
    return render_template("live/pin.html", form=PinForm())


@bp.route("/join")
@access(PUBLIC)
def join() -> str | Response:
    """The join form and, once joined, the play screen (same page). A GET form: the PIN page works
    without JavaScript; playing needs it."""
    form = PinForm(request.args)
    pin = (form.pin.data or "").strip()
    if not pin:
        return redirect(url_for("live.enter_pin"))
    contest = contests.by_pin(pin)
    if contest is None or contest.status not in (ContestStatus.LOBBY, ContestStatus.RUNNING):
        form.pin.errors = [_("Mã PIN không đúng hoặc cuộc thi đã kết thúc.")]
        return render_template("live/pin.html", form=form)
    contests.ensure_game(contest)
    db.session.commit()
    guest = not current_user.is_authenticated
    teams = game.teams_for(contest) if guest and contest.allow_guests and contest.mode == ContestMode.TEAM else []
    return render_template("live/join.html", contest=contest, pin=pin, guest=guest, teams=teams,
                           namespace=events.NAMESPACE)
