"""Team levels (cấp độ của tổ): reached with cumulative emulation points, the sum of the team's
monthly points (competitions.emulation.scoring.cumulative_points) up to the current month. The
levels are data (TeamLevel rows: level, name, minimum points).

A level reached is announced once in the team feed, as a line of kind "level:<n>": points of the
running month can still fall back (a new round the team skips), and climbing to the same level
again is no news.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from competitions import signals
from competitions.emulation import feed, scoring
from competitions.emulation.models import ActivityReport, FeedItem, ReportStatus, TeamLevel
from competitions.emulation.periods import current_month
from competitions.models import Entry, Round
from core.db_types import utcnow
from core.extensions import db
from core.teams.models import Team

LEVEL_KIND_PREFIX = f"{feed.FeedKind.LEVEL}:"


@dataclass(frozen=True)
class LevelStatus:
    level: int
    name: str
    points: float  # cumulative emulation points
    next_level: int | None  # None at the top level
    next_name: str | None
    next_points: int | None  # the next level's minimum
    floor: int = 0  # this level's minimum

    @property
    def to_go(self) -> float | None:
        """Points still needed for the next level."""
        return None if self.next_points is None else max(self.next_points - self.points, 0.0)

    @property
    def progress(self) -> float:
        """How far from this level's minimum to the next one (1 at the top level)."""
        if self.next_points is None:
            return 1.0
        return min(max((self.points - self.floor) / (self.next_points - self.floor), 0.0), 1.0)


def all_levels() -> list[TeamLevel]:
    return list(db.session.scalars(select(TeamLevel).order_by(TeamLevel.min_points, TeamLevel.level)))


def status_for(points: float, levels: Sequence[TeamLevel]) -> LevelStatus:
    """The highest level whose minimum ``points`` reach, and the next one. Below every level's
    minimum (none at 0 points), a team is at the lowest level."""
    ordered = sorted(levels, key=lambda lv: (lv.min_points, lv.level))
    if not ordered:
        raise LookupError("no team levels are defined")
    index = max((i for i, lv in enumerate(ordered) if points >= lv.min_points), default=0)
    current = ordered[index]
    following = ordered[index + 1] if index + 1 < len(ordered) else None
    return LevelStatus(
        current.level, current.name, points,
        following.level if following else None, following.name if following else None,
        following.min_points if following else None, current.min_points,
    )


def team_levels(team_ids: list[int], now: datetime | None = None) -> dict[int, LevelStatus]:
    """Each team's level from its cumulative points up to the current month."""
    now = now or utcnow()
    points = scoring.cumulative_points(team_ids, until=current_month(now), now=now)
    levels = all_levels()
    return {team_id: status_for(total, levels) for team_id, total in points.items()}


def team_level(team: Team, now: datetime | None = None) -> LevelStatus:
    return team_levels([team.id], now)[team.id]


def _announced(team_ids: Iterable[int]) -> dict[int, int]:
    """The highest level announced in each team's feed so far."""
    highest: dict[int, int] = {}
    rows = db.session.execute(
        select(FeedItem.team_id, FeedItem.kind)
        .where(FeedItem.team_id.in_(list(team_ids)), FeedItem.kind.startswith(LEVEL_KIND_PREFIX))
    )
    for team_id, kind in rows:
        highest[team_id] = max(highest.get(team_id, 0), int(kind.removeprefix(LEVEL_KIND_PREFIX)))
    return highest


def announce_level_ups(team_ids: list[int], now: datetime | None = None) -> list[FeedItem]:
    """Post "the team reached level N" for each team whose level is above every level it has
    announced before and above the lowest (where every team starts). Returns the new lines."""
    if not team_ids:
        return []
    statuses = team_levels(team_ids, now)
    lowest = min((lv.level for lv in all_levels()), default=0)
    announced = _announced(team_ids)
    lines = []
    with feed.product_language():
        for team_id in sorted(statuses):
            status = statuses[team_id]
            if status.level > max(announced.get(team_id, lowest), lowest):
                text = _("Tổ lên cấp %(level)d: %(name)s (%(points)s điểm thi đua cộng dồn).", level=status.level,
                         name=status.name, points=scoring.format_points(status.points))
                lines.append(feed.Line(team_id, f"{LEVEL_KIND_PREFIX}{status.level}", text))
    return feed.post_many(lines)


def _on_report_changed(report: ActivityReport, before: str | None = None, **_extra: object) -> None:
    if report.status == ReportStatus.VERIFIED and before != ReportStatus.VERIFIED:
        announce_level_ups([report.team_id])


def _on_round_closed(round_: Round, **_extra: object) -> None:
    """Only teams that took part can have gained points from the round."""
    team_ids = db.session.scalars(
        select(Entry.team_id).distinct().where(Entry.round_id == round_.id, Entry.team_id.is_not(None))
    )
    announce_level_ups(list(team_ids))


def connect() -> None:
    """Called by competitions.emulation.badges.connect (once, at start-up)."""
    signals.report_changed.connect(_on_report_changed)
    signals.round_closed.connect(_on_round_closed)
