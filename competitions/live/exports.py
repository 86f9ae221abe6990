"""Results of a live contest as the database recorded them (players, teams, questions), for the
contest page and its Excel export. Phone numbers are never part of them.

Players are ranked as on the host screen: score, then nickname (accents and case aside), then who
joined first; a team's score is the mean of its players' scores (competitions.live.scoring)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from competitions import results
from competitions.live import contests, scoring
from competitions.live.models import ContestMode, LiveAnswer, LiveContest, LivePlayer
from core.extensions import db
from core.text import fold


@dataclass(frozen=True)
class PlayerResult:
    rank: int
    player_id: int
    nickname: str
    full_name: str | None  # a member's name; None for a guest
    team: str | None
    score: int
    correct: int
    answered: int


@dataclass(frozen=True)
class TeamResult:
    rank: int
    team_id: int
    name: str
    players: int
    score: float  # the mean of its players' scores


@dataclass(frozen=True)
class QuestionResult:
    number: int
    text: str
    answer: str  # the correct choice(s), as shown
    answered: int
    correct: int

    @property
    def rate(self) -> float | None:
        return self.correct / self.answered if self.answered else None


def _answer_counts(contest: LiveContest, by: object) -> dict[int, tuple[int, int]]:
    """(answers given, correct answers) per player or per question."""
    rows = db.session.execute(
        select(by, func.count(LiveAnswer.choice), func.sum(case((LiveAnswer.is_correct, 1), else_=0)))
        .where(LiveAnswer.contest_id == contest.id).group_by(by)
    )
    return {key: (answered or 0, int(correct or 0)) for key, answered, correct in rows}


def _players(contest: LiveContest) -> list[LivePlayer]:
    """The players still in the contest, with their accounts and teams (one query each, not one per player)."""
    return list(db.session.scalars(
        select(LivePlayer).where(LivePlayer.contest_id == contest.id, LivePlayer.removed.is_(False))
        .options(selectinload(LivePlayer.user), selectinload(LivePlayer.team)).order_by(LivePlayer.id)
    ))


def player_results(contest: LiveContest) -> list[PlayerResult]:
    counts = _answer_counts(contest, LiveAnswer.player_id)
    players = _players(contest)
    players.sort(key=lambda p: (-p.score, fold(p.nickname), p.id))
    return [
        PlayerResult(rank, p.id, p.nickname, p.user.full_name if p.user else None, p.team.name if p.team else None,
                     p.score, counts.get(p.id, (0, 0))[1], counts.get(p.id, (0, 0))[0])
        for rank, p in enumerate(players, start=1)
    ]


def team_results(contest: LiveContest) -> list[TeamResult]:
    if contest.mode != ContestMode.TEAM:
        return []
    players = [p for p in _players(contest) if p.team is not None]
    means = scoring.team_scores((p.team_id, p.score) for p in players)
    names = {p.team_id: p.team.name for p in players}  # type: ignore[union-attr]
    sizes: dict[int, int] = {}
    for p in players:
        sizes[p.team_id] = sizes.get(p.team_id, 0) + 1  # type: ignore[index]
    order = sorted(means, key=lambda tid: (-means[tid], fold(names[tid]), tid))
    return [TeamResult(rank, tid, names[tid], sizes[tid], round(means[tid], 1))
            for rank, tid in enumerate(order, start=1)]


def question_results(contest: LiveContest) -> list[QuestionResult]:
    counts = _answer_counts(contest, LiveAnswer.question_index)
    rows = []
    for index, version in enumerate(contests.versions_of(contest)):
        answer = "; ".join(f"{version.letters[i]}. {version.choices[i]}" for i in version.correct)
        answered, correct = counts.get(index, (0, 0))
        rows.append(QuestionResult(index + 1, version.text, answer, answered, correct))
    return rows


# --- Excel ---------------------------------------------------------------------------------------------


def workbook(contest: LiveContest) -> bytes:
    """Players (and teams in team mode) ranked, and each question's answers: one sheet each."""
    guest = _("Khách")
    sheets = [results.Sheet(
        _("Người chơi"),
        [_("Hạng"), _("Biệt danh"), _("Họ và tên"), _("Tổ CNSCĐ"), _("Điểm"), _("Số câu đúng"), _("Số câu đã trả lời")],
        [[p.rank, p.nickname, p.full_name or guest, p.team or "", p.score, p.correct, p.answered]
         for p in player_results(contest)],
        widest=60,
    )]
    if contest.mode == ContestMode.TEAM:
        sheets.append(results.Sheet(
            _("Tổ CNSCĐ"), [_("Hạng"), _("Tổ CNSCĐ"), _("Số người chơi"), _("Điểm tổ")],
            [[t.rank, t.name, t.players, t.score] for t in team_results(contest)], {4: "0.0"}, widest=60,
        ))
    sheets.append(results.Sheet(
        _("Câu hỏi"),
        [_("Câu"), _("Nội dung"), _("Đáp án đúng"), _("Số người trả lời"), _("Số người trả lời đúng"),
         _("Tỷ lệ đúng")],
        [[q.number, q.text, q.answer, q.answered, q.correct, q.rate] for q in question_results(contest)],
        {6: "0.0%"}, widest=60,
    ))
    return results.workbook(f"{_('Kết quả thi trực tiếp')} — {contest.title}", sheets)
