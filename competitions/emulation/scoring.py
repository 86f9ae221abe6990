"""Emulation points (điểm thi đua): the scheme's criteria measured for every team of a period.

Per criterion a ratio (None: nothing to measure, the criterion does not apply to the team) and
points = min(ratio, cap) × the criterion's points. The total rescales the applicable criteria to 100
(a criterion with nothing to measure never punishes a team) and is clipped to 100; the band is the
first one whose minimum points the total reaches while every applicable criterion reaches the band's
minimum ratio. Quiz criteria reuse competitions.results (the counted attempt, the team rosters).

Everything is read with a fixed number of grouped queries for all the teams of a unit (a province
has tens of thousands), never a query per team. Rankings: points, then team id (the older team first).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import func, select

from competitions import results
from competitions.emulation import tallies
from competitions.emulation.models import ActivityReport, CriterionKind, ReportStatus, Scheme, Target
from competitions.emulation.periods import Period, current_month
from competitions.emulation.schemes import NOT_DONE, criterion_label, scheme_for
from competitions.emulation.tallies import under
from competitions.live.models import ContestStatus, LiveContest, LivePlayer
from competitions.models import Round, RoundStatus, TeamScoring
from core.db_types import utcnow
from core.extensions import db
from core.org.models import COMMUNE_LEVEL, Unit, UnitKind
from core.teams.models import Membership, MembershipStatus, Team
from core.timeutil import to_local

COMMUNE, DISTRICT = "commune", "district"
LEVEL_KINDS = {COMMUNE: {str(kind) for kind in COMMUNE_LEVEL}, DISTRICT: {str(UnitKind.DISTRICT)}}
LEVEL_UNIT_KINDS = LEVEL_KINDS[COMMUNE] | LEVEL_KINDS[DISTRICT]  # the units standings are grouped by
CUMULATIVE_MONTHS = 36  # cumulative points look back at most this far
_PRECISION = 9  # totals reached by different sums of fractions compare equal to this many decimals


@dataclass(frozen=True, slots=True)
class CriterionScore:
    criterion_id: int
    kind: str
    activity_id: int | None
    label: str
    points_max: float
    ratio: float | None  # 0..cap; None: not applicable to the team in the period
    points: float
    value: str = ""  # what was measured, in words ("45/50 người")
    reason: str = ""  # why the criterion does not apply

    @property
    def applicable(self) -> bool:
        return self.ratio is not None

    @property
    def share(self) -> float:
        """Points as a share of the maximum, at most 1 (what the bands' minimum ratio compares)."""
        return min(self.points / self.points_max, 1.0) if self.points_max else 0.0


@dataclass(frozen=True, slots=True)
class TeamScore:
    team_id: int
    team_name: str
    unit_id: int
    points: float  # 0–100, exact (rounded to 2 decimals for display only)
    band: str
    criteria: list[CriterionScore]
    unit_name: str = ""
    unit_path: str = ""
    members: int = 0  # active members now

    @property
    def applicable_max(self) -> float:
        """The sum of the applicable criteria's maxima: the points were rescaled from it to 100."""
        return sum(c.points_max for c in self.criteria if c.applicable)

    @property
    def raw_points(self) -> float:
        return sum(c.points for c in self.criteria if c.applicable)


@dataclass(frozen=True)
class UnitScore:
    rank: int
    unit_id: int
    name: str
    path: str
    level: str  # COMMUNE or DISTRICT
    points: float  # the mean of its teams' points
    teams: int
    members: int


def format_points(value: float | None) -> str:
    return "—" if value is None else format_decimal(round(value, 2), format="#,##0.##")


# --- what is measured -------------------------------------------------------------------------------


@dataclass
class _TeamRow:
    team_id: int
    name: str
    unit_id: int
    unit_name: str
    unit_path: str
    created_at: datetime


@dataclass
class _Quiz:
    """One team's quiz figures over the rounds of its area in the period."""

    entries: int = 0  # counted attempts of its members
    places: int = 0  # roster size summed over the rounds (members × rounds)
    shares: list[float] = field(default_factory=list)  # per round: the team's score / the maximum


@dataclass
class _Live:
    contests: list[tuple[int, str | None]] = field(default_factory=list)  # (id, the host unit's path)
    best: dict[int, int] = field(default_factory=dict)  # contest -> the best player's points
    means: dict[int, dict[int, float]] = field(default_factory=dict)  # team -> contest -> its players' mean


@dataclass(frozen=True)
class _Texts:
    """The words of the breakdown, translated once per scoring (not once per team and criterion:
    that took most of the time of a province's scoring). The templates are formatted with ``%``."""

    no_target: str
    no_rounds: str
    no_roster: str
    no_month: str
    no_contest: str
    entries: str
    rounds: str
    months: str
    contests: str

    @classmethod
    def translated(cls) -> _Texts:
        return cls(
            no_target=_("Tổ không có chỉ tiêu hoạt động này trong kỳ."),
            no_rounds=_("Không có đợt thi trực tuyến nào kết thúc trong kỳ."),
            no_roster=_("Tổ chưa có thành viên khi mở các đợt thi trong kỳ."),
            no_month=_("Chưa có tháng nào đến hạn nộp báo cáo."),
            no_contest=_("Không có cuộc thi trực tiếp nào của địa bàn kết thúc trong kỳ."),
            # without arguments gettext leaves the placeholders for ``%``
            entries=_("%(n)d/%(m)d lượt dự thi"),
            rounds=_("%(n)d đợt thi"),
            months=_("%(n)d/%(m)d tháng đúng hạn"),
            contests=_("Tham gia %(n)d/%(m)d cuộc thi"),
        )


@dataclass
class _Measures:
    """Everything read from the database for one period and one set of teams."""

    targets: dict[tuple[int, int], int] = field(default_factory=dict)
    achieved: dict[tuple[int, int], int] = field(default_factory=dict)
    quiz: dict[int, _Quiz] = field(default_factory=dict)
    round_scopes: list[str] = field(default_factory=list)  # the scope path of each round that counts
    live: _Live = field(default_factory=_Live)
    reports: dict[int, tuple[int, int]] = field(default_factory=dict)  # team -> (months on time, months counted)
    unit_labels: dict[int, str] = field(default_factory=dict)  # activity id -> "người"
    texts: _Texts = field(default_factory=_Texts.translated)


def _teams(unit: Unit | None, team_ids: Sequence[int] | None) -> list[_TeamRow]:
    query = select(Team.id, Team.name, Team.unit_id, Unit.name, Unit.path, Team.created_at).join(
        Unit, Unit.id == Team.unit_id
    )
    query = query.where(Team.id.in_(team_ids)) if team_ids is not None else query.where(Team.active, under(unit))
    return [_TeamRow(*row) for row in db.session.execute(query)]


def _member_counts(unit: Unit | None, team_ids: Sequence[int] | None) -> dict[int, int]:
    query = (
        select(Membership.team_id, func.count())
        .join(Team, Team.id == Membership.team_id)
        .join(Unit, Unit.id == Team.unit_id)
        .where(Membership.status == MembershipStatus.ACTIVE)
        .group_by(Membership.team_id)
    )
    query = query.where(Team.id.in_(team_ids)) if team_ids is not None else query.where(under(unit))
    return dict(db.session.execute(query).all())


def _ends_in(column: Any, period: Period) -> Any:  # noqa: ANN401 - SQL expressions
    """An exclusive end (a round's closing) belongs to the period of its last instant: a round
    closing at 1 December 00:00 is November's (as ``local_month_of`` says)."""
    return (column > period.starts_at) & (column <= period.ends_at)


def _related(path: str, unit: Unit | None) -> bool:
    """On one line of the tree with ``unit``: above it (its area holds the unit) or below it."""
    return unit is None or unit.path.startswith(path) or path.startswith(unit.path)


def _roots(unit: Unit | None) -> list[Unit]:
    return [unit] if unit is not None else list(db.session.scalars(select(Unit).where(Unit.parent_id.is_(None))))


def _quiz(period: Period, unit: Unit | None, now: datetime, measures: _Measures,
          team_ids: Sequence[int] | None = None) -> None:
    """Closed published rounds of the period, each team's counted attempts and roster per round
    (competitions.results: the attempt that counts, the team of the entry, the roster at opening);
    with ``team_ids``, only those teams' attempts are read (one team of a province-wide round)."""
    rounds = [
        r for r in db.session.scalars(
            select(Round).where(Round.status == RoundStatus.PUBLISHED, _ends_in(Round.closes_at, period),
                                Round.closes_at <= now).order_by(Round.id)
        )
        if _related(r.scope_unit.path, unit)
    ]
    if not rounds:
        return
    by_round: dict[int, list[Any]] = defaultdict(list)
    for row in results.counted_results(rounds, team_ids):
        by_round[row.round_id].append(row)
    first, last = min(r.opens_at for r in rounds), max(r.opens_at for r in rounds)
    memberships = [m for root in _roots(unit) for m in results.memberships_between(root, first, last)]
    for round_ in rounds:
        measures.round_scopes.append(round_.scope_unit.path)
        best = results.full_marks(round_, by_round[round_.id])
        for tally in results.tally_teams(round_, by_round[round_.id], memberships).values():
            if not tally.roster or not tally.unit_path.startswith(round_.scope_unit.path):
                continue
            quiz = measures.quiz.setdefault(tally.team_id, _Quiz())
            quiz.entries += len(tally.scores)
            quiz.places += len(tally.roster)
            score = results.team_score(TeamScoring.ACTIVE_MEAN, tally.scores, len(tally.roster), round_.best_k)
            quiz.shares.append(score / best if best else 0.0)


def _live(period: Period, measures: _Measures) -> None:
    """Finished contests of the period, the best player's points in each, and each team's
    players' mean points: three queries."""
    contests = db.session.execute(
        select(LiveContest.id, Unit.path).outerjoin(Unit, Unit.id == LiveContest.unit_id)
        .where(LiveContest.status == ContestStatus.FINISHED, LiveContest.finished_at >= period.starts_at,
               LiveContest.finished_at < period.ends_at)
    ).all()
    if not contests:
        return
    ids = [contest_id for contest_id, _path in contests]
    players = (LivePlayer.contest_id.in_(ids), LivePlayer.removed.is_(False))
    live = measures.live
    live.contests = [(contest_id, path) for contest_id, path in contests]
    live.best = dict(db.session.execute(
        select(LivePlayer.contest_id, func.max(LivePlayer.score)).where(*players).group_by(LivePlayer.contest_id)
    ).all())
    for contest_id, team_id, mean in db.session.execute(
        select(LivePlayer.contest_id, LivePlayer.team_id, func.avg(LivePlayer.score))
        .where(*players, LivePlayer.team_id.isnot(None)).group_by(LivePlayer.contest_id, LivePlayer.team_id)
    ):
        live.means.setdefault(team_id, {})[contest_id] = float(mean)


def _reports(period: Period, unit: Unit | None, team_ids: Sequence[int] | None,
             teams: list[_TeamRow], now: datetime) -> dict[int, tuple[int, int]]:
    """Per team: (months reported by the deadline, months that count). A month counts once its
    deadline has passed, or earlier if it is already reported on time; months that ended before
    the team was founded do not count."""
    query = (
        select(ActivityReport.team_id, ActivityReport.month, func.min(ActivityReport.filed_at))
        .join(Team, Team.id == ActivityReport.team_id)
        .join(Unit, Unit.id == Team.unit_id)
        .where(ActivityReport.month.in_(period.month_keys), ActivityReport.status != ReportStatus.REJECTED)
        .group_by(ActivityReport.team_id, ActivityReport.month)
    )
    query = query.where(Team.id.in_(team_ids)) if team_ids is not None else query.where(under(unit))
    filed = {(team_id, month): first for team_id, month, first in db.session.execute(query)}
    deadlines = {m.key: (m.report_deadline(), m.ends_at) for m in period.months}
    counts: dict[int, tuple[int, int]] = {}
    for team in teams:
        on_time = counted = 0
        for month, (deadline, month_end) in deadlines.items():
            first = filed.get((team.team_id, month))
            in_time = first is not None and first <= deadline
            if in_time or (now > deadline and team.created_at < month_end):
                counted += 1
                on_time += in_time
        counts[team.team_id] = (on_time, counted)
    return counts


def _measure(scheme: Scheme, period: Period, unit: Unit | None, team_ids: Sequence[int] | None,
             teams: list[_TeamRow], now: datetime) -> _Measures:
    kinds = {c.kind for c in scheme.criteria}
    measures = _Measures()
    if CriterionKind.ACTIVITY in kinds:
        measures.targets = tallies.team_targets(period, unit)
        measures.achieved = tallies.achieved_by_team(period, unit)
        measures.unit_labels = {c.activity_id: c.activity.unit_label for c in scheme.criteria if c.activity}
    if kinds & {CriterionKind.QUIZ_PARTICIPATION, CriterionKind.QUIZ_SCORE}:
        # within a unit, read only its teams' attempts (a province-wide round has everyone's)
        wanted = team_ids if team_ids is not None or unit is None else [t.team_id for t in teams]
        _quiz(period, unit, now, measures, wanted)
    if CriterionKind.LIVE_CONTESTS in kinds:
        _live(period, measures)
    if CriterionKind.REPORTS_ON_TIME in kinds:
        measures.reports = _reports(period, unit, team_ids, teams, now)
    return measures


# --- from measures to points ----------------------------------------------------------------------


def _ratio_of(kind: str, activity_id: int | None, team: _TeamRow,
              m: _Measures) -> tuple[float | None, str, str]:
    """(raw ratio or None, what was measured, why not applicable)."""
    if kind == CriterionKind.ACTIVITY:
        target = m.targets.get((team.team_id, activity_id or 0), 0)
        if target <= 0:
            return None, "", m.texts.no_target
        done = m.achieved.get((team.team_id, activity_id or 0), 0)
        return done / target, f"{done}/{target} {m.unit_labels.get(activity_id or 0, '')}".strip(), ""
    if kind in (CriterionKind.QUIZ_PARTICIPATION, CriterionKind.QUIZ_SCORE):
        rounds = sum(1 for path in m.round_scopes if team.unit_path.startswith(path))
        quiz = m.quiz.get(team.team_id)
        if not rounds:
            return None, "", m.texts.no_rounds
        if quiz is None or not quiz.places:
            return None, "", m.texts.no_roster
        if kind == CriterionKind.QUIZ_PARTICIPATION:
            return quiz.entries / quiz.places, m.texts.entries % {"n": quiz.entries, "m": quiz.places}, ""
        mean = sum(quiz.shares) / len(quiz.shares)
        return mean, m.texts.rounds % {"n": len(quiz.shares)}, ""
    if kind == CriterionKind.LIVE_CONTESTS:
        return _live_ratio(team, m)
    on_time, counted = m.reports.get(team.team_id, (0, 0))
    if not counted:
        return None, "", m.texts.no_month
    return on_time / counted, m.texts.months % {"n": on_time, "m": counted}, ""


def _live_ratio(team: _TeamRow, m: _Measures) -> tuple[float | None, str, str]:
    """Per finished contest in the team's scope (hosted for an area holding the team, or played
    by its members): its players' mean points / the best player's points, 0 when none played."""
    means = m.live.means.get(team.team_id, {})
    ratios = [
        means.get(contest_id, 0.0) / m.live.best[contest_id] if m.live.best.get(contest_id) else 0.0
        for contest_id, path in m.live.contests
        if contest_id in means or (path is not None and team.unit_path.startswith(path))
    ]
    if not ratios:
        return None, "", m.texts.no_contest
    return sum(ratios) / len(ratios), m.texts.contests % {"n": len(means), "m": len(ratios)}, ""


@dataclass(frozen=True)
class _Rules:
    """The scheme as plain values: read once per scoring, not from ORM attributes per team."""

    criteria: list[tuple[int, str, int | None, str, float, float]]  # id, kind, activity, label, points, cap
    bands: list[tuple[str, float, float]]  # name, min points, min ratio; best first

    @classmethod
    def of(cls, scheme: Scheme) -> _Rules:
        return cls(
            [(c.id, c.kind, c.activity_id, criterion_label(c), c.points, c.cap) for c in scheme.criteria],
            [(str(b["name"]), float(b["min_points"]), float(b["min_ratio"]))  # type: ignore[arg-type]
             for b in scheme.bands],
        )


def _band(rules: _Rules, total: float, applicable: list[CriterionScore]) -> str:
    if not applicable:
        return NOT_DONE
    lowest = min(round(c.share, _PRECISION) for c in applicable)
    for name, min_points, min_ratio in rules.bands:
        if total >= min_points and lowest >= min_ratio:
            return name
    return NOT_DONE


def _score(rules: _Rules, team: _TeamRow, members: int, m: _Measures) -> TeamScore:
    criteria = []
    for criterion_id, kind, activity_id, label, points_max, cap in rules.criteria:
        ratio, value, reason = _ratio_of(kind, activity_id, team, m)
        capped = None if ratio is None else min(ratio, cap)
        criteria.append(CriterionScore(criterion_id, kind, activity_id, label, points_max, capped,
                                       0.0 if capped is None else capped * points_max, value, reason))
    applicable = [c for c in criteria if c.ratio is not None]
    maximum = sum(c.points_max for c in applicable)
    total = min(100.0, sum(c.points for c in applicable) * 100 / maximum) if maximum else 0.0
    total = round(total, _PRECISION)
    return TeamScore(team.team_id, team.name, team.unit_id, total, _band(rules, total, applicable), criteria,
                     team.unit_name, team.unit_path, members)


def _ranked(scores: Iterable[TeamScore]) -> list[TeamScore]:
    # Equal points: the older team (smaller id) first. Not the name: a team's place must be
    # computable from its own row, so that one verified report moves one row of the live boards.
    return sorted(scores, key=lambda s: (-s.points, s.team_id))


def _compute(period: Period, unit: Unit | None, team_ids: Sequence[int] | None = None,
             now: datetime | None = None) -> list[TeamScore]:
    now = now or utcnow()
    scheme = scheme_for(period)
    teams = _teams(unit, team_ids)
    if not teams:
        return []
    members = _member_counts(unit, team_ids)
    measures = _measure(scheme, period, unit, team_ids, teams, now)
    rules = _Rules.of(scheme)
    return _ranked(_score(rules, team, members.get(team.team_id, 0), measures) for team in teams)


# --- the interface ---------------------------------------------------------------------------------


def team_scores(period: Period, unit: Unit | None = None, now: datetime | None = None) -> list[TeamScore]:
    """Every active team of ``unit`` and below (all when None), best first."""
    return _compute(period, unit, now=now)


def team_score(team: Team, period: Period, now: datetime | None = None) -> TeamScore:
    """One team's score (measured within the team's own unit: the same figures as in the lists)."""
    return _compute(period, team.unit, [team.id], now)[0]


def unit_scores(period: Period, parent: Unit | None, level: str, now: datetime | None = None,
                scores: Sequence[TeamScore] | None = None) -> list[UnitScore]:
    """Commune-level units (``level`` COMMUNE) or districts (DISTRICT) under ``parent`` (everywhere
    when None) that have teams, ranked by the mean of their teams' points, then id. ``scores``: the
    teams' scores when the caller has them already (every team under ``parent``)."""
    units = db.session.execute(
        select(Unit.id, Unit.name, Unit.path).where(Unit.kind.in_(LEVEL_KINDS[level]), under(parent))
    ).all()
    if not units:
        return []
    rows = _means(units, level, scores if scores is not None else _compute(period, parent, now=now))
    rows.sort(key=lambda u: (-u.points, u.unit_id))
    return [replace(u, rank=rank) for rank, u in enumerate(rows, start=1)]


def unit_score(period: Period, unit: Unit, level: str, now: datetime | None = None) -> UnitScore | None:
    """One commune's or district's row (rank 0: unknown without the others), from its own teams."""
    rows = _means([unit], level, _compute(period, unit, now=now))
    return rows[0] if rows else None


def _means(units: Iterable[Any], level: str, scores: Iterable[TeamScore]) -> list[UnitScore]:
    by_id = {u.id: u for u in units}
    sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0, 0])  # points, teams, members
    for score in scores:
        for unit_id in results.path_ids(score.unit_path):
            if unit_id in by_id:
                sums[unit_id][0] += score.points
                sums[unit_id][1] += 1
                sums[unit_id][2] += score.members
    return [
        UnitScore(0, unit_id, by_id[unit_id].name, by_id[unit_id].path, level,
                  round(total / teams, _PRECISION), int(teams), int(members))
        for unit_id, (total, teams, members) in sums.items()
    ]


def _first_month(until: Period) -> Period | None:
    """The first month with any target, report, round or contest, at most CUMULATIVE_MONTHS back."""
    months: list[Period] = []
    for key in db.session.scalars(select(Target.period).distinct()):
        months.append(Period.parse(key).months[0])
    first_report = db.session.scalar(select(func.min(ActivityReport.month)))
    if first_report:
        months.append(Period.parse(first_report))
    first_round = db.session.scalar(select(func.min(Round.closes_at)).where(Round.status == RoundStatus.PUBLISHED))
    if first_round is not None:
        months.append(local_month_of(first_round))
    first_contest = db.session.scalar(
        select(func.min(LiveContest.finished_at)).where(LiveContest.status == ContestStatus.FINISHED)
    )
    if first_contest is not None:
        months.append(current_month(first_contest))
    if not months:
        return None
    last = until.months[-1]
    floor = _months_back(last, CUMULATIVE_MONTHS - 1)
    return max(min(months), floor)


def _months_back(month: Period, count: int) -> Period:
    index = month.year * 12 + month.number - 1 - count
    return Period.month(index // 12, index % 12 + 1)


def cumulative_points(team_ids: list[int], until: Period, now: datetime | None = None) -> dict[int, float]:
    """The sum of each team's monthly points over every month up to ``until`` (its last month, or
    the current one), from the first month with anything to score (at most CUMULATIVE_MONTHS months)."""
    totals = dict.fromkeys(team_ids, 0.0)
    if not team_ids:
        return totals
    now = now or utcnow()
    first = _first_month(until)
    if first is None:
        return totals
    teams = list(db.session.scalars(select(Team).where(Team.id.in_(team_ids))))
    common = _common_unit(teams)
    last = min(until.months[-1], current_month(now))  # a month still to come has nothing to add
    month = first
    while month <= last:
        for score in _compute(month, common, [t.id for t in teams], now):
            totals[score.team_id] += score.points
        month = _months_back(month, -1)
    return {team_id: round(points, _PRECISION) for team_id, points in totals.items()}


def _common_unit(teams: list[Team]) -> Unit | None:
    """The lowest unit above all the teams (the area whose rounds and contests concern them)."""
    paths = [t.unit.ancestor_ids() for t in teams]
    common: list[int] = []
    for ids in zip(*paths, strict=False):
        if len(set(ids)) != 1:
            break
        common.append(ids[0])
    return db.session.get(Unit, common[-1]) if common else None


def local_month_of(moment: datetime) -> Period:
    """The month an exclusive end (a round's closing) belongs to: the one of its last instant."""
    return Period.month_of(to_local(moment - timedelta(microseconds=1)).date())
