"""Points of a live contest (docs/live-protocol.md, Scoring).

A correct answer earns ``max_points × (1 − t / T / 2)``, rounded: the full points at once, half at
the last moment (the Kahoot convention); ``t`` is measured by the server from the moment the
question was shown, ``T`` is the question's time. A wrong or missing answer earns 0 and ends the
streak. Streak bonus: the n-th correct answer in a row adds ``(n − 1) × streak_bonus``, at most
``MAX_STREAK_STEPS × streak_bonus``. A team's score is the mean of its players' scores, so a big
team has no advantage over a small one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_STREAK_STEPS = 5


@dataclass(frozen=True)
class Scored:
    points: int
    streak: int  # correct answers in a row, this one included


def score(correct: bool, response_ms: int | None, limit_ms: int, max_points: int, streak_bonus: int,
          streak_before: int) -> Scored:
    if not correct or response_ms is None:
        return Scored(0, 0)
    elapsed = min(max(response_ms, 0), limit_ms)
    points = round(max_points * (1 - elapsed / limit_ms / 2))
    streak = streak_before + 1
    return Scored(points + min(streak - 1, MAX_STREAK_STEPS) * streak_bonus, streak)


def team_scores(players: Iterable[tuple[int | None, int]]) -> dict[int, float]:
    """Mean score per team from (team id, player score) pairs; players without a team are left out."""
    totals: dict[int, list[int]] = {}
    for team_id, points in players:
        if team_id is not None:
            totals.setdefault(team_id, []).append(points)
    return {team_id: sum(points) / len(points) for team_id, points in totals.items()}
