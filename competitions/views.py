"""Round management screens: list, create, edit, publish, series. The rules are in competitions.rounds;
who may act on which round is decided there (can_manage: the round's unit within the user's scope)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from competitions import forms, rounds
from competitions.models import AttemptPolicy, Reveal, Round, RoundStatus, Series, TeamScoring, TieBreak
from competitions.rounds import Phase
from core.accounts.permissions import SIGNED_IN, STAFF, access
from core.db_types import utcnow
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from core.pagination import paginate_select
from core.teams.service import is_staff

bp = Blueprint("rounds", __name__, url_prefix="/rounds")
T = TypeVar("T")
F = TypeVar("F", bound=forms.RoundSettingsForm)
TIME_FORMAT = "dd/MM/yyyy HH:mm"


@bp.app_template_filter("round_period")
def round_period(round_: Round) -> str:
    """"06/01/2027 00:00 – 12/01/2027 23:59" in local time: the closing shown as the last open minute."""
    closing = rounds.last_open_minute(round_.closes_at)
    return f"{format_datetime(round_.opens_at, TIME_FORMAT)} – {format_datetime(closing, TIME_FORMAT)}"


@bp.app_template_filter("round_size")
def round_size(round_: Round) -> str:
    count = sum(rule.count for rule in rounds.plan_rules(round_))
    return _("%(n)d câu · %(m)d phút", n=count, m=round_.time_limit_seconds // 60)


@bp.app_template_filter("round_policy")
def round_policy(round_: Round) -> str:
    if round_.attempt_policy == AttemptPolicy.BEST_OF_N:
        return _("Tối đa %(n)d lượt, tính lượt cao nhất", n=round_.max_attempts)
    return str(rounds.POLICY_LABELS[AttemptPolicy(round_.attempt_policy)])


@bp.app_template_filter("round_facts")
def round_facts(round_: Round) -> list[tuple[str, str]]:
    """The rules of a round in words (a frozen round's edit page, a series page)."""
    scope = round_.scope_unit.name
    if round_.allow_public:
        scope = _("%(u)s, có cả khách", u=scope)
    scoring = str(rounds.TEAM_SCORING_LABELS[TeamScoring(round_.team_scoring)])
    if round_.team_scoring == TeamScoring.BEST_K:
        scoring = _("Trung bình của %(k)d người điểm cao nhất", k=round_.best_k)
    board = _("Công khai") if round_.live_board else _("Chỉ cán bộ, công khai khi đợt thi đóng")
    return [  # the period first: a series page leaves it out (each of its rounds has its own)
        (_("Thời gian"), round_period(round_)),
        (_("Phạm vi"), scope),
        (_("Đề thi"), round_size(round_)),
        (_("Cơ cấu đề"), "; ".join(rounds.describe_rule(rule) for rule in rounds.plan_rules(round_))),
        (_("Số lượt thi"), round_policy(round_)),
        (_("Câu hỏi dự đoán"), round_.prediction_question or _("Không có")),
        (_("Xếp hạng"), " → ".join(str(rounds.TIE_BREAK_LABELS[TieBreak(t)]) for t in round_.tie_breaks)),
        (_("Công bố đáp án"), str(rounds.REVEAL_LABELS[Reveal(round_.reveal)])),
        (_("Bảng xếp hạng trực tiếp"), board),
        (_("Điểm tổ"), scoring),
    ]


@bp.app_template_filter("round_phase")
def round_phase(round_: Round) -> Phase:
    return rounds.phase(round_)


@bp.app_template_filter("phase_label")
def phase_label(value: Phase) -> str:
    return str(rounds.PHASE_LABELS[value])


@bp.app_template_filter("round_status")
def round_status(value: str) -> str:
    return str(rounds.STATUS_LABELS[RoundStatus(value)])


def _managed_round(round_id: int) -> Round:
    round_ = db.get_or_404(Round, round_id)
    rounds.require_manage(current_user, round_.scope_unit)
    return round_


def _form(form_class: type[F], starting: Callable[[], dict[str, object]], editing: Round | None = None) -> F:
    """The posted form, or on GET one holding its starting values; its choices fit the user."""
    form = form_class(data=starting() if request.method == "GET" else None)
    form.set_choices(current_user, editing)
    return form


def _run(work: Callable[[], T], on_error: Callable[[ValidationError], None]) -> T | None:
    """Run a service call and commit; on bad input roll back, report it and return None."""
    try:
        result = work()
    except ValidationError as error:
        db.session.rollback()
        on_error(error)
        return None
    db.session.commit()
    return result


def _flash_error(error: ValidationError) -> None:
    flash(error.message, "error")


def _publishing() -> bool:
    """The form's "save and publish" button (the other one saves a draft)."""
    return request.form.get("action") == "publish"


def _warn_if_undrawable(round_: Round) -> None:
    """A draft may wait for the bank to fill up; say now what publishing will need."""
    message = rounds.shortfall_message(rounds.plan_rules(round_)) if round_.status == RoundStatus.DRAFT else None
    if message:
        flash(message, "warning")


def _table(items: list[Round]) -> dict[str, object]:
    """What the rounds table needs besides the rounds: which the user manages, which have attempts."""
    return {
        "managed": {r.id for r in items if rounds.can_manage(current_user, r.scope_unit)},
        "started": rounds.started_round_ids([r.id for r in items]),
    }


def _back(round_: Round) -> Response:
    if round_.series_id is not None:
        return redirect(url_for("rounds.series_detail", series_id=round_.series_id))
    return redirect(url_for("rounds.list_rounds"))


@bp.route("/")
@access(SIGNED_IN)
def list_rounds() -> str:
    now = utcnow()
    staff = is_staff(current_user)
    only = request.args.get("phase")
    only_phase = Phase(only) if only in {str(p) for p in Phase} else None
    page = None
    if staff:
        page = paginate_select(rounds.staff_rounds(current_user, now, only_phase), request.args.get("page", type=int))
    return render_template(
        "competitions/rounds_list.html",
        mine=rounds.rounds_for(current_user, now),
        staff=staff,
        page=page,
        only=only_phase,
        phases=list(Phase),
        args={"phase": only_phase.value} if only_phase else {},
        **_table(page.items if page else []),
    )


@bp.route("/new", methods=["GET", "POST"])
@access(*STAFF)
def create_round() -> str | Response:
    form = _form(forms.RoundForm, lambda: forms.new_round_data(current_user, rounds.local_today()))
    if form.validate_on_submit():
        publish = _publishing()
        round_ = _run(lambda: rounds.create_round(form.to_input(), current_user, publish=publish), form.show_error)
        if round_ is not None:
            flash(_("Đã tạo đợt thi “%(t)s”.", t=round_.title), "success")
            _warn_if_undrawable(round_)
            return redirect(url_for("rounds.list_rounds"))
    return render_template("competitions/rounds_form.html", form=form, round=None, frozen=False)


@bp.route("/<int:round_id>/edit", methods=["GET", "POST"])
@access(*STAFF)
def edit_round(round_id: int) -> str | Response:
    round_ = _managed_round(round_id)
    frozen = rounds.is_frozen(round_)
    current = rounds.round_input(round_)
    form = _form(forms.RoundForm, lambda: forms.round_data(current), editing=round_)
    if form.validate_on_submit():
        # A frozen round's form carries only the title and the description.
        data = form.frozen_input(current) if frozen else form.to_input()
        publish = _publishing()

        def save() -> Round:
            rounds.update_round(round_, data, current_user)
            return rounds.publish(round_, current_user) if publish else round_

        if _run(save, form.show_error) is not None:
            flash(_("Đã lưu đợt thi “%(t)s”.", t=round_.title), "success")
            _warn_if_undrawable(round_)
            return _back(round_)
    return render_template("competitions/rounds_form.html", form=form, round=round_, frozen=frozen)


@bp.route("/<int:round_id>/publish", methods=["POST"])
@access(*STAFF)
def publish_round(round_id: int) -> Response:
    round_ = _managed_round(round_id)
    if _run(lambda: rounds.publish(round_, current_user), _flash_error) is not None:
        flash(_("Đã công bố “%(t)s”.", t=round_.title), "success")
    return _back(round_)


@bp.route("/<int:round_id>/unpublish", methods=["POST"])
@access(*STAFF)
def unpublish_round(round_id: int) -> Response:
    round_ = _managed_round(round_id)
    if _run(lambda: rounds.unpublish(round_, current_user), _flash_error) is not None:
        flash(_("“%(t)s” đã trở lại bản nháp.", t=round_.title), "info")
    return _back(round_)


@bp.route("/series/new", methods=["GET", "POST"])
@access(*STAFF)
def create_series() -> str | Response:
    form = _form(forms.SeriesForm, lambda: forms.new_series_data(current_user, rounds.local_today()))
    if form.validate_on_submit():
        publish = _publishing()
        series = _run(lambda: rounds.create_series(form.to_input(), current_user, publish=publish), form.show_error)
        if series is not None:
            flash(_("Đã tạo “%(t)s” gồm %(n)d đợt thi.", t=series.title, n=len(series.rounds)), "success")
            _warn_if_undrawable(series.rounds[0])
            return redirect(url_for("rounds.series_detail", series_id=series.id))
    return render_template("competitions/series_form.html", form=form)


@bp.route("/series/<int:series_id>")
@access(*STAFF)
def series_detail(series_id: int) -> str:
    series = db.get_or_404(Series, series_id)
    if not rounds.can_view_series(current_user, series):
        raise PermissionDenied
    items = rounds.series_rounds(series, current_user)
    return render_template(
        "competitions/series_detail.html", series=series, items=items,
        manage=rounds.can_manage(current_user, series.scope_unit),
        drafts=sum(r.status == RoundStatus.DRAFT for r in items),
        **_table(items),
    )


@bp.route("/series/<int:series_id>/publish", methods=["POST"])
@access(*STAFF)
def publish_series(series_id: int) -> Response:
    series = db.get_or_404(Series, series_id)
    rounds.require_manage(current_user, series.scope_unit)
    count = _run(lambda: rounds.publish_series(series, current_user), _flash_error)
    if count is not None:
        flash(_("Đã công bố %(n)d đợt thi.", n=count), "success")
    return redirect(url_for("rounds.series_detail", series_id=series.id))
