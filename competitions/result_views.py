"""Results screens: a round's results (people, teams, units; participation counts while it runs),
their Excel exports, my results, series standings and round statistics. Who sees what is decided
by competitions.results (visibility, require_round_staff, can_view_standings)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from competitions import results
from competitions.emulation import badges
from competitions.models import Round, RoundStatus, Series
from core.accounts.permissions import SIGNED_IN, STAFF, access
from core.db_types import utcnow
from core.downloads import xlsx_download
from core.errors import PermissionDenied
from core.extensions import db
from core.org.models import Unit
from core.pagination import PER_PAGE, Page, clamp_page

results_bp = Blueprint("results", __name__)
results_bp.add_app_template_filter(results.format_duration, "duration")
results_bp.add_app_template_filter(results.format_moment, "local_time")
results_bp.add_app_template_filter(results.format_rate, "rate")
results_bp.add_app_template_filter(results.format_points, "points")
results_bp.add_app_template_filter(results.mask_phone, "masked_phone")

TABS = ("individuals", "teams", "units")
SERIES_TABS = ("people", "teams")
EXPORTS = {
    "individuals": (results.export_individuals, "ca-nhan"),
    "teams": (results.export_teams, "tap-the"),
    "units": (results.export_units, "don-vi"),
}


def _round(round_id: int) -> Round:
    """A published round; a draft has no results to show anyone."""
    round_ = db.session.get(Round, round_id)
    if round_ is None or round_.status != RoundStatus.PUBLISHED:
        abort(404)
    return round_


def _series(series_id: int) -> Series:
    series = db.session.get(Series, series_id)
    if series is None:
        abort(404)
    if not results.can_view_standings(current_user, series):
        raise PermissionDenied
    return series


def _finalise(rounds: Sequence[Round], now: datetime) -> None:
    """The closing work is done at the first look after closing: no scheduler is needed for it."""
    finished = [round_ for round_ in rounds if results.finalise(round_, now)]
    if finished:
        db.session.commit()


def _tab(allowed: Sequence[str]) -> str:
    tab = request.args.get("tab", allowed[0])
    if tab not in allowed:
        abort(404)
    return tab


def _unit_filter(round_: Round) -> tuple[Unit | None, list[Any]]:
    """The unit chosen in the filter (one of the round's province, district or commune units)."""
    options = results.level_units(round_)
    unit_id = request.args.get("unit_id", type=int)
    if not unit_id:
        return None, options
    if unit_id not in {option.id for option in options}:
        abort(404)
    return db.session.get(Unit, unit_id), options


def _slice(items: list[Any], page: int | None) -> Page[Any]:
    page = clamp_page(page, len(items), PER_PAGE)
    return Page(items[(page - 1) * PER_PAGE:page * PER_PAGE], len(items), page, PER_PAGE)


@results_bp.route("/rounds/<int:round_id>/results")
@access(SIGNED_IN)
def round_results(round_id: int) -> str:
    round_ = _round(round_id)
    now = utcnow()
    _finalise([round_], now)
    seen = results.visibility(current_user, round_, now)
    if not seen.anything:
        raise PermissionDenied
    tab = _tab(TABS)
    unit, options = _unit_filter(round_)
    shown: dict[str, Any] = {}
    if seen.results and tab == "individuals":
        mine = results.standing_of(round_, current_user.id)
        shown.update(
            page=results.ranking_page(round_, unit, request.args.get("page", type=int)), mine=mine,
            mine_page=mine and results.page_of(mine), rule=results.ranking_rule(round_),
        )
    elif seen.results and tab == "teams":
        shown.update(
            teams=results.team_results(round_, unit), team_rule=results.team_scoring_rule(round_),
            my_team_id=results.my_team_id(current_user, round_),
        )
    elif seen.results:
        shown.update(
            units=results.unit_results(round_, unit),
            levels=[(level, results.LEVEL_LABELS[level]) for level in results.LEVELS],
        )
    closed = now >= round_.closes_at
    return render_template(
        "competitions/results.html",
        round=round_, seen=seen, tab=tab, unit=unit, options=options, closed=closed,
        live=None if closed else results.live_participation(round_),
        args={"tab": tab, **({"unit_id": unit.id} if unit else {})},
        **shown,
    )


@results_bp.route("/rounds/<int:round_id>/results/<any(individuals, teams, units):kind>.xlsx")
@access(*STAFF)
def export_round(round_id: int, kind: str) -> Response:
    round_ = _round(round_id)
    results.require_round_staff(current_user, round_)
    _finalise([round_], utcnow())
    unit, _options = _unit_filter(round_)
    export, name = EXPORTS[kind]
    return xlsx_download(export(round_, unit), f"ket-qua-{name}-dot-{round_.id}.xlsx")


@results_bp.route("/rounds/<int:round_id>/stats")
@access(*STAFF)
def round_stats(round_id: int) -> str:
    round_ = _round(round_id)
    results.require_round_staff(current_user, round_)
    now = utcnow()
    _finalise([round_], now)
    # While the round runs its questions stay off screens: texts would circulate in chat groups.
    closed = now >= round_.closes_at
    return render_template(
        "competitions/round_stats.html", round=round_, closed=closed, stats=results.round_stats(round_, closed)
    )


@results_bp.route("/me/results")
@access(SIGNED_IN)
def me_results() -> str:
    now = utcnow()
    page = results.my_entries(current_user, request.args.get("page", type=int))
    _finalise([entry.round for entry in page.items], now)
    return render_template(
        "competitions/me_results.html", page=page, rows=[results.my_result(entry, now) for entry in page.items],
        awards=badges.member_badges(current_user),
    )


@results_bp.route("/series/<int:series_id>/standings")
@access(SIGNED_IN)
def series_standings(series_id: int) -> str:
    series = _series(series_id)
    now = utcnow()
    rounds = results.series_rounds(series, now)
    _finalise(rounds, now)
    tab = _tab(SERIES_TABS)
    shown: dict[str, Any] = {}
    if tab == "people":
        standings = results.series_people(series, now)
        shown["mine"] = next((s for s in standings if s.user_id == current_user.id), None)
        shown["page"] = _slice(standings, request.args.get("page", type=int))
    else:
        shown["teams"] = results.series_teams(series, now)
    return render_template(
        "competitions/series_standings.html", series=series, rounds=rounds, tab=tab,
        staff=results.is_series_staff(current_user, series), **shown,
    )


@results_bp.route("/series/<int:series_id>/standings.xlsx")
@access(*STAFF)
def export_series(series_id: int) -> Response:
    series = _series(series_id)
    if not results.is_series_staff(current_user, series):
        raise PermissionDenied
    now = utcnow()
    _finalise(results.series_rounds(series, now), now)
    return xlsx_download(results.export_series(series, now), f"xep-hang-cong-don-{series.id}.xlsx")
