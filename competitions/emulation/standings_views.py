"""Emulation standings screens: the rankings of teams, communes and districts for a period, and a
team's page with its score criterion by criterion. The rules are in competitions.emulation.scoring;
who may see a team's page is decided here once (``can_view_team``)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from competitions.emulation import badges, feed, levels, progress, schemes, scoring, standings, targets
from competitions.emulation.periods import Period, current_month, period_from_args
from core.accounts.models import User
from core.accounts.permissions import SIGNED_IN, access
from core.db_types import utcnow
from core.errors import PermissionDenied
from core.extensions import db
from core.org.models import Unit
from core.org.scope import in_scope
from core.pagination import PER_PAGE, Page, clamp_page
from core.teams.models import Team
from core.teams.service import active_membership_of, is_staff
from leaderboard import service

bp = Blueprint("emulation", __name__, url_prefix="/emulation")
bp.add_app_template_filter(scoring.format_points, "emulation_points")
bp.add_app_template_filter(schemes.band_label, "band_label")

TABS = ("teams", "communes", "districts")


def period_choices(shown: Period) -> list[Period]:
    """The targets pages' choices up to the current month (a future period has no standings yet)."""
    now = utcnow()
    this_month = current_month(now)
    return [p for p in targets.period_choices(now, shown) if p.months[0] <= this_month]


def can_view_team(user: User, team: Team) -> bool:
    """The team's members, and staff whose scope holds the team."""
    if is_staff(user):
        return in_scope(user, team.unit)
    membership = active_membership_of(user)
    return membership is not None and membership.team_id == team.id


@dataclass(frozen=True)
class Rank:
    label: str
    board: str
    rank: int | None
    size: int


def _ranks(team: Team, period: Period) -> list[Rank]:
    """The team's place on the boards of its commune, its district (if any) and the province."""
    places = [(unit.name, unit) for unit in (standings.level_unit(team.unit, level)
                                            for level in (scoring.COMMUNE, scoring.DISTRICT)) if unit is not None]
    ranks = []
    for label, unit in [*places, (_("Toàn tỉnh"), None)]:
        board = standings.board_name(period, "teams", unit)
        view = service.view(board, 1, str(team.id))
        ranks.append(Rank(label, board, int(view.me["rank"]) if view.me else None, view.size))  # type: ignore[call-overload]
    return ranks


def _filter_units() -> list[Unit]:
    """The communes and districts the teams tab can be narrowed to."""
    units = list(db.session.scalars(select(Unit).where(Unit.kind.in_(scoring.LEVEL_UNIT_KINDS), Unit.active)))
    return sorted(units, key=lambda u: u.path)


@bp.route("/standings")
@access(SIGNED_IN)
def standings_page() -> str:
    period = period_from_args(allow_future=False)
    tab = request.args.get("tab", TABS[0])
    if tab not in TABS:
        abort(404)
    unit_id = request.args.get("unit", type=int)
    unit = None
    if unit_id:
        unit = db.session.get(Unit, unit_id)
        if unit is None or unit.kind not in scoring.LEVEL_UNIT_KINDS:
            abort(404)
    level = scoring.DISTRICT if tab == "districts" else scoring.COMMUNE
    membership = active_membership_of(current_user)
    my_team_id = membership.team_id if membership is not None else None
    # Read from the live board (the rank store), not rescored: a province has tens of thousands of teams.
    board = standings.board_name(period, "teams", unit) if tab == "teams" else standings.board_name(period, tab)
    size = service.view(board, 1).size
    number = clamp_page(request.args.get("page", type=int), size, PER_PAGE)
    mine = str(my_team_id) if tab == "teams" and my_team_id is not None else None
    view = service.view(board, PER_PAGE, mine, offset=(number - 1) * PER_PAGE)
    shown = {"page": Page(view.top, view.size, number, PER_PAGE), "mine": view.me}
    my_unit = standings.level_unit(current_user.unit, level)
    return render_template(
        "emulation/standings.html", period=period, tab=tab, unit=unit, filter_units=_filter_units(),
        periods=period_choices(period), board=board, my_team_id=my_team_id,
        my_unit_id=my_unit.id if my_unit is not None else None, scheme=schemes.scheme_for(period), **shown,
    )


@bp.route("/teams/<int:team_id>")
@access(SIGNED_IN)
def team_page(team_id: int) -> str:
    team = db.get_or_404(Team, team_id)
    if not can_view_team(current_user, team):
        raise PermissionDenied
    period = period_from_args(allow_future=False)
    score = scoring.team_score(team, period)
    return render_template(
        "emulation/team.html", team=team, period=period, score=score, ranks=_ranks(team, period),
        periods=period_choices(period), scheme=schemes.scheme_for(period),
        progress_rows=progress.team_progress(team, period), awards=badges.team_badges(team),
        level=levels.team_level(team), feed_items=feed.team_feed(team),
    )
