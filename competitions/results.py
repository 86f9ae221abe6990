"""Results of rounds: the attempt that counts for each person, the individual ranking with the
round's tie-breaks, team and unit results, live participation, series standings, Excel exports and
round statistics. The formulas are written out for people in docs/scoring.md.

Everything is aggregated by the database or read in one pass: ranking a round takes one query
(window functions, which SQLite >= 3.25 and PostgreSQL share), team and unit results two or three,
whatever the number of participants; nothing here runs a query per person.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import Row, Select, Subquery, and_, case, distinct, exists, func, or_, select, true
from sqlalchemy.orm import contains_eager
from sqlalchemy.sql.elements import ColumnElement

from competitions import board_feed, signals
from competitions.models import (
    DEFAULT_TIE_BREAKS,
    AttemptPolicy,
    Entry,
    PredictionKind,
    Round,
    RoundStatus,
    Series,
    TeamScoring,
    TieBreak,
)
from competitions.play import answers_revealed
from core.accounts.models import User
from core.errors import PermissionDenied
from core.extensions import db
from core.org.models import COMMUNE_LEVEL, Unit, UnitKind
from core.org.scope import in_scope
from core.pagination import PER_PAGE, Page, clamp_page, paginate_select
from core.teams.models import Membership, Team
from core.teams.service import active_membership_of, is_staff
from core.text import fold
from core.timeutil import to_local
from quiz.attempts import close_due
from quiz.models import Attempt, AttemptItem, AttemptStatus, QuestionVersion

T = TypeVar("T")

# In-sentence wording for the ranking rule ("Xếp hạng theo …, rồi …"); the form labels are
# competitions.rounds.TIE_BREAK_LABELS.
TIE_BREAK_PHRASES = {
    TieBreak.SCORE: _l("điểm cao hơn"),
    TieBreak.PREDICTION: _l("dự đoán gần với đáp án hơn (không dự đoán xếp sau)"),
    TieBreak.DURATION: _l("thời gian làm bài ngắn hơn"),
    TieBreak.SUBMITTED_AT: _l("nộp bài sớm hơn"),
}
PROVINCE, DISTRICT, COMMUNE = "province", "district", "commune"
LEVELS = (PROVINCE, DISTRICT, COMMUNE)
LEVEL_LABELS = {PROVINCE: _l("Cấp tỉnh"), DISTRICT: _l("Cấp huyện"), COMMUNE: _l("Cấp xã")}
_LEVEL_OF_KIND = {UnitKind.PROVINCE: PROVINCE, UnitKind.DISTRICT: DISTRICT, **dict.fromkeys(COMMUNE_LEVEL, COMMUNE)}


# --- small helpers shared by pages and exports ---------------------------------------------------


def mask_phone(phone: str | None) -> str:
    """``0912345678`` → ``0912***678``: enough to tell namesakes apart, not enough to call them."""
    if not phone:
        return ""
    return f"{phone[:4]}***{phone[-3:]}" if len(phone) >= 8 else "***"


def format_duration(ms: int | None) -> str:
    """``125412`` → ``2:05,412`` (minutes:seconds,milliseconds): ties are broken to the millisecond."""
    if ms is None:
        return "—"
    minutes, rest = divmod(ms, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{minutes}:{seconds:02d},{millis:03d}"


def format_moment(moment: datetime) -> str:
    return to_local(moment).strftime("%d/%m/%Y %H:%M")


def format_rate(share: float | None) -> str:
    return "—" if share is None else format_percent(share, format="#,##0.#%")


def format_points(value: float | None) -> str:
    return "—" if value is None else format_decimal(value, format="#,##0.##")


def path_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


def _with_ranks(items: Iterable[T], key: Callable[[T], tuple], then: Callable[[T], Any]) -> list[T]:
    """The items (dataclasses with a ``rank``) sorted, ranked 1, 2, 2, 4: items with equal ``key``
    share a rank; ``then`` only orders the display."""
    ranked: list[T] = []
    previous: tuple | None = None
    for position, item in enumerate(sorted(items, key=lambda i: (key(i), then(i))), start=1):
        rank = ranked[-1].rank if ranked and key(item) == previous else position  # type: ignore[attr-defined]
        previous = key(item)
        ranked.append(replace(item, rank=rank))  # type: ignore[type-var]
    return ranked


# --- who sees what ---------------------------------------------------------------------------------


def _related(user: User, unit: Unit) -> bool:
    """On one line of the tree: the unit is in the user's scope, or the user belongs below it."""
    return in_scope(user, unit) or (user.unit is not None and user.unit.path.startswith(unit.path))


def is_round_staff(user: User, round_: Round) -> bool:
    """Staff whose scope holds the round, or who work inside its area (a commune officer in a
    provincial round): they follow the round live and export its results."""
    return is_staff(user) and _related(user, round_.scope_unit)


@dataclass(frozen=True)
class Visibility:
    results: bool  # rankings of people, teams and units
    participation: bool  # counts per commune (published daily while a round runs)
    staff: bool  # exports and statistics

    @property
    def anything(self) -> bool:
        return self.results or self.participation


def visibility(user: User, round_: Round, now: datetime) -> Visibility:
    """Results of a published round: staff of the round at any time (live while it runs); people
    of its area, and anyone who took part, once it has closed; while it runs they see only the
    participation counts. A draft round shows nothing."""
    if round_.status != RoundStatus.PUBLISHED:
        return Visibility(False, False, False)
    if is_round_staff(user, round_):
        return Visibility(True, True, True)
    concerned = _related(user, round_.scope_unit) or _has_entry(user, round_)
    return Visibility(concerned and now >= round_.closes_at, concerned, False)


def _has_entry(user: User, round_: Round) -> bool:
    return bool(db.session.scalar(select(exists().where(Entry.round_id == round_.id, Entry.user_id == user.id))))


def require_round_staff(user: User, round_: Round) -> None:
    if round_.status != RoundStatus.PUBLISHED or not is_round_staff(user, round_):
        raise PermissionDenied


def can_view_standings(user: User, series: Series) -> bool:
    """Series standings (closed rounds only) are for everyone on the series' line of the tree."""
    return _related(user, series.scope_unit)


def is_series_staff(user: User, series: Series) -> bool:
    return is_staff(user) and _related(user, series.scope_unit)


# --- the attempt that counts -----------------------------------------------------------------------


def _pick_order(policy: str) -> tuple[ColumnElement[Any], ...]:
    if policy == AttemptPolicy.ONCE:
        # Their attempt; should a second exist (a policy changed mid-round), the first one counts.
        return (Attempt.started_at, Attempt.id)
    return (Attempt.score.desc(), Attempt.duration_ms, Attempt.submitted_at, Attempt.id)


def _counted(rounds: Sequence[Round], team_ids: Collection[int] | None = None) -> Subquery:
    """One row per person and round: the submitted attempt that counts, with the person's entry
    (team and unit of that day, prediction) and how many attempts they submitted. The rounds must
    share their attempt policy's pick order (see ``counted_results``). ``team_ids``: only the people
    who competed for these teams."""
    # One round: a constant, which PostgreSQL estimates well (it misjudges a join on the CASE by 200x).
    round_id = rounds[0].id if len(rounds) == 1 else case({r.context: r.id for r in rounds}, value=Attempt.context)
    person = (Attempt.user_id, Attempt.context)
    inner = (
        select(
            Entry.round_id, Attempt.user_id, Attempt.id.label("attempt_id"), Attempt.score, Attempt.max_score,
            Attempt.duration_ms, Attempt.submitted_at, Entry.team_id, Entry.unit_id, Entry.prediction,
            func.row_number().over(partition_by=person, order_by=_pick_order(rounds[0].attempt_policy)).label("pick"),
            func.count().over(partition_by=person).label("attempts"),
        )
        .join(Entry, and_(Entry.user_id == Attempt.user_id, Entry.round_id == round_id))
        .where(_submitted([r.context for r in rounds]))
        .where(Entry.team_id.in_(team_ids) if team_ids is not None else true())
        .subquery("tried")
    )
    return select(inner).where(inner.c.pick == 1).subquery("counted")


def _submitted(contexts: Sequence[str]) -> ColumnElement[bool]:
    """Submitted attempts of these contexts. Submitted means ``submitted_at`` is set (quiz.attempts.close
    sets it with the status): filtering on it rather than on the status keeps SQLite on the context
    index, where the status index would have it read the submitted attempts of every round."""
    return and_(Attempt.context.in_(contexts), Attempt.submitted_at.is_not(None))


def counted_results(rounds: Sequence[Round], team_ids: Collection[int] | None = None) -> list[Row[Any]]:
    """The counted result of each person in the rounds (of those who competed for ``team_ids``,
    when given), with the names pages show; one query per pick order. Rows of (round_id, user_id,
    team_id, score, max_score, duration_ms, full_name, phone, team_name, unit_name, unit_path): the
    column order is relied on where rows are unpacked (``tally_teams``)."""
    groups: dict[bool, list[Round]] = defaultdict(list)
    for round_ in rounds:
        groups[round_.attempt_policy == AttemptPolicy.ONCE].append(round_)
    rows: list[Row[Any]] = []
    for group in groups.values():
        c = _counted(group, team_ids)
        rows += db.session.execute(
            select(
                c.c.round_id, c.c.user_id, c.c.team_id, c.c.score, c.c.max_score, c.c.duration_ms,
                User.full_name, User.phone, Team.name.label("team_name"), Unit.name.label("unit_name"),
                Unit.path.label("unit_path"),
            )
            .select_from(c)
            .join(User, User.id == c.c.user_id)
            .join(Unit, Unit.id == c.c.unit_id)
            .outerjoin(Team, Team.id == c.c.team_id)
        ).all()
    return rows


# --- closing ---------------------------------------------------------------------------------------


def finalise(round_: Round, now: datetime) -> bool:
    """The closing work of a published round, once: close every attempt left past its deadline
    and compute the prediction question's true value. Idempotent (``finalised_at``); does nothing
    while the round is open or while an attempt started before closing still runs (its deadline
    plus grace). Returns whether the work was done now."""
    if round_.status != RoundStatus.PUBLISHED or round_.finalised_at is not None or now < round_.closes_at:
        return False
    close_due(round_.context, now)
    running = exists().where(Attempt.context == round_.context, Attempt.status == AttemptStatus.IN_PROGRESS)
    if db.session.scalar(select(running)):
        return False
    if round_.prediction_kind:
        round_.prediction_answer = prediction_truth(round_)
    round_.finalised_at = now
    db.session.flush()
    board_feed.round_closed(round_)
    signals.round_closed.send(round_)
    return True


def prediction_truth(round_: Round) -> int:
    """The true value of the prediction question: people with a submitted attempt, or those
    whose counted attempt has every question right."""
    c = _counted([round_])
    perfect = func.sum(case((and_(c.c.score == c.c.max_score, c.c.max_score > 0), 1), else_=0))
    people, perfect_count = db.session.execute(select(func.count(), perfect).select_from(c)).one()
    return int(people if round_.prediction_kind == PredictionKind.PARTICIPANTS else perfect_count or 0)


# --- individual ranking ----------------------------------------------------------------------------


def tie_breaks(round_: Round) -> list[TieBreak]:
    """The round's ranking order; the prediction step only where the round asks a prediction."""
    steps = [TieBreak(step) for step in (round_.tie_breaks or DEFAULT_TIE_BREAKS)]
    return [step for step in steps if step != TieBreak.PREDICTION or round_.prediction_kind]


def ranking_rule(round_: Round) -> str:
    """The order in words, as the results page states it."""
    steps = _(", rồi ").join(str(TIE_BREAK_PHRASES[step]) for step in tie_breaks(round_))
    return _("Xếp hạng theo %(steps)s. Bằng nhau ở mọi tiêu chí thì đồng hạng.", steps=steps)


def _order(round_: Round, c: Subquery) -> list[ColumnElement[Any]]:
    keys: list[ColumnElement[Any]] = []
    for step in tie_breaks(round_):
        if step == TieBreak.SCORE:
            keys.append(c.c.score.desc())
        elif step == TieBreak.PREDICTION:
            if round_.prediction_answer is None:
                continue  # known only at closing: until then nobody is closer than anybody
            # Without a prediction, last; a CASE key keeps that order on SQLite and PostgreSQL alike.
            keys += [case((c.c.prediction.is_(None), 1), else_=0), func.abs(c.c.prediction - round_.prediction_answer)]
        elif step == TieBreak.DURATION:
            keys.append(c.c.duration_ms)
        else:
            keys.append(c.c.submitted_at)
    return keys


@dataclass(frozen=True)
class Standing:
    """One person's counted result in a round and their place."""

    rank: int  # equal on every tie-break: equal rank (1, 2, 2, 4)
    position: int  # place in the listed order (ties listed by user id)
    user_id: int
    full_name: str
    phone: str | None
    team_id: int | None
    team_name: str | None
    unit_id: int
    unit_name: str
    score: int
    max_score: int
    duration_ms: int
    submitted_at: datetime
    prediction: int | None
    attempts: int
    gap: int | None  # |prediction − true value|, once the true value is known


def _below_unit(unit_id: ColumnElement[int], unit: Unit) -> ColumnElement[bool]:
    return unit_id.in_(select(Unit.id).where(Unit.path.startswith(unit.path)))


def _standings(round_: Round, unit: Unit | None = None, user_id: int | None = None,
               page: tuple[int, int] | None = None) -> Select[Any]:
    """Ranked counted results, optionally below ``unit``, of one person, or one (offset, limit)
    page. Filters and the page cut apply to the ranked rows before names are joined: outside the
    window (a commune sees its people with their round-wide rank), and with 25 rows to join, not
    10,000."""
    c = _counted([round_])
    keys = _order(round_, c)
    ranked = select(
        c, func.rank().over(order_by=keys).label("rank"),
        func.row_number().over(order_by=[*keys, c.c.user_id]).label("position"),
    ).subquery("ranked")
    chosen = select(ranked)
    if unit is not None:
        chosen = chosen.where(_below_unit(ranked.c.unit_id, unit))
    if user_id is not None:
        chosen = chosen.where(ranked.c.user_id == user_id)
    if page is not None:
        chosen = chosen.order_by(ranked.c.position).offset(page[0]).limit(page[1])
    rows = chosen.subquery("chosen")
    return (
        select(
            rows.c.rank, rows.c.position, rows.c.user_id, User.full_name, User.phone, rows.c.team_id,
            Team.name.label("team_name"), rows.c.unit_id, Unit.name.label("unit_name"), rows.c.score,
            rows.c.max_score, rows.c.duration_ms, rows.c.submitted_at, rows.c.prediction, rows.c.attempts,
        )
        .select_from(rows)
        .join(User, User.id == rows.c.user_id)
        .join(Unit, Unit.id == rows.c.unit_id)
        .outerjoin(Team, Team.id == rows.c.team_id)
        .order_by(rows.c.position)
    )


def _standing(row: Row[Any], answer: int | None) -> Standing:
    gap = abs(row.prediction - answer) if answer is not None and row.prediction is not None else None
    return Standing(*row, gap=gap)  # the columns of _standings, in the order of the fields


def counted_of(round_: Round, user_ids: Sequence[int]) -> list[Row[Any]]:
    """The counted results of these people (no ranks): what a live board needs to place them.
    One query."""
    c = _counted([round_])
    return db.session.execute(
        select(
            c.c.user_id, c.c.score, c.c.max_score, c.c.duration_ms, c.c.submitted_at, c.c.prediction,
            User.full_name, Team.name.label("team_name"), Unit.name.label("unit_name"), Unit.path.label("unit_path"),
        )
        .select_from(c)
        .join(User, User.id == c.c.user_id)
        .join(Unit, Unit.id == c.c.unit_id)
        .outerjoin(Team, Team.id == c.c.team_id)
        .where(c.c.user_id.in_(user_ids))
    ).all()


def ranking(round_: Round, unit: Unit | None = None) -> list[Standing]:
    """Everyone's counted result, best first; ``unit`` keeps the people of that unit and below."""
    return [_standing(row, round_.prediction_answer) for row in db.session.execute(_standings(round_, unit))]


def ranking_page(round_: Round, unit: Unit | None, page: int | None, per_page: int = PER_PAGE) -> Page[Standing]:
    # The count needs no ranking: the people with a submitted attempt and an entry (below the unit).
    count = (
        select(func.count(distinct(Attempt.user_id)))
        .join(Entry, and_(Entry.user_id == Attempt.user_id, Entry.round_id == round_.id))
        .where(_submitted([round_.context]))
    )
    if unit is not None:
        count = count.where(_below_unit(Entry.unit_id, unit))
    total = db.session.scalar(count) or 0
    page = clamp_page(page, total, per_page)
    rows = db.session.execute(_standings(round_, unit, page=((page - 1) * per_page, per_page)))
    return Page([_standing(row, round_.prediction_answer) for row in rows], total, page, per_page)


def standing_of(round_: Round, user_id: int) -> Standing | None:
    """One person's place, ranked among everyone (one query)."""
    row = db.session.execute(_standings(round_, user_id=user_id)).first()
    return None if row is None else _standing(row, round_.prediction_answer)


def page_of(standing: Standing, per_page: int = PER_PAGE) -> int:
    return (standing.position - 1) // per_page + 1


# --- teams -----------------------------------------------------------------------------------------


def team_scoring_rule(round_: Round) -> str:
    """The round's team score in words, as the teams tab states it."""
    if round_.team_scoring == TeamScoring.PARTICIPANT_MEAN:
        return _("Điểm tổ = điểm trung bình của các thành viên đã dự thi.")
    if round_.team_scoring == TeamScoring.BEST_K:
        return _("Điểm tổ = trung bình %(k)d điểm cao nhất của tổ (thiếu người thì tính 0 điểm).", k=round_.best_k)
    return _("Điểm tổ = tổng điểm của các thành viên ÷ số thành viên của tổ khi mở đợt (người không thi tính 0 điểm).")


def team_score(method: str, scores: Sequence[int], members: int, k: int) -> float:
    """A team's score from its participants' counted scores (docs/scoring.md)."""
    if method == TeamScoring.PARTICIPANT_MEAN:
        return sum(scores) / len(scores) if scores else 0.0
    if method == TeamScoring.BEST_K:
        k = max(k, 1)
        return sum(sorted(scores, reverse=True)[:k]) / k
    return sum(scores) / members if members else 0.0


@dataclass
class TeamTally:
    """A team's roster for one round (user ids) and its participants' counted scores (``tally_teams``)."""

    team_id: int
    name: str
    unit_name: str
    unit_path: str
    roster: set[int] = field(default_factory=set)
    scores: list[int] = field(default_factory=list)


def memberships_between(scope: Unit, first: datetime, last: datetime) -> list[Row[Any]]:
    """Stints in the scope's teams that were running at some opening between ``first`` and ``last``:
    rows of (team_id, user_id, joined_at, left_at, team_name, unit_name, unit_path) for ``tally_teams``."""
    return db.session.execute(
        select(
            Membership.team_id, Membership.user_id, Membership.joined_at, Membership.left_at,
            Team.name.label("team_name"), Unit.name.label("unit_name"), Unit.path.label("unit_path"),
        )
        .join(Team, Team.id == Membership.team_id)
        .join(Unit, Unit.id == Team.unit_id)
        .where(
            Unit.path.startswith(scope.path), Membership.joined_at <= last,
            or_(Membership.left_at.is_(None), Membership.left_at > first),
        )
    ).all()


def tally_teams(round_: Round, results: Sequence[Row[Any]], memberships: Sequence[Row[Any]]) -> dict[int, TeamTally]:
    """Each team's roster for the round and its participants' scores. The roster is the members
    active at the opening, less those who took part for another team (they moved during the
    round), plus those who took part for the team without being one of them (they joined during
    the round). A result belongs to the team of the entry (the team at the time)."""
    opens, scope = round_.opens_at, round_.scope_unit.path
    competed_for = {row.user_id: row.team_id for row in results}
    tallies: dict[int, TeamTally] = {}

    def tally(team_id: int, team_name: str, unit_name: str, unit_path: str) -> TeamTally:
        found = tallies.get(team_id)
        if found is None:
            found = tallies[team_id] = TeamTally(team_id, team_name, unit_name, unit_path)
        return found

    # Rows are unpacked, not read by attribute: at 10,000 members that halves the time.
    for team_id, user_id, joined, left, team_name, unit_name, unit_path in memberships:
        active = joined <= opens and (left is None or left > opens)
        if active and unit_path.startswith(scope) and competed_for.get(user_id, team_id) == team_id:
            tally(team_id, team_name, unit_name, unit_path).roster.add(user_id)
    for _round_id, user_id, team_id, score, *_person, team_name, unit_name, unit_path in results:
        if team_id is not None:
            found = tally(team_id, team_name, unit_name, unit_path)
            found.roster.add(user_id)
            found.scores.append(score)
    return tallies


def _round_tallies(round_: Round, results: Sequence[Row[Any]]) -> dict[int, TeamTally]:
    return tally_teams(round_, results, memberships_between(round_.scope_unit, round_.opens_at, round_.opens_at))


def my_team_id(user: User, round_: Round) -> int | None:
    """The team the person competed for in the round, else the team they are in now."""
    entered = db.session.execute(
        select(Entry.team_id).where(Entry.round_id == round_.id, Entry.user_id == user.id)
    ).first()
    if entered is not None:
        return entered.team_id
    membership = active_membership_of(user)
    return membership.team_id if membership else None


@dataclass(frozen=True)
class TeamResult:
    rank: int
    team_id: int
    name: str
    unit_name: str
    unit_path: str
    members: int  # the team's roster for the round
    participants: int
    score: float

    @property
    def participation(self) -> float:
        return self.participants / self.members


def _team_results(round_: Round, tallies: Iterable[TeamTally]) -> list[TeamResult]:
    """Ranked by team score, then participation rate; equal on both, equal rank."""
    results = [
        TeamResult(0, t.team_id, t.name, t.unit_name, t.unit_path, len(t.roster), len(t.scores),
                   team_score(round_.team_scoring, t.scores, len(t.roster), round_.best_k))
        for t in tallies
    ]
    return _with_ranks(results, key=lambda t: (-t.score, -t.participation), then=lambda t: (fold(t.name), t.team_id))


def _below(items: Iterable[T], unit: Unit | None, path_of: Callable[[T], str]) -> list[T]:
    return [item for item in items if unit is None or path_of(item).startswith(unit.path)]


def team_results(round_: Round, unit: Unit | None = None) -> list[TeamResult]:
    """Every team of the round's area that had members at the opening or took part, ranked;
    ``unit`` keeps the teams of that unit and below, with their round-wide rank. Two queries."""
    tallies = _round_tallies(round_, counted_results([round_]))
    return _below(_team_results(round_, tallies.values()), unit, lambda t: t.unit_path)


# --- units -----------------------------------------------------------------------------------------


def level_units(round_: Round) -> list[Row[Any]]:
    """The province, districts and commune-level units of the round's area, in tree order."""
    units = db.session.execute(
        select(Unit.id, Unit.name, Unit.kind, Unit.path).where(
            Unit.path.startswith(round_.scope_unit.path), Unit.kind.in_([str(kind) for kind in _LEVEL_OF_KIND])
        )
    ).all()
    names = {unit.id: fold(unit.name) for unit in units}
    return sorted(units, key=lambda u: [names.get(i, "") for i in path_ids(u.path)])


@dataclass(frozen=True)
class UnitResult:
    level: str  # PROVINCE, DISTRICT or COMMUNE
    rank: int  # within the level: participation rate, then participants
    unit_id: int
    name: str
    path: str
    participants: int  # everyone who took part under the unit: team members and guests
    members: int  # team members in the rosters of the unit's teams
    member_participants: int
    score_total: int

    @property
    def participation(self) -> float | None:
        return self.member_participants / self.members if self.members else None

    @property
    def mean_score(self) -> float | None:
        return self.score_total / self.participants if self.participants else None


def unit_results(round_: Round, unit: Unit | None = None) -> list[UnitResult]:
    """Province, district (where the tree has them) and commune rollups of the round, each level
    ranked on its own; units without members or participants are left out. Three queries."""
    units = level_units(round_)
    results = counted_results([round_])
    tallies = _round_tallies(round_, results)
    totals = {u.id: [0, 0, 0, 0] for u in units}  # participants, members, member participants, score total
    for tally in tallies.values():
        for unit_id in path_ids(tally.unit_path):
            if unit_id in totals:
                totals[unit_id][1] += len(tally.roster)
                totals[unit_id][2] += len(tally.scores)
    for row in results:
        for unit_id in path_ids(row.unit_path):
            if unit_id in totals:
                totals[unit_id][0] += 1
                totals[unit_id][3] += row.score
    ranked: list[UnitResult] = []
    for level in LEVELS:
        rows = [
            UnitResult(level, 0, u.id, u.name, u.path, *totals[u.id])
            for u in units if _LEVEL_OF_KIND[UnitKind(u.kind)] == level and any(totals[u.id])
        ]
        ranked += _with_ranks(
            rows, key=lambda r: (r.participation is None, -(r.participation or 0), -r.participants),
            then=lambda r: fold(r.name),
        )
    return _below(ranked, unit, lambda r: r.path)


@dataclass(frozen=True)
class LiveCount:
    unit_id: int
    name: str
    people: int  # who have submitted an attempt so far
    attempts: int  # attempts submitted so far


def live_participation(round_: Round) -> list[LiveCount]:
    """Participation per commune-level unit of the round's area while it runs, most people
    first (Vietnamese contests publish these daily). Two queries."""
    communes = {u.id: u.name for u in level_units(round_) if u.kind in COMMUNE_LEVEL}
    counts = {unit_id: [0, 0] for unit_id in communes}
    per_unit = db.session.execute(
        select(Unit.path, func.count(distinct(Attempt.user_id)), func.count())
        .select_from(Attempt)
        .join(Entry, and_(Entry.user_id == Attempt.user_id, Entry.round_id == round_.id))
        .join(Unit, Unit.id == Entry.unit_id)
        .where(_submitted([round_.context]))
        .group_by(Unit.path)
    )
    for path, people, attempts in per_unit:  # a person has one entry, hence one unit: sums do not double count
        for unit_id in path_ids(path):
            if unit_id in counts:
                counts[unit_id][0] += people
                counts[unit_id][1] += attempts
    rows = [LiveCount(unit_id, name, *counts[unit_id]) for unit_id, name in communes.items()]
    return sorted(rows, key=lambda r: (-r.people, fold(r.name)))


# --- series ----------------------------------------------------------------------------------------


def series_rounds(series: Series, now: datetime) -> list[Round]:
    """The rounds that count in the standings: published and closed."""
    return list(db.session.scalars(
        select(Round).where(Round.series_id == series.id, Round.status == RoundStatus.PUBLISHED, Round.closes_at <= now)
        .order_by(Round.opens_at, Round.id)
    ))


@dataclass(frozen=True)
class SeriesStanding:
    rank: int  # total desc, then total time asc; equal on both, equal rank
    user_id: int
    full_name: str
    phone: str | None
    team_name: str | None  # of the person's latest round
    unit_name: str
    total: int
    rounds: int
    duration_ms: int


def series_people(series: Series, now: datetime) -> list[SeriesStanding]:
    """Per person: the sum of their counted scores over the series' rounds (one or two queries)."""
    rounds = series_rounds(series, now)
    order = {r.id: index for index, r in enumerate(rounds)}
    people: dict[int, SeriesStanding] = {}
    for row in sorted(counted_results(rounds), key=lambda r: order[r.round_id]):
        before = people.get(row.user_id)
        people[row.user_id] = SeriesStanding(
            0, row.user_id, row.full_name, row.phone, row.team_name, row.unit_name,
            row.score + (before.total if before else 0), 1 + (before.rounds if before else 0),
            row.duration_ms + (before.duration_ms if before else 0),
        )
    return _with_ranks(
        people.values(), key=lambda p: (-p.total, p.duration_ms), then=lambda p: (fold(p.full_name), p.user_id)
    )


@dataclass(frozen=True)
class SeriesTeamStanding:
    rank: int  # total desc, then mean participation desc
    team_id: int
    name: str
    unit_name: str
    total: float  # sum of the team's round scores
    rounds: int  # rounds in which someone of the team took part
    participation: float  # mean participation rate over the rounds the team had a roster in


def series_teams(series: Series, now: datetime) -> list[SeriesTeamStanding]:
    """Per team: the sum of its round scores (each round's own team scoring) over the series.
    Memberships are read once for the whole series, results once per pick order."""
    rounds = series_rounds(series, now)
    if not rounds:
        return []
    by_round: dict[int, list[Row[Any]]] = defaultdict(list)
    for row in counted_results(rounds):
        by_round[row.round_id].append(row)
    memberships = memberships_between(series.scope_unit, rounds[0].opens_at, max(r.opens_at for r in rounds))
    teams: dict[int, SeriesTeamStanding] = {}
    rates: dict[int, list[float]] = defaultdict(list)
    for round_ in rounds:
        for t in tally_teams(round_, by_round[round_.id], memberships).values():
            before = teams.get(t.team_id)
            score = team_score(round_.team_scoring, t.scores, len(t.roster), round_.best_k)
            rates[t.team_id].append(len(t.scores) / len(t.roster))
            teams[t.team_id] = SeriesTeamStanding(
                0, t.team_id, t.name, t.unit_name, score + (before.total if before else 0),
                bool(t.scores) + (before.rounds if before else 0), 0.0,
            )
    standings = [replace(t, participation=sum(rates[t.team_id]) / len(rates[t.team_id])) for t in teams.values()]
    # Sums of fractions: compared to 9 decimals, so that equal totals reached by other sums tie.
    return _with_ranks(
        standings, key=lambda t: (-round(t.total, 9), -round(t.participation, 9)),
        then=lambda t: (fold(t.name), t.team_id),
    )


# --- my results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MyResult:
    round: Round
    standing: Standing | None  # None until an attempt is submitted
    closed: bool
    answers_open: bool  # the round's reveal rule lets the person see the correct answers


def my_entries(user: User, page: int | None, per_page: int = PER_PAGE) -> Page[Entry]:
    """The person's entries in published rounds, latest round first."""
    query = (
        select(Entry).join(Round, Round.id == Entry.round_id)
        .where(Entry.user_id == user.id, Round.status == RoundStatus.PUBLISHED)
        .order_by(Round.opens_at.desc(), Round.id.desc())
        .options(contains_eager(Entry.round))
    )
    return paginate_select(query, page, per_page)


def my_result(entry: Entry, now: datetime) -> MyResult:
    """One query: the person's counted result and rank in the entry's round."""
    round_ = entry.round
    standing = standing_of(round_, entry.user_id)
    return MyResult(round_, standing, now >= round_.closes_at, standing is not None and answers_revealed(round_, now))


# --- statistics for organisers ---------------------------------------------------------------------


@dataclass(frozen=True)
class DayCount:
    day: date  # local date
    people: int  # who submitted their first attempt that day
    attempts: int  # attempts submitted that day
    cumulative: int  # people so far


@dataclass(frozen=True)
class QuestionShare:
    question_id: int
    version: int
    text: str
    asked: int  # items of submitted attempts (unanswered ones count, as wrong)
    correct: int

    @property
    def share(self) -> float:
        return self.correct / self.asked


@dataclass(frozen=True)
class RoundStats:
    participants: int
    attempts: int
    mean_score: float | None
    max_score: int
    days: list[DayCount]
    histogram: list[tuple[int, int]]  # (score, people whose counted score it is) for 0..max_score
    questions: list[QuestionShare]  # hardest first


def full_marks(round_: Round, results: Iterable[Row[Any]]) -> int:
    """The round's highest possible score: the questions its draw plan asks, or more where a
    counted attempt (``counted_results`` rows) was drawn with more."""
    planned = sum(int(rule["count"]) for rule in round_.draw_plan)  # type: ignore[call-overload]
    return max([planned, *(row.max_score for row in results)])


def round_stats(round_: Round, with_questions: bool = True) -> RoundStats:
    """Participants per local day, the distribution of counted scores and (``with_questions``)
    each question's share of correct answers over all submitted attempts of the round. Three queries."""
    submitted = db.session.execute(
        select(Attempt.user_id, Attempt.submitted_at)
        .join(Entry, and_(Entry.user_id == Attempt.user_id, Entry.round_id == round_.id))
        .where(_submitted([round_.context]))
    ).all()
    results = counted_results([round_])
    max_score = full_marks(round_, results)
    scores = Counter(row.score for row in results)
    return RoundStats(
        participants=len(results),
        attempts=len(submitted),
        mean_score=sum(row.score for row in results) / len(results) if results else None,
        max_score=max_score,
        days=_days(submitted),
        histogram=[(score, scores.get(score, 0)) for score in range(max_score + 1)],
        questions=_question_shares(round_) if with_questions else [],
    )


def _days(submitted: Sequence[Row[Any]]) -> list[DayCount]:
    """Per local day from the first submission to the last, days without any included."""
    if not submitted:
        return []
    attempts: Counter[date] = Counter()
    first: dict[int, date] = {}
    for user_id, submitted_at in submitted:
        day = to_local(submitted_at).date()
        attempts[day] += 1
        first[user_id] = min(day, first.get(user_id, day))
    newcomers = Counter(first.values())
    day, last = min(attempts), max(attempts)
    days, cumulative = [], 0
    while day <= last:
        cumulative += newcomers[day]
        days.append(DayCount(day, newcomers[day], attempts[day], cumulative))
        day += timedelta(days=1)
    return days


def _question_shares(round_: Round) -> list[QuestionShare]:
    correct = func.sum(case((AttemptItem.is_correct.is_(True), 1), else_=0))
    rows = db.session.execute(
        select(QuestionVersion.question_id, QuestionVersion.number, QuestionVersion.text, func.count(), correct)
        .select_from(AttemptItem)
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .join(QuestionVersion, QuestionVersion.id == AttemptItem.version_id)
        .where(_submitted([round_.context]))
        # Grouping by the version's primary key lets both backends return its other columns.
        .group_by(QuestionVersion.id)
    )
    shares = [QuestionShare(qid, number, text, asked, int(ok or 0)) for qid, number, text, asked, ok in rows]
    return sorted(shares, key=lambda q: (q.share, q.question_id, q.version))


# --- Excel exports ---------------------------------------------------------------------------------


@dataclass
class Sheet:
    title: str  # at most 31 characters (Excel)
    headers: list[str]
    rows: list[list[object]]
    formats: dict[int, str] = field(default_factory=dict)  # 1-based column -> Excel number format
    widest: int = 45  # the widest a column gets, in characters


_PERCENT, _POINTS, _SECONDS, _MOMENT = "0.0%", "0.00", "0.000", "dd/mm/yyyy hh:mm:ss"


def workbook(heading: str, sheets: Sequence[Sheet]) -> bytes:
    """A title row, a bold header row with filters, frozen panes; numbers stay numbers so Excel
    sorts and formats them in the reader's locale."""
    book = Workbook()
    book.remove(book.active)
    fill = PatternFill("solid", fgColor="DDE7F3")
    for spec in sheets:
        sheet = book.create_sheet(spec.title)
        sheet.append([heading])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append(spec.headers)
        for row in spec.rows:
            sheet.append(row)
        for index, header in enumerate(spec.headers, start=1):
            cell = sheet.cell(row=2, column=index)
            cell.font, cell.fill = Font(bold=True), fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            longest = max((len(str(row[index - 1] or "")) for row in spec.rows[:500]), default=0)
            width = max(10, longest + 2, len(header) // 2 + 2)
            sheet.column_dimensions[get_column_letter(index)].width = min(spec.widest, width)
        for index, number_format in spec.formats.items():
            for (cell,) in sheet.iter_rows(min_row=3, min_col=index, max_col=index):
                cell.number_format = number_format
        sheet.freeze_panes = "A3"
        sheet.auto_filter.ref = f"A2:{get_column_letter(len(spec.headers))}{max(sheet.max_row, 2)}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _heading(what: str, title: str, unit: Unit | None) -> str:
    return f"{what} — {title}" + (f" — {unit.name}" if unit is not None else "")


def _local(moment: datetime) -> datetime:
    return to_local(moment).replace(tzinfo=None)  # Excel keeps no time zone: the local wall clock


def export_individuals(round_: Round, unit: Unit | None = None) -> bytes:
    predicted = round_.prediction_kind is not None
    headers = [_("Hạng"), _("Họ và tên"), _("Số điện thoại"), _("Tổ CNSCĐ"), _("Đơn vị"), _("Điểm"), _("Số câu")]
    headers += [_("Dự đoán"), _("Chênh lệch dự đoán")] if predicted else []
    headers += [_("Thời gian làm bài (giây)"), _("Thời điểm nộp bài"), _("Số lượt thi")]
    rows = []
    for s in ranking(round_, unit):
        row: list[object] = [s.rank, s.full_name, mask_phone(s.phone), s.team_name or "", s.unit_name, s.score,
                             s.max_score]
        row += [s.prediction, s.gap] if predicted else []
        rows.append([*row, s.duration_ms / 1000, _local(s.submitted_at), s.attempts])
    seconds = len(headers) - 2
    sheet = Sheet(_("Cá nhân"), headers, rows, {seconds: _SECONDS, seconds + 1: _MOMENT})
    return workbook(_heading(_("Kết quả cá nhân"), round_.title, unit), [sheet])


def export_teams(round_: Round, unit: Unit | None = None) -> bytes:
    headers = [_("Hạng"), _("Tổ CNSCĐ"), _("Đơn vị"), _("Thành viên khi mở đợt"), _("Số người dự thi"),
               _("Tỷ lệ tham gia"), _("Điểm tổ")]
    rows: list[list[object]] = [
        [t.rank, t.name, t.unit_name, t.members, t.participants, t.participation, t.score]
        for t in team_results(round_, unit)
    ]
    sheet = Sheet(_("Tổ CNSCĐ"), headers, rows, {6: _PERCENT, 7: _POINTS})
    return workbook(_heading(_("Kết quả tập thể"), round_.title, unit), [sheet])


def export_units(round_: Round, unit: Unit | None = None) -> bytes:
    headers = [_("Cấp"), _("Hạng"), _("Đơn vị"), _("Số người dự thi"), _("Thành viên tổ"),
               _("Thành viên dự thi"), _("Tỷ lệ tham gia"), _("Điểm trung bình")]
    rows: list[list[object]] = [
        [str(LEVEL_LABELS[u.level]), u.rank, u.name, u.participants, u.members, u.member_participants,
         u.participation, u.mean_score]
        for u in unit_results(round_, unit)
    ]
    sheet = Sheet(_("Đơn vị"), headers, rows, {7: _PERCENT, 8: _POINTS})
    return workbook(_heading(_("Kết quả theo đơn vị"), round_.title, unit), [sheet])


def export_series(series: Series, now: datetime) -> bytes:
    people = Sheet(
        _("Cá nhân"),
        [_("Hạng"), _("Họ và tên"), _("Số điện thoại"), _("Tổ CNSCĐ"), _("Đơn vị"), _("Tổng điểm"),
         _("Số đợt đã thi"), _("Tổng thời gian (giây)")],
        [[p.rank, p.full_name, mask_phone(p.phone), p.team_name or "", p.unit_name, p.total, p.rounds,
          p.duration_ms / 1000] for p in series_people(series, now)],
        {8: _SECONDS},
    )
    teams = Sheet(
        _("Tổ CNSCĐ"),
        [_("Hạng"), _("Tổ CNSCĐ"), _("Đơn vị"), _("Tổng điểm"), _("Số đợt có người dự thi"),
         _("Tỷ lệ tham gia trung bình")],
        [[t.rank, t.name, t.unit_name, t.total, t.rounds, t.participation] for t in series_teams(series, now)],
        {4: _POINTS, 6: _PERCENT},
    )
    return workbook(_heading(_("Bảng xếp hạng cộng dồn"), series.title, None), [people, teams])
