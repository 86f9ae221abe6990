"""The round page, taking a quiz, and the JSON API the quiz page uses (docs/api.md)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField, TelField

from competitions import play, results, rounds
from competitions.models import ROUND_CONTEXT_PREFIX, Reveal, Round
from core.accounts.permissions import PUBLIC, SIGNED_IN, SIGNED_SESSION, access, session_user_id
from core.db_types import utcnow
from core.errors import NotFound, PermissionDenied, ValidationError
from core.extensions import db, limiter, login_manager
from core.forms import ChoiceField, show_error
from quiz import attempts
from quiz.models import Attempt

play_bp = Blueprint("play", __name__)
api_bp = Blueprint("api", __name__, url_prefix="/api")


@api_bp.record_once
def _api_refuses_with_401(_state: BlueprintSetupState) -> None:
    # An API call without a session gets 401 JSON rather than a redirect to the sign-in page.
    login_manager.blueprint_login_views[api_bp.name] = None


@limiter.request_filter
def _api_has_no_rate_limit() -> bool:
    # Nothing limits the quiz API; skipping the limiter's lookup of limits that do not exist saves
    # a sixth of the CPU of an answer save, the busiest request of a contest.
    return request.blueprint == api_bp.name


def _round(round_id: int) -> Round:
    round_ = play.visible_round(round_id)
    if round_ is None:
        abort(404)
    return round_


def _my_attempt(attempt_id: int) -> tuple[Attempt, Round]:
    attempt = attempts.attempt_of(attempt_id, session_user_id(), ROUND_CONTEXT_PREFIX)
    round_ = play.round_of(attempt)
    assert round_ is not None  # rounds are never deleted
    return attempt, round_


# --- pages -------------------------------------------------------------------------------------------


class GuestForm(FlaskForm):
    full_name = StringField(_l("Họ và tên"))
    phone = TelField(_l("Số điện thoại"))
    commune_id = ChoiceField(_l("Xã, phường nơi bạn sinh sống"), coerce=lambda v: int(v) if v else None)


def _guest_form(round_: Round) -> GuestForm:
    form = GuestForm()
    form.commune_id.choices = [("", _("— Chọn xã, phường —"))] + [
        (unit.id, unit.name) for unit in play.guest_communes(round_)
    ]
    return form


def _render_round(round_: Round, form: GuestForm | None, status: int = 200) -> tuple[str, int]:
    user = current_user if current_user.is_authenticated else None
    now = utcnow()
    view = play.overview(user, round_, now)
    db.session.commit()  # the overview closes the visitor's attempt that ran past its deadline
    return render_template(
        "competitions/round_page.html", view=view, form=form, ranking=results.ranking_rule(round_),
        results_open=user is not None and results.visibility(user, round_, now).anything,
        reveal=rounds.REVEAL_LABELS[Reveal(round_.reveal)],
        prediction_question=play.prediction_question(round_) if play.has_prediction(round_) else None,
    ), status


@play_bp.route("/rounds/<int:round_id>")
@access(PUBLIC)
def round_page(round_id: int) -> tuple[str, int]:
    round_ = _round(round_id)
    return _render_round(round_, _guest_form(round_) if round_.allow_public else None)


@play_bp.route("/rounds/<int:round_id>/join", methods=["POST"])
@access(PUBLIC)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])  # it signs people in, like /login
def register(round_id: int) -> Response | tuple[str, int]:
    round_ = _round(round_id)
    if current_user.is_authenticated:
        return redirect(url_for("play.round_page", round_id=round_id))
    form = _guest_form(round_)
    if form.validate_on_submit():
        try:
            user = play.register_guest(round_, form.full_name.data, form.phone.data, form.commune_id.data)
        except ValidationError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            login_user(user)
            flash(_("Đã ghi danh. Chúc bạn làm bài tốt!"), "success")
            return redirect(url_for("play.round_page", round_id=round_id))
    return _render_round(round_, form, 400)


@play_bp.route("/rounds/<int:round_id>/play")
@access(SIGNED_IN)
def take(round_id: int) -> Response | str:
    """The quiz page of the attempt in progress, or of a past attempt (?attempt=<id>)."""
    round_ = _round(round_id)
    attempt_id = request.args.get("attempt", type=int)
    if attempt_id is None:
        attempt = attempts.active_attempt(current_user, round_.context)
        if attempt is None:
            return redirect(url_for("play.round_page", round_id=round_id))
    else:
        attempt, of_round = _my_attempt(attempt_id)
        if of_round.id != round_.id:
            abort(404)
    return render_template("competitions/play.html", round=round_, attempt=attempt)


# --- JSON API ----------------------------------------------------------------------------------------


def _error(message: str, status: int, field: str | None = None) -> tuple[Response, int]:
    return jsonify(error=message, field=field), status


@api_bp.errorhandler(ValidationError)
def _invalid(error: ValidationError) -> tuple[Response, int]:
    db.session.rollback()
    if isinstance(error, NotFound):
        return _not_found(error)
    return _error(error.message, 409 if isinstance(error, play.NotNow | attempts.AttemptOver) else 400, error.field)


@api_bp.errorhandler(PermissionDenied)
def _denied(error: PermissionDenied) -> tuple[Response, int]:
    db.session.rollback()
    return _error(getattr(error, "message", None) or _("Bạn không có quyền thực hiện thao tác này."), 403)


@api_bp.errorhandler(401)
def _signed_out(_error_: Exception) -> tuple[Response, int]:
    return _error(_("Bạn cần đăng nhập lại để tiếp tục làm bài."), 401)


@api_bp.errorhandler(404)
def _not_found(_error_: Exception) -> tuple[Response, int]:
    return _error(_("Không tìm thấy đợt thi hoặc bài thi."), 404)


def _body(required: bool) -> dict[str, object]:
    body = request.get_json(silent=True)
    if body is None and not required and not request.get_data():
        return {}
    if not isinstance(body, dict):
        raise ValidationError(_("Nội dung gửi lên phải là một đối tượng JSON."))
    return body


@api_bp.route("/rounds/<int:round_id>/attempts", methods=["POST"])
@access(SIGNED_IN)
def start(round_id: int) -> Response:
    attempt, round_ = play.start_in(round_id, current_user, _body(required=False).get("prediction"))
    view = play.attempt_view(attempt, round_)  # before the commit, which would expire what it reads
    db.session.commit()
    return jsonify(view)


@api_bp.route("/attempts/<int:attempt_id>")
@access(SIGNED_SESSION)
def state(attempt_id: int) -> Response:
    attempt, round_ = _my_attempt(attempt_id)
    view = play.attempt_view(attempt, round_)
    db.session.commit()  # a due attempt was closed just now
    return jsonify(view)


@api_bp.route("/attempts/<int:attempt_id>/answers", methods=["POST"])
@access(SIGNED_SESSION)
def save_answer(attempt_id: int) -> Response:
    # The busiest route of a contest: with Redis it loads no account and touches no table.
    body = _body(required=True)
    now = utcnow()
    saved = play.answer(session_user_id(), attempt_id, body.get("item_id"), body.get("choices"), body.get("seq"), now)
    if db.session().in_transaction():  # the database path stored the answer; with Redis nothing was touched
        db.session.commit()
    return jsonify(item_id=saved.item_id, seq=saved.seq, server_time=now.isoformat(), selected=saved.positions)


@api_bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
@access(SIGNED_SESSION)
def submit(attempt_id: int) -> Response:
    attempt, round_ = _my_attempt(attempt_id)
    view = play.submit(attempt, round_)
    db.session.commit()
    return jsonify(view)
