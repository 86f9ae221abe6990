"""The emulation standings as live boards (a leaderboard source for the prefix "emulation").

Board names (``<period>`` is a period key: "2026-11", "2026-Q4", "2026"):
  emulation:<period>:teams           every active team of the province, by emulation points
  emulation:<period>:teams:u<unit>   the teams of one commune-level unit or district
  emulation:<period>:communes        commune-level units, by the mean points of their teams
  emulation:<period>:districts       districts (where the tree has them), the same way
Order: the points exactly (the rank store keeps every double), then the team or unit id as the
tie-break (the ranking's own order): the boards list exactly what competitions.emulation.scoring ranks.

The boards are public: they carry team and unit names and points, nothing personal, and are shown
on projectors in commune halls to people who are not signed in. A board exists for periods from
the first supported year up to the current month's (a future period has nothing to show).

A verified report (or a verified one rejected, or any filing that changes on-time reporting), a
closed round and a finished live contest queue a refresh of the boards of the month concerned,
its quarter and its year (competitions.board_feed: sent after the commit, applied by the broadcaster).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import Flask, has_request_context, url_for
from flask_babel import gettext as _
from sqlalchemy import exists, select

from competitions import board_feed, results, signals
from competitions.boards import aggregates_due
from competitions.emulation.models import ActivityReport
from competitions.emulation.periods import Period, current_month
from competitions.emulation.schemes import band_label
from competitions.emulation.scoring import (
    COMMUNE,
    DISTRICT,
    LEVEL_KINDS,
    LEVEL_UNIT_KINDS,
    TeamScore,
    UnitScore,
    format_points,
    local_month_of,
    team_score,
    team_scores,
    unit_score,
    unit_scores,
)
from competitions.live.models import LiveContest
from competitions.models import Round
from core.accounts.models import User
from core.db_types import utcnow
from core.errors import ValidationError
from core.extensions import db
from core.org.models import Unit, UnitKind
from core.teams.models import Team
from core.teams.service import active_membership_of
from leaderboard import changes, service
from leaderboard.sources import BoardInfo, BoardSource, Detail, register_source
from leaderboard.store import Entry, rank_store

PREFIX = "emulation"
KINDS = ("teams", "communes", "districts")
_LEVEL_OF_BOARD = {"communes": COMMUNE, "districts": DISTRICT}


@dataclass(frozen=True)
class BoardName:
    period: Period
    kind: str
    unit_id: int | None = None

    @classmethod
    def parse(cls, name: str) -> BoardName | None:
        parts = name.split(":")
        if len(parts) not in (3, 4) or parts[0] != PREFIX or parts[2] not in KINDS:
            return None
        try:
            period = Period.parse(parts[1])
        except ValidationError:
            return None
        if period.key != parts[1]:
            return None  # one name per board: "2026-11", not " 2026-11"
        unit_id = None
        if len(parts) == 4:
            if parts[2] != "teams" or parts[3][:1] != "u" or not parts[3][1:].isdigit():
                return None
            unit_id = int(parts[3][1:])
        return cls(period, parts[2], unit_id)

    @property
    def group(self) -> str:
        return group_of(self.period)

    def __str__(self) -> str:
        name = f"{self.group}:{self.kind}"
        return name if self.unit_id is None else f"{name}:u{self.unit_id}"


def group_of(period: Period) -> str:
    return f"{PREFIX}:{period.key}"


def board_name(period: Period, kind: str = "teams", unit: Unit | None = None) -> str:
    return str(BoardName(period, kind, unit.id if unit is not None else None))


def level_unit(unit: Unit | None, level: str) -> Unit | None:
    """The commune-level unit or the district at or above ``unit`` (None when there is none)."""
    while unit is not None and unit.kind not in LEVEL_KINDS[level]:
        unit = unit.parent
    return unit


def _has_districts() -> bool:
    return bool(db.session.scalar(select(exists().where(Unit.kind == UnitKind.DISTRICT))))


# --- rows --------------------------------------------------------------------------------------------


def team_rows(scores: Iterable[TeamScore], period: Period) -> list[tuple[Entry, Detail]]:
    """Scores as board rows: the points, then the team id (scoring's order), so one row can be set
    alone; the prizes of the period's published decisions marked."""
    return _with_prizes(period, "t", [
        (Entry(str(s.team_id), s.points, (s.team_id,)),
         Detail(s.team_name, s.unit_name, format_points(s.points), band_label(s.band)))
        for s in scores
    ])


def unit_rows(scores: Iterable[UnitScore], period: Period) -> list[tuple[Entry, Detail]]:
    return _with_prizes(period, "u", [
        (Entry(str(u.unit_id), u.points, (u.unit_id,)),
         Detail(u.name, _("%(n)d tổ", n=u.teams), format_points(u.points), str(u.members)))
        for u in scores
    ])


def _with_prizes(period: Period, prefix: str, rows: list[tuple[Entry, Detail]]) -> list[tuple[Entry, Detail]]:
    from competitions.prizes.workflow import marked  # prizes build on these standings

    return marked("emulation", period.key, prefix, rows)


class EmulationBoards(BoardSource):
    """Boards of emulation points, computed by competitions.emulation.scoring."""

    def _name(self, board: str) -> BoardName | None:
        name = BoardName.parse(board)
        if name is None or name.period.months[0] > current_month(utcnow()):
            return None
        return name

    def _unit(self, name: BoardName) -> Unit | None:
        unit = db.session.get(Unit, name.unit_id) if name.unit_id is not None else None
        if unit is None or unit.kind not in LEVEL_UNIT_KINDS:
            return None
        return unit

    def info(self, board: str) -> BoardInfo | None:
        name = self._name(board)
        if name is None:
            return None
        districts = _has_districts()
        if name.kind == "districts" and not districts:
            return None
        unit = None
        if name.unit_id is not None:
            unit = self._unit(name)
            if unit is None:
                return None
        titles = {"teams": _("Tổ CNSCĐ"), "communes": _("Xã, phường"), "districts": _("Huyện")}
        headings = {
            "teams": (_("Tổ CNSCĐ"), _("Điểm thi đua"), _("Xếp loại")),
            "communes": (_("Xã, phường"), _("Điểm trung bình"), _("Thành viên")),
            "districts": (_("Huyện"), _("Điểm trung bình"), _("Thành viên")),
        }
        kinds = [k for k in KINDS if k != "districts" or districts]
        title = titles[name.kind] if unit is None else f"{titles[name.kind]} — {unit.name}"
        link = None
        if has_request_context():  # the broadcaster and the CLI rebuild boards without a request
            link = url_for("emulation.standings_page", period=name.period.key, unit=name.unit_id)
        return BoardInfo(
            name=str(name), title=title, about=_("Thi đua %(p)s", p=name.period.label),
            headings=headings[name.kind], public=True,
            tabs=[(f"{name.group}:{k}", titles[k]) for k in kinds], link=link,
        )

    def may_watch(self, board: str, user: User | None) -> bool:
        return self._name(board) is not None  # public boards: nothing more to check

    def names(self) -> list[str]:
        """The boards of the current month, its quarter and its year."""
        month = current_month(utcnow())
        kinds = [k for k in KINDS if k != "districts" or _has_districts()]
        return [f"{group_of(p)}:{k}" for p in [month, *month.parents()] for k in kinds]

    def compute(self, board: str) -> Iterable[tuple[Entry, Detail]]:
        name = BoardName.parse(board)
        assert name is not None
        if name.kind == "teams":
            unit = db.session.get(Unit, name.unit_id) if name.unit_id is not None else None
            return team_rows(team_scores(name.period, unit), name.period)
        return unit_rows(unit_scores(name.period, None, _LEVEL_OF_BOARD[name.kind]), name.period)

    def member_of(self, board: str, user: User) -> str | None:
        name = BoardName.parse(board)
        if name is None:
            return None
        if name.kind == "teams":
            membership = active_membership_of(user)
            return str(membership.team_id) if membership is not None else None
        unit = level_unit(user.unit, _LEVEL_OF_BOARD[name.kind])
        return str(unit.id) if unit is not None else None

    def refresh(self, group: str, members: frozenset[str]) -> list[str]:
        """Apply the group's pending changes to the boards the store holds (the others are
        computed when first opened). Members "t<team id>" (a report changed): those teams' rows,
        and the rows of their commune and district, rescored alone. Everything (a round closed, a
        contest finished: every team of its area moves): one scoring of every team serves all the
        boards, at most once per BOARD_AGGREGATE_INTERVAL_MS."""
        name = BoardName.parse(f"{group}:teams")
        if name is None:
            return []
        store = rank_store()
        built = [f"{group}:{k}" for k in KINDS if store.is_built(f"{group}:{k}")]
        units = dict(db.session.execute(select(Unit.id, Unit.path).where(Unit.kind.in_(LEVEL_UNIT_KINDS))).all())
        filtered = {unit_id: path for unit_id, path in units.items() if store.is_built(f"{group}:teams:u{unit_id}")}
        if not built and not filtered:
            return []
        team_ids = {int(m[1:]) for m in members if m[:1] == "t" and m[1:].isdigit()}
        if changes.EVERYTHING not in members and team_ids:
            return self._place_teams(name.period, group, team_ids, built, filtered)
        if not aggregates_due(group):  # a change in the pause is applied at the next due tick
            changes.notify(group, everything=True)
            return []
        scores = team_scores(name.period)
        for board in built:
            kind = board.split(":")[2]
            service.publish(board, team_rows(scores, name.period) if kind == "teams" else unit_rows(
                unit_scores(name.period, None, _LEVEL_OF_BOARD[kind], scores=scores), name.period))
        for unit_id, path in filtered.items():
            inside = [s for s in scores if s.unit_path.startswith(path)]
            service.publish(f"{group}:teams:u{unit_id}", team_rows(inside, name.period))
        return built + [f"{group}:teams:u{unit_id}" for unit_id in filtered]

    def _place_teams(self, period: Period, group: str, team_ids: set[int], built: list[str],
                     filtered: dict[int, str]) -> list[str]:
        rows: dict[str, list[tuple[Entry, Detail]]] = {}
        areas: dict[str, set[int]] = {"communes": set(), "districts": set()}
        for team in db.session.scalars(select(Team).where(Team.id.in_(team_ids))):
            placed = team_rows([team_score(team, period)], period)
            if f"{group}:teams" in built:
                rows.setdefault(f"{group}:teams", []).extend(placed)
            for unit_id in results.path_ids(team.unit.path):
                if unit_id in filtered:
                    rows.setdefault(f"{group}:teams:u{unit_id}", []).extend(placed)
            for kind in areas:
                area = level_unit(team.unit, _LEVEL_OF_BOARD[kind])
                if area is not None and f"{group}:{kind}" in built:
                    areas[kind].add(area.id)
        for kind, unit_ids in areas.items():
            for unit in db.session.scalars(select(Unit).where(Unit.id.in_(unit_ids))):
                score = unit_score(period, unit, _LEVEL_OF_BOARD[kind])
                if score is not None:
                    rows.setdefault(f"{group}:{kind}", []).extend(unit_rows([score], period))
        for board, placed in rows.items():
            service.put(board, placed)
        return sorted(rows)


# --- moving the boards ---------------------------------------------------------------------------------


def queue_month(month: Period, member: str | None = None) -> None:
    """Refresh, after the commit, the boards of the month, its quarter and its year: one team's
    rows (``member`` "t<team id>") or, None, every row."""
    for period in [month, *month.parents()]:
        board_feed.queue(group_of(period), member)


def _on_report_changed(report: ActivityReport, before: str | None = None, **_extra: object) -> None:
    # Verifying or un-verifying moves the activity criteria; any filing or status change may move
    # on-time reporting. A correction that leaves the status as it was moves nothing.
    if before != report.status:
        queue_month(Period.parse(report.month), f"t{report.team_id}")


def _on_round_closed(round_: Round, **_extra: object) -> None:
    queue_month(local_month_of(round_.closes_at))


def _on_live_contest_finished(contest: LiveContest, **_extra: object) -> None:
    queue_month(current_month(contest.finished_at or utcnow()))


def register(app: Flask) -> None:
    """Register the emulation boards (a leaderboard source) and connect the signals that move them."""
    register_source(app, PREFIX, EmulationBoards())
    signals.report_changed.connect(_on_report_changed)
    signals.round_closed.connect(_on_round_closed)
    signals.live_contest_finished.connect(_on_live_contest_finished)
