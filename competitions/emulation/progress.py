"""Progress: verified achievement against target per activity, for a team or a unit, in a period.

Rules decided here (the pages say them in words):

- A team's target is its own target for exactly the period. A unit's target is its own target when
  one is set; when not, the sum of the targets of the units and teams directly below it (each of them
  counted the same way, bottom up), marked ``derived`` so the page can say so.
- Achieved is what verified reports hold for the months of the period (competitions.emulation.tallies).
- The expected share of the period ("tiến độ yêu cầu") is the share of its months whose report
  deadline (REPORT_DEADLINE_DAY of the following month) has passed: before that day a month's work
  cannot be known, so a calendar pro-rata would call every team late in the middle of the month.
  A finished and reported period expects 100%; one not yet reported on expects nothing.
- An activity lags when it has a target above 0 and achieved / target is below the expected share.
- A child (a unit or team directly below) is ranked by its achievement: the mean, over its activities
  with a target above 0, of achieved / target capped at 1, so that going far beyond one target does not
  hide another one missed. It lags when that is below the expected share. Children without any target
  come last.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from competitions.emulation.catalogue import kinds
from competitions.emulation.models import ActivityKind
from competitions.emulation.periods import Period
from competitions.emulation.reports import can_view as can_view_team  # who sees its reports sees its progress
from competitions.emulation.tallies import achieved_by_team, achieved_by_unit, team_targets, unit_targets
from competitions.emulation.targets import Holder, holder_parent_id, holders_below, holds_targets, targets_of
from competitions.emulation.targets import can_view as can_view_unit  # who sees its targets sees its progress
from core.accounts.models import User
from core.db_types import utcnow
from core.errors import PermissionDenied
from core.org.models import Unit
from core.org.service import subtree, teams_below
from core.teams.models import Team
from core.text import fold

Values = dict[int, int]  # activity id -> quantity


@dataclass(frozen=True)
class ProgressRow:
    activity: ActivityKind
    target: int | None  # None: no target
    achieved: int
    expected: float  # the share of the period that should be done by now (0..1)
    derived: bool = False  # the target is the sum of the targets of the holders below

    @property
    def ratio(self) -> float | None:
        """achieved / target; None without a target above 0."""
        return self.achieved / self.target if self.target else None

    @property
    def lagging(self) -> bool:
        return self.ratio is not None and self.expected > 0 and self.ratio < self.expected


def _achievement(rows: list[ProgressRow]) -> float | None:
    ratios = [min(row.ratio, 1.0) for row in rows if row.ratio is not None]
    return sum(ratios) / len(ratios) if ratios else None


@dataclass(frozen=True)
class ChildProgress:
    holder: Holder
    rows: list[ProgressRow]
    expected: float

    @property
    def achievement(self) -> float | None:
        """The mean of the capped ratios of the activities with a target (None: no target at all)."""
        return _achievement(self.rows)

    @property
    def lagging(self) -> bool:
        achievement = self.achievement
        return achievement is not None and self.expected > 0 and achievement < self.expected


@dataclass(frozen=True)
class UnitProgress:
    unit: Unit
    period: Period
    expected: float
    rows: list[ProgressRow]
    children: list[ChildProgress]  # best first; those without targets last

    @property
    def derived(self) -> bool:
        return any(row.derived for row in self.rows)

    @property
    def achievement(self) -> float | None:
        return _achievement(self.rows)

    @property
    def laggards(self) -> list[ChildProgress]:
        return [child for child in self.children if child.lagging]


def expected_share(period: Period, now: datetime | None = None) -> float:
    """The share of the period's months whose report deadline has passed at ``now``."""
    now = now or utcnow()
    months = period.months
    return sum(1 for month in months if month.report_deadline() <= now) / len(months)


def _rows(
    activities: list[ActivityKind], target: Values, achieved: Values, expected: float, derived: Collection[int] = (),
) -> list[ProgressRow]:
    return [
        ProgressRow(a, target.get(a.id), achieved.get(a.id, 0), expected, a.id in derived)
        for a in activities
    ]


def _shown(*values: Values) -> list[ActivityKind]:
    """The active kinds, and any inactive kind that has a target or an achievement here."""
    used = {activity_id for value in values for activity_id in value}
    return [kind for kind in kinds(active_only=False) if kind.active or kind.id in used]


def _by_holder(values: dict[tuple[int, int], int], prefix: str) -> dict[str, Values]:
    grouped: dict[str, Values] = defaultdict(dict)
    for (holder_id, activity_id), quantity in values.items():
        grouped[f"{prefix}{holder_id}"][activity_id] = quantity
    return grouped


# --- visibility ------------------------------------------------------------------------------------


def require_view_team(user: User, team: Team) -> None:
    if not can_view_team(user, team):
        raise PermissionDenied


def require_view_unit(user: User, unit: Unit) -> None:
    if not can_view_unit(user, unit):
        raise PermissionDenied


# --- progress --------------------------------------------------------------------------------------


def team_progress(team: Team, period: Period, now: datetime | None = None) -> list[ProgressRow]:
    """Achieved against target for each activity of one team (its own target only)."""
    holder = Holder.of_team(team)
    target = {a: q for (_key, a), q in targets_of(period, [holder]).items()}
    achieved = {a: q for (team_id, a), q in achieved_by_team(period, team.unit).items() if team_id == team.id}
    return _rows(_shown(target, achieved), target, achieved, expected_share(period, now))


def effective_targets(unit: Unit, period: Period) -> tuple[dict[str, Values], dict[str, set[int]]]:
    """Targets of ``unit`` and of every unit and team below it, by holder key: a unit without its own
    target for an activity gets the sum of its holders' (bottom up). The second value says, per
    holder key, which activities were summed rather than set. Four queries whatever the tree's size."""
    containers = [u for u in subtree(unit) if holds_targets(u)]
    if unit not in containers:
        containers.append(unit)  # an inactive unit still shows its own numbers
    teams = teams_below(unit)
    values: dict[str, Values] = dict(_by_holder(team_targets(period, unit), "t"))
    own = _by_holder(unit_targets(period, [u.id for u in containers]), "u")
    below: dict[int, list[str]] = defaultdict(list)
    for container in containers:
        if container.id != unit.id and container.parent_id is not None:
            below[container.parent_id].append(f"u{container.id}")
    for team in teams:
        parent_id = holder_parent_id(team.unit)
        if parent_id is not None:
            below[parent_id].append(f"t{team.id}")
    derived: dict[str, set[int]] = defaultdict(set)
    for container in sorted(containers, key=lambda u: u.depth, reverse=True):
        key = f"u{container.id}"
        merged = dict(own.get(key, {}))
        summed: Values = defaultdict(int)
        for child in below.get(container.id, []):
            for activity_id, quantity in values.get(child, {}).items():
                summed[activity_id] += quantity
        for activity_id, quantity in summed.items():
            if activity_id not in merged:
                merged[activity_id] = quantity
                derived[key].add(activity_id)
        values[key] = merged
    return values, derived


def _child_sort_key(child: ChildProgress) -> tuple[int, float, str]:
    achievement = child.achievement
    return (achievement is None, -(achievement or 0.0), fold(child.holder.name))


def unit_progress(unit: Unit, period: Period, now: datetime | None = None) -> UnitProgress:
    """Achieved against target per activity for ``unit`` (everything its teams did) and for each
    unit or team directly below it, ranked best first."""
    expected = expected_share(period, now)
    holders = holders_below(unit)
    targets, derived = effective_targets(unit, period)
    child_units = [h.unit for h in holders if h.unit is not None]
    achieved = _by_holder(achieved_by_unit(period, [unit, *child_units]), "u")
    achieved.update(_by_holder(achieved_by_team(period, unit), "t"))
    own_key = f"u{unit.id}"
    shown = _shown(targets.get(own_key, {}), achieved.get(own_key, {}),
                   *(targets.get(h.key, {}) for h in holders), *(achieved.get(h.key, {}) for h in holders))
    children = [
        ChildProgress(h, _rows(shown, targets.get(h.key, {}), achieved.get(h.key, {}), expected,
                               derived.get(h.key, set())), expected)
        for h in holders
    ]
    return UnitProgress(
        unit, period, expected,
        _rows(shown, targets.get(own_key, {}), achieved.get(own_key, {}), expected, derived.get(own_key, set())),
        sorted(children, key=_child_sort_key),
    )
