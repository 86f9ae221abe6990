"""What goes on which live board: the boards of rounds and series (a leaderboard source).

Board names:
  round:<id>:people[:u<unit>]    people, by the round's ranking order; ``:u<unit>``: those of a
                                 district or commune-level unit only (the page's unit filter)
  round:<id>:teams[:u<unit>]     teams, by team score, then participation
  round:<id>:communes            commune-level units, by participation rate, then participants
  round:<id>:districts           districts (where the tree has them), the same way
  series:<id>:people             people, by the sum of their scores over the closed rounds
  series:<id>:teams              teams, by the sum of their team scores
The order is the one of competitions.results (the pages and exports), encoded for the rank store:
the score first, then the round's tie-breaks as whole numbers, smaller first, then the id.
Rows of members who won a prize in a published decision show it (competitions.prizes.workflow.marked).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from competitions import results
from competitions.models import Round, RoundStatus, Series, TieBreak
from competitions.play import entry_of
from core.accounts.models import User
from core.db_types import utcnow
from core.extensions import db
from core.org.models import COMMUNE_LEVEL, Unit, UnitKind
from core.redis_client import redis_client
from core.teams.service import active_membership_of
from leaderboard import changes, service
from leaderboard.sources import BoardInfo, BoardSource, Detail
from leaderboard.store import Entry, rank_store

ROUND_KINDS = ("people", "teams", "communes", "districts")
SERIES_KINDS = ("people", "teams")
FILTERED_KINDS = ("people", "teams")
AGGREGATES = "~aggregates"  # a pending "member" meaning: recompute the team and unit boards


@dataclass(frozen=True)
class BoardName:
    owner: str  # "round" or "series"
    owner_id: int
    kind: str
    unit_id: int | None = None

    @classmethod
    def parse(cls, name: str) -> BoardName | None:
        parts = name.split(":")
        if len(parts) not in (3, 4) or not parts[1].isdigit():
            return None
        owner, kind = parts[0], parts[2]
        if kind not in (ROUND_KINDS if owner == "round" else SERIES_KINDS if owner == "series" else ()):
            return None
        unit_id = None
        if len(parts) == 4:
            if owner != "round" or kind not in FILTERED_KINDS or not (parts[3][:1] == "u" and parts[3][1:].isdigit()):
                return None
            unit_id = int(parts[3][1:])
        return cls(owner, int(parts[1]), kind, unit_id)

    @property
    def group(self) -> str:
        return f"{self.owner}:{self.owner_id}"

    @property
    def base(self) -> str:
        return f"{self.group}:{self.kind}"

    def __str__(self) -> str:
        return self.base if self.unit_id is None else f"{self.base}:u{self.unit_id}"


# --- the order, as whole numbers -------------------------------------------------------------------


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _higher_first(share: float) -> int:
    """A share in [0, 1] as a tie-break where more is better. 2**52 steps: two different
    participation rates of teams up to millions of members never meet on one step."""
    return 2**53 - round(share * 2**52)


def person_tiebreaks(round_: Round, row: object) -> tuple[int, ...]:
    """The round's tie-breaks after the score (competitions.results._order), then the user id."""
    keys: list[int] = []
    for step in results.tie_breaks(round_):
        if step == TieBreak.PREDICTION:
            if round_.prediction_answer is None:
                continue  # known at closing; until then nobody is closer than anybody
            prediction = row.prediction  # type: ignore[attr-defined]
            keys += [1, 0] if prediction is None else [0, abs(prediction - round_.prediction_answer)]
        elif step == TieBreak.DURATION:
            keys.append(row.duration_ms)  # type: ignore[attr-defined]
        elif step == TieBreak.SUBMITTED_AT:
            keys.append(_epoch_ms(row.submitted_at))  # type: ignore[attr-defined]
    return (*keys, row.user_id)  # type: ignore[attr-defined]


def _person(round_: Round, row: object) -> tuple[Entry, Detail]:
    r = row
    entry = Entry(str(r.user_id), float(r.score), person_tiebreaks(round_, r))  # type: ignore[attr-defined]
    detail = Detail(
        r.full_name, r.team_name or r.unit_name, f"{r.score}/{r.max_score}",  # type: ignore[attr-defined]
        results.format_duration(r.duration_ms),  # type: ignore[attr-defined]
    )
    return entry, detail


def _with_prizes(name: BoardName, rows: Iterable[tuple[Entry, Detail]]) -> list[tuple[Entry, Detail]]:
    """The rows with the prizes of the round's or season's published decision marked."""
    from competitions.prizes.workflow import marked  # prizes build on the results these boards show

    return marked(name.owner, name.owner_id, {"people": "p", "teams": "t"}.get(name.kind, "u"), rows)


# --- the aggregate throttle -----------------------------------------------------------------------


def aggregates_due(group: str) -> bool:
    """Whether the team and unit boards of ``group`` may be recomputed now. They are recomputed
    from every result of the group, so at most once per BOARD_AGGREGATE_INTERVAL_MS, whichever
    process asks; every aggregate board source shares this throttle."""
    interval = current_app.config["BOARD_AGGREGATE_INTERVAL_MS"]
    if interval <= 0:
        return True
    client = redis_client()
    if client is not None:
        return bool(client.set(f"thidua:lb:aggregated:{group}", 1, nx=True, px=interval))
    last = current_app.extensions.setdefault("thidua.board_aggregated", {})
    now = changes.now_ms()
    if now - last.get(group, 0) < interval:
        return False
    last[group] = now
    return True


# --- the source ------------------------------------------------------------------------------------


def _now() -> datetime:
    return utcnow()


class CompetitionBoards(BoardSource):
    """Boards of rounds and series, computed by competitions.results, with the prizes of the
    round's or series' published decision marked (``_with_prizes``)."""

    # which boards exist ----------------------------------------------------------------------------

    def _round(self, name: BoardName) -> Round | None:
        return db.session.get(Round, name.owner_id) if name.owner == "round" else None

    def _series(self, name: BoardName) -> Series | None:
        return db.session.get(Series, name.owner_id) if name.owner == "series" else None

    def _levels(self, round_: Round) -> tuple[list[object], list[object]]:
        """The district and commune-level units of the round's area (rows of results.level_units)."""
        units = results.level_units(round_)
        districts = [u for u in units if u.kind == UnitKind.DISTRICT]
        communes = [u for u in units if u.kind in COMMUNE_LEVEL]
        return districts, communes

    def info(self, board: str) -> BoardInfo | None:
        name = BoardName.parse(board)
        if name is None:
            return None
        if name.owner == "series":
            series = self._series(name)
            return self._series_info(name, series) if series is not None else None
        round_ = self._round(name)
        if round_ is None:
            return None
        districts, communes = self._levels(round_)
        if name.kind == "districts" and not districts:
            return None
        if name.unit_id is not None and name.unit_id not in {u.id for u in districts + communes}:
            return None
        titles = {"people": _("Cá nhân"), "teams": _("Tổ CNSCĐ"), "communes": _("Xã, phường"), "districts": _("Huyện")}
        headings = {
            "people": (_("Thí sinh"), _("Điểm"), _("Thời gian")),
            "teams": (_("Tổ CNSCĐ"), _("Điểm tổ"), _("Tham gia")),
            "communes": (_("Xã, phường"), _("Tỷ lệ tham gia"), _("Người dự thi")),
            "districts": (_("Huyện"), _("Tỷ lệ tham gia"), _("Người dự thi")),
        }
        kinds = [k for k in ROUND_KINDS if k != "districts" or districts]
        filters: list[tuple[str, str]] = []
        if name.kind in FILTERED_KINDS:
            filters = [(name.base, _("Toàn phạm vi"))] + [
                (f"{name.base}:u{u.id}", u.name) for u in districts + communes  # type: ignore[attr-defined]
            ]
        title = titles[name.kind]
        if name.unit_id is not None:
            title = f"{title} — {db.session.get(Unit, name.unit_id).name}"
        published = round_.status == RoundStatus.PUBLISHED
        return BoardInfo(
            name=str(name), title=title, about=round_.title, headings=headings[name.kind],
            public=published and (round_.live_board or _now() >= round_.closes_at),
            tabs=[(f"{name.group}:{k}", titles[k]) for k in kinds], filters=filters,
            link=url_for("play.round_page", round_id=round_.id) if published and has_request_context() else None,
        )

    def _series_info(self, name: BoardName, series: Series) -> BoardInfo:
        titles = {"people": _("Cá nhân"), "teams": _("Tổ CNSCĐ")}
        headings = {
            "people": (_("Thí sinh"), _("Tổng điểm"), _("Số đợt")),
            "teams": (_("Tổ CNSCĐ"), _("Tổng điểm tổ"), _("Tỷ lệ tham gia")),
        }
        published = any(r.status == RoundStatus.PUBLISHED for r in series.rounds)
        linked = published and has_request_context()  # rebuilt by the broadcaster or the CLI: no request
        return BoardInfo(
            name=str(name), title=titles[name.kind], about=series.title, headings=headings[name.kind],
            public=published, tabs=[(f"{name.group}:{k}", titles[k]) for k in SERIES_KINDS],
            link=url_for("results.series_standings", series_id=series.id) if linked else None,
        )

    def may_watch(self, board: str, user: User | None) -> bool:
        name = BoardName.parse(board)
        if name is None or user is None:
            return False
        if name.owner == "series":
            series = self._series(name)
            return series is not None and results.is_series_staff(user, series)
        round_ = self._round(name)
        return round_ is not None and results.is_round_staff(user, round_)

    def names(self) -> list[str]:
        published = select(Round).where(Round.status == RoundStatus.PUBLISHED)
        boards = []
        for round_ in db.session.scalars(published):
            districts, _communes = self._levels(round_)
            boards += [f"round:{round_.id}:{k}" for k in ROUND_KINDS if k != "districts" or districts]
        series_ids = {r.series_id for r in db.session.scalars(published) if r.series_id}
        return boards + [f"series:{sid}:{k}" for sid in sorted(series_ids) for k in SERIES_KINDS]

    # what is on them -------------------------------------------------------------------------------

    def compute(self, board: str) -> Iterable[tuple[Entry, Detail]]:
        name = BoardName.parse(board)
        assert name is not None
        return _with_prizes(name, self._rows(name))

    def _rows(self, name: BoardName) -> Iterable[tuple[Entry, Detail]]:
        if name.owner == "series":
            return self._compute_series(name)
        round_ = self._round(name)
        assert round_ is not None
        unit = db.session.get(Unit, name.unit_id) if name.unit_id else None
        if name.kind == "people":
            return [_person(round_, s) for s in results.ranking(round_, unit)]
        if name.kind == "teams":
            return [
                (Entry(str(t.team_id), t.score, (_higher_first(t.participation), t.team_id)),
                 Detail(t.name, t.unit_name, results.format_points(t.score), f"{t.participants}/{t.members}"))
                for t in results.team_results(round_, unit)
            ]
        level = results.COMMUNE if name.kind == "communes" else results.DISTRICT
        return [
            (Entry(str(u.unit_id), -1.0 if u.participation is None else u.participation,
                   (2**62 - u.participants, u.unit_id)),
             Detail(u.name, _("Điểm TB %(s)s", s=results.format_points(u.mean_score)),
                    results.format_rate(u.participation), str(u.participants)))
            for u in results.unit_results(round_) if u.level == level
        ]

    def _compute_series(self, name: BoardName) -> list[tuple[Entry, Detail]]:
        series = self._series(name)
        assert series is not None
        now = _now()
        if name.kind == "people":
            return [
                (Entry(str(p.user_id), float(p.total), (p.duration_ms, p.user_id)),
                 Detail(p.full_name, p.team_name or p.unit_name, str(p.total), str(p.rounds)))
                for p in results.series_people(series, now)
            ]
        return [
            (Entry(str(t.team_id), t.total, (_higher_first(t.participation), t.team_id)),
             Detail(t.name, t.unit_name, results.format_points(t.total), results.format_rate(t.participation)))
            for t in results.series_teams(series, now)
        ]

    def member_of(self, board: str, user: User) -> str | None:
        name = BoardName.parse(board)
        if name is None:
            return None
        if name.kind == "people":
            return str(user.id)
        round_ = self._round(name)
        if name.kind == "teams":
            if round_ is not None:
                team_id = results.my_team_id(user, round_)
            else:
                membership = active_membership_of(user)
                team_id = membership.team_id if membership else None
            return str(team_id) if team_id else None
        entry = entry_of(user, round_) if round_ is not None else None
        unit = entry.unit if entry is not None else user.unit
        wanted = {UnitKind(k) for k in COMMUNE_LEVEL} if name.kind == "communes" else {UnitKind.DISTRICT}
        while unit is not None and UnitKind(unit.kind) not in wanted:
            unit = unit.parent
        return str(unit.id) if unit is not None else None

    # keeping them current ------------------------------------------------------------------------------

    def _built(self, candidates: Iterable[str]) -> list[str]:
        store = rank_store()
        return [name for name in candidates if store.is_built(name)]

    def _round_boards(self, round_: Round) -> tuple[list[str], list[str]]:
        """(people boards, aggregate boards) of the round, with every unit filter."""
        districts, communes = self._levels(round_)
        units = [u.id for u in districts + communes]  # type: ignore[attr-defined]
        group = round_.context
        people = [f"{group}:people"] + [f"{group}:people:u{u}" for u in units]
        aggregates = [f"{group}:teams"] + [f"{group}:teams:u{u}" for u in units] + [f"{group}:communes"]
        if districts:
            aggregates.append(f"{group}:districts")
        return people, aggregates

    def refresh(self, group: str, members: frozenset[str]) -> list[str]:
        name = BoardName.parse(f"{group}:people")
        if name is None:
            return []
        if name.owner == "series":
            return self._republish(self._built([f"{group}:{k}" for k in SERIES_KINDS]))
        round_ = self._round(name)
        if round_ is None:
            return []
        people, aggregates = self._round_boards(round_)
        if changes.EVERYTHING in members:
            return self._republish(self._built(people + aggregates))
        changed = self._place_people(round_, people, [int(m) for m in members if m.isdigit()])
        if aggregates_due(group):
            changed += self._republish(self._built(aggregates))
        else:
            changes.notify(group, [AGGREGATES])  # the next tick after the pause recomputes them
        return changed

    def _republish(self, boards: list[str]) -> list[str]:
        for board in boards:
            service.publish(board, self.compute(board))
        return boards

    def _place_people(self, round_: Round, boards: list[str], user_ids: list[int]) -> list[str]:
        """Set the changed people's rows (prizes marked) on the round's board and on the unit boards
        someone has opened (the others are computed when first opened)."""
        if not user_ids:
            return []
        base, filtered = boards[0], set(self._built(boards[1:]))
        name = BoardName.parse(base)
        assert name is not None
        counted = results.counted_of(round_, user_ids)
        placed = _with_prizes(name, [_person(round_, row) for row in counted])  # one look-up of prizes
        rows: dict[str, list[tuple[Entry, Detail]]] = {base: placed}
        for row, person in zip(counted, placed, strict=True):
            for unit_id in results.path_ids(row.unit_path):
                if f"{base}:u{unit_id}" in filtered:
                    rows.setdefault(f"{base}:u{unit_id}", []).append(person)
        for board, people in rows.items():
            service.put(board, people)
        return sorted(rows)
