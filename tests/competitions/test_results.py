"""Results of rounds (competitions.results): counted attempts, tie-breaks, team and unit results,
series standings, exports, statistics. Attempts are made with quiz.attempts, entries by hand."""

from __future__ import annotations

import io
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select

from competitions import results
from competitions.models import AttemptPolicy, Entry, Round, RoundStatus, Series, TeamScoring, TieBreak
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.extensions import db
from core.org.models import Unit, UnitKind
from core.teams.models import Membership, MembershipStatus, Team
from core.teams.service import team_on
from quiz import attempts, bank
from quiz.attempts import DrawRule
from quiz.models import Attempt, AttemptStatus, QuestionStatus

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # Monday 08:00 in Vietnam
WEEK = timedelta(days=7)
QUESTIONS = 3


class Contest:
    """Rounds, members with backdated memberships, and attempts with exact scores and times."""

    def __init__(self, make) -> None:  # noqa: ANN001 - tests.factories.Factory
        self.make = make
        category = bank.find_category("Chính quyền số")
        for n in range(QUESTIONS):
            bank.create_question(bank.QuestionInput(
                text=f"Câu hỏi kết quả số {n + 1}: ứng dụng nào dùng để định danh điện tử?",
                choices=["VNeID", "VssID", "Zalo"], correct=[0], category_id=category.id, difficulty="easy",
            ), None, status=QuestionStatus.APPROVED)

    def round(self, scope: Unit, opens: datetime = T0, closes: datetime | None = None, **values: object) -> Round:
        values.setdefault("status", RoundStatus.PUBLISHED)
        round_ = Round(
            title=values.pop("title", "Tuần 1 — Chuyển đổi số"), opens_at=opens, closes_at=closes or opens + WEEK,
            scope_unit_id=scope.id, draw_plan=[DrawRule(QUESTIONS).as_dict()], time_limit_seconds=600, **values,
        )
        db.session.add(round_)
        db.session.flush()
        return round_

    def member(self, team: Team, name: str = "Thành viên", joined: datetime = T0 - 30 * timedelta(days=1)) -> User:
        membership = self.make.member(team, full_name=name)
        membership.requested_at = membership.joined_at = joined
        db.session.flush()
        return membership.user

    def leave(self, user: User, when: datetime) -> None:
        membership = db.session.scalar(
            select(Membership).where(Membership.user_id == user.id, Membership.status == MembershipStatus.ACTIVE)
        )
        membership.status, membership.left_at = MembershipStatus.LEFT, when
        db.session.flush()

    def move(self, user: User, team: Team, when: datetime) -> None:
        self.leave(user, when)
        db.session.add(Membership(team_id=team.id, user_id=user.id, status=MembershipStatus.ACTIVE,
                                  requested_at=when, joined_at=when))
        db.session.flush()

    def take(
        self, round_: Round, user: User, correct: int, seconds: float, at: datetime,
        prediction: int | None = None,
    ) -> Attempt:
        """An attempt started ``at``, with ``correct`` right answers, submitted ``seconds`` later;
        the entry (team and unit of that moment, prediction) is made at the first attempt."""
        entry = db.session.scalar(select(Entry).where(Entry.round_id == round_.id, Entry.user_id == user.id))
        if entry is None:
            team = team_on(user, at)
            db.session.add(Entry(
                round_id=round_.id, user_id=user.id, team_id=team.id if team else None,
                unit_id=team.unit_id if team else user.unit_id, prediction=prediction, is_public=team is None,
            ))
        attempt = attempts.start(user, round_.context, [DrawRule(QUESTIONS)], at + timedelta(minutes=10), at,
                                 random.Random(7))
        for index, item in enumerate(attempt.items):
            right = item.choice_order.index(item.version.correct[0])
            chosen = right if index < correct else (right + 1) % len(item.choice_order)
            attempts.save_answer(attempt, item.id, [chosen], seq=1, now=at + timedelta(seconds=1))
        return attempts.close(attempt, at + timedelta(seconds=seconds))


@pytest.fixture
def contest(make) -> Contest:  # noqa: ANN001
    return Contest(make)


@contextmanager
def counted_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        statements.append(statement)

    connection = db.session.connection()
    event.listen(connection, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", count)


def _names(standings: list) -> list[str]:
    return [s.full_name for s in standings]


def _hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


# --- counted attempts and closing ------------------------------------------------------------------


def test_best_attempt_counts_under_best_of_n_and_the_first_under_once(make, contest):
    tree = make.tree()
    team = make.team(tree.hamlet)
    ann, binh = contest.member(team, "An"), contest.member(team, "Bình")
    best = contest.round(tree.province, attempt_policy=AttemptPolicy.BEST_OF_N, max_attempts=3)
    contest.take(best, ann, 2, 100, _hours(1))
    contest.take(best, ann, 3, 300, _hours(2))
    contest.take(best, ann, 3, 200, _hours(3))  # same score, shorter: this one counts
    contest.take(best, binh, 1, 50, _hours(1))
    standing = results.standing_of(best, ann.id)
    assert (standing.score, standing.duration_ms, standing.attempts, standing.rank) == (3, 200_000, 3, 1)

    once = contest.round(tree.province, attempt_policy=AttemptPolicy.ONCE)
    contest.take(once, ann, 1, 100, _hours(1))
    contest.take(once, ann, 3, 100, _hours(2))  # should never exist; the first stays the one that counts
    assert results.standing_of(once, ann.id).score == 1


def test_in_progress_attempts_do_not_count(make, contest):
    tree = make.tree()
    team = make.team(tree.hamlet)
    ann = contest.member(team, "An")
    round_ = contest.round(tree.province)
    db.session.add(Entry(round_id=round_.id, user_id=ann.id, team_id=team.id, unit_id=team.unit_id))
    attempts.start(ann, round_.context, [DrawRule(QUESTIONS)], _hours(1.2), _hours(1))
    assert results.ranking(round_) == []


def test_finalise_closes_due_attempts_computes_the_answer_once(make, contest):
    tree = make.tree()
    team = make.team(tree.hamlet)
    people = [contest.member(team, f"Người {i}") for i in range(4)]
    round_ = contest.round(tree.province, prediction_kind="perfect_scores", prediction_question="Bao nhiêu người?")
    contest.take(round_, people[0], 3, 100, _hours(1))
    contest.take(round_, people[1], 3, 120, _hours(1))
    contest.take(round_, people[2], 2, 120, _hours(1))
    db.session.add(Entry(round_id=round_.id, user_id=people[3].id, team_id=team.id, unit_id=team.unit_id))
    # Started ten minutes before closing with everything right, never submitted.
    late = attempts.start(people[3], round_.context, [DrawRule(QUESTIONS)], round_.closes_at, round_.closes_at
                          - timedelta(minutes=10), random.Random(1))
    for item in late.items:
        attempts.save_answer(late, item.id, [item.choice_order.index(item.version.correct[0])], 1,
                             round_.closes_at - timedelta(minutes=9))

    assert results.finalise(round_, round_.closes_at - timedelta(seconds=1)) is False  # still open
    assert results.finalise(round_, round_.closes_at + timedelta(seconds=1)) is False  # the attempt's grace
    assert round_.finalised_at is None and round_.prediction_answer is None

    done_at = round_.closes_at + timedelta(minutes=1)
    assert results.finalise(round_, done_at) is True
    assert late.status == AttemptStatus.SUBMITTED and late.score == 3
    assert round_.prediction_answer == 3 and round_.finalised_at == done_at
    contest.take(round_, people[2], 3, 10, _hours(2))  # whatever happens later
    assert results.finalise(round_, done_at + WEEK) is False
    assert round_.prediction_answer == 3 and round_.finalised_at == done_at


def test_draft_rounds_are_not_finalised(make, contest):
    round_ = contest.round(make.tree().province, status=RoundStatus.DRAFT)
    assert results.finalise(round_, round_.closes_at + WEEK) is False


# --- individual ranking ----------------------------------------------------------------------------


@pytest.fixture
def predicted(make, contest) -> tuple[Round, dict[str, User]]:
    """Six people in a round asking how many will take part (the answer: 6)."""
    tree = make.tree()
    team, other = make.team(tree.hamlet), make.team(tree.other_hamlet)
    round_ = contest.round(tree.province, prediction_kind="participants", prediction_question="Bao nhiêu người?")
    people = {}
    plan = [  # name, team, correct, seconds, prediction
        ("A", team, 3, 200, 100), ("B", team, 2, 300, 6), ("C", team, 2, 100, 8),
        ("D", other, 2, 150, 4), ("E", other, 2, 50, None), ("F", other, 1, 10, 6),
    ]
    for index, (name, where, correct, seconds, guess) in enumerate(plan):
        people[name] = contest.member(where, name)
        contest.take(round_, people[name], correct, seconds, _hours(index), prediction=guess)
    return round_, people


def test_default_order_score_prediction_time(predicted):
    round_, _people = predicted
    # Before closing the true value is unknown: no prediction step yet, time decides.
    assert _names(results.ranking(round_)) == ["A", "E", "C", "D", "B", "F"]
    assert results.finalise(round_, round_.closes_at + timedelta(minutes=1))
    assert round_.prediction_answer == 6
    ranked = results.ranking(round_)
    # B guessed 6 (gap 0); C and D both missed by 2, C was faster; E gave no guess and comes after.
    assert _names(ranked) == ["A", "B", "C", "D", "E", "F"]
    assert [s.rank for s in ranked] == [1, 2, 3, 4, 5, 6]
    assert [s.gap for s in ranked] == [94, 0, 2, 2, None, 0]


def test_a_changed_order_is_followed_and_stated(predicted):
    round_, _people = predicted
    round_.tie_breaks = [TieBreak.SCORE, TieBreak.DURATION, TieBreak.PREDICTION, TieBreak.SUBMITTED_AT]
    results.finalise(round_, round_.closes_at + timedelta(minutes=1))
    assert _names(results.ranking(round_)) == ["A", "E", "C", "D", "B", "F"]
    assert results.ranking_rule(round_) == (
        "Xếp hạng theo điểm cao hơn, rồi thời gian làm bài ngắn hơn, rồi dự đoán gần với đáp án hơn "
        "(không dự đoán xếp sau), rồi nộp bài sớm hơn. Bằng nhau ở mọi tiêu chí thì đồng hạng."
    )
    round_.tie_breaks = [TieBreak.DURATION, TieBreak.SCORE]
    assert _names(results.ranking(round_)) == ["F", "E", "C", "D", "A", "B"]


def test_prediction_step_left_out_of_rounds_without_a_prediction(make, contest):
    round_ = contest.round(make.tree().province)
    assert TieBreak.PREDICTION not in results.tie_breaks(round_)
    assert "dự đoán" not in results.ranking_rule(round_)


def test_equal_on_everything_means_equal_rank(make, contest):
    tree = make.tree()
    team = make.team(tree.hamlet)
    round_ = contest.round(tree.province)
    for name, correct, seconds, hour in [("P1", 3, 90, 1), ("P2", 2, 100, 2), ("P3", 2, 100, 2), ("P4", 2, 100, 3),
                                         ("P5", 1, 10, 4)]:
        contest.take(round_, contest.member(team, name), correct, seconds, _hours(hour))
    ranked = results.ranking(round_)
    # P2 and P3 started and submitted at the same moments; P4 submitted an hour later.
    assert [(s.full_name, s.rank) for s in ranked] == [("P1", 1), ("P2", 2), ("P3", 2), ("P4", 4), ("P5", 5)]
    assert [s.position for s in ranked] == [1, 2, 3, 4, 5]


def test_unit_filter_keeps_round_wide_ranks_and_pages(predicted, make):
    round_, people = predicted
    other_hamlet = db.session.get(Team, db.session.scalar(
        select(Entry.team_id).where(Entry.user_id == people["D"].id))).unit
    assert [(s.full_name, s.rank) for s in results.ranking(round_, other_hamlet)] == [("E", 2), ("D", 4), ("F", 6)]
    page = results.ranking_page(round_, None, 2, per_page=4)
    assert (page.total, page.page, _names(page.items)) == (6, 2, ["B", "F"])
    assert results.ranking_page(round_, other_hamlet, 9, per_page=2).page == 2  # a stale page: the last one
    mine = results.standing_of(round_, people["B"].id)
    assert (mine.rank, mine.position, results.page_of(mine, per_page=4)) == (5, 5, 2)
    assert results.standing_of(round_, make.user().id) is None


# --- teams -----------------------------------------------------------------------------------------


@pytest.fixture
def team_round(make, contest) -> tuple[Round, Team]:
    """A roster of five at the opening (scores 3, 2, 1 and two absent), one who left before the
    opening and one who joined during the round without taking part."""
    tree = make.tree()
    team = make.team(tree.hamlet)
    members = [contest.member(team, f"Tổ viên {i}") for i in range(5)]
    gone = contest.member(team, "Đã rời tổ", joined=T0 - timedelta(days=60))
    contest.leave(gone, T0 - timedelta(days=1))
    contest.member(team, "Vào giữa đợt", joined=T0 + timedelta(days=2))
    round_ = contest.round(tree.province, team_scoring=TeamScoring.ACTIVE_MEAN, best_k=2)
    for user, correct in zip(members, (3, 2, 1), strict=False):
        contest.take(round_, user, correct, 100, _hours(1))
    return round_, team


@pytest.mark.parametrize(("method", "k", "score"), [
    (TeamScoring.ACTIVE_MEAN, 2, 6 / 5),  # absent members count 0
    (TeamScoring.PARTICIPANT_MEAN, 2, 6 / 3),
    (TeamScoring.BEST_K, 2, (3 + 2) / 2),
    (TeamScoring.BEST_K, 4, (3 + 2 + 1 + 0) / 4),  # fewer than K took part: the missing count 0
])
def test_team_scoring_methods(team_round, method, k, score):
    round_, team = team_round
    round_.team_scoring, round_.best_k = method, k
    [result] = results.team_results(round_)
    assert (result.team_id, result.members, result.participants) == (team.id, 5, 3)
    assert result.participation == pytest.approx(0.6)
    assert result.score == pytest.approx(score)


def test_team_ranking_ties_and_filter(make, contest):
    tree = make.tree()
    teams = [make.team(unit) for unit in (tree.hamlet, tree.hamlet2, tree.other_hamlet)]
    round_ = contest.round(tree.province)
    a, b = contest.member(teams[0], "a"), contest.member(teams[0], "b")
    c, _d = contest.member(teams[1], "c"), contest.member(teams[1], "d")
    e, f = contest.member(teams[2], "e"), contest.member(teams[2], "f")
    for user, correct in ((a, 2), (b, 2), (c, 3), (e, 2), (f, 2)):
        contest.take(round_, user, correct, 60, _hours(1))
    # Teams 0 and 2: 2 points each from both members (2.0, 100 %); team 1: 3 + an absent 0 (1.5, 50 %).
    assert [(t.team_id, t.rank) for t in results.team_results(round_)] == [
        (teams[0].id, 1), (teams[2].id, 1), (teams[1].id, 3),
    ]
    assert [t.team_id for t in results.team_results(round_, tree.other_commune)] == [teams[2].id]


def test_results_stay_with_the_team_of_the_day(make, contest):
    tree = make.tree()
    old, new = make.team(tree.hamlet), make.team(tree.hamlet2)
    stays, mover, early = (contest.member(old, name) for name in ("Ở lại", "Chuyển sau đợt", "Chuyển giữa đợt"))
    contest.member(new, "Tổ mới")
    round_ = contest.round(tree.province)
    contest.take(round_, stays, 1, 60, _hours(1))
    contest.take(round_, mover, 3, 60, _hours(1))
    contest.member(new, "Vào giữa đợt", joined=_hours(21))  # joined during the round and stayed away
    contest.move(early, new, _hours(20))
    contest.take(round_, early, 2, 60, _hours(30))  # took part for the new team
    contest.move(mover, new, round_.closes_at + timedelta(days=1))

    by_team = {t.team_id: t for t in results.team_results(round_)}
    assert (by_team[old.id].members, by_team[old.id].participants) == (2, 2)  # stays and the later mover
    assert by_team[old.id].score == (1 + 3) / 2
    assert (by_team[new.id].members, by_team[new.id].participants) == (2, 1)  # "Tổ mới" and the early mover
    assert by_team[new.id].score == 2 / 2
    assert results.standing_of(round_, mover.id).team_name == old.name


# --- units -----------------------------------------------------------------------------------------


def test_unit_rollups_with_and_without_district(make, contest):
    tree = make.tree()
    t1, t2, t3 = make.team(tree.hamlet), make.team(tree.district_hamlet), make.team(tree.other_hamlet)
    a, b, _c = (contest.member(t1, n) for n in ("a", "b", "c"))
    d, _e = (contest.member(t2, n) for n in ("d", "e"))
    for name in ("f", "g"):
        contest.member(t3, name)
    guest = make.user(RoleCode.MEMBER, tree.other_commune, full_name="Người dân")
    round_ = contest.round(tree.province, allow_public=True)
    for user, correct in ((a, 3), (b, 1), (d, 2), (guest, 3)):
        contest.take(round_, user, correct, 60, _hours(1))

    rows = {(u.level, u.name): u for u in results.unit_results(round_)}
    assert set(rows) == {
        ("province", "Tỉnh An Giang"), ("district", "Huyện Giồng Riềng"), ("commune", "Xã Châu Thành"),
        ("commune", "Xã Thạnh Hưng"), ("commune", "Phường Rạch Giá"),
    }

    def numbers(level: str, name: str) -> tuple:
        u = rows[(level, name)]
        return u.rank, u.participants, u.members, u.member_participants, u.participation, u.mean_score

    assert numbers("commune", "Xã Châu Thành") == (1, 2, 3, 2, pytest.approx(2 / 3), 2.0)
    assert numbers("commune", "Xã Thạnh Hưng") == (2, 1, 2, 1, 0.5, 2.0)
    assert numbers("commune", "Phường Rạch Giá") == (3, 1, 2, 0, 0.0, 3.0)  # the guest counts, not in the rate
    assert numbers("district", "Huyện Giồng Riềng") == (1, 1, 2, 1, 0.5, 2.0)
    assert numbers("province", "Tỉnh An Giang") == (1, 4, 7, 3, pytest.approx(3 / 7), 9 / 4)
    below = results.unit_results(round_, tree.district)
    assert [(u.level, u.name) for u in below] == [("district", "Huyện Giồng Riềng"), ("commune", "Xã Thạnh Hưng")]


def test_unit_rollups_of_a_province_without_districts_and_of_a_commune(make, contest):
    province = make.unit("Thành phố Đà Nẵng", UnitKind.PROVINCE)
    ward = make.unit("Phường Hải Châu", UnitKind.WARD, province)
    team = make.team(make.unit("Tổ dân phố 5", UnitKind.HAMLET, ward))
    ann = contest.member(team, "An")
    contest.member(team, "Bình")
    wide, narrow = contest.round(province), contest.round(ward)
    for round_ in (wide, narrow):
        contest.take(round_, ann, 2, 60, _hours(1))
    assert [(u.level, u.name, u.participation) for u in results.unit_results(wide)] == [
        ("province", "Thành phố Đà Nẵng", 0.5), ("commune", "Phường Hải Châu", 0.5),
    ]
    assert [(u.level, u.name) for u in results.unit_results(narrow)] == [("commune", "Phường Hải Châu")]


def test_live_participation_per_commune(make, contest):
    tree = make.tree()
    t1, t2 = make.team(tree.hamlet), make.team(tree.hamlet2)
    a, b, c = contest.member(t1, "a"), contest.member(t2, "b"), contest.member(t2, "c")
    d = contest.member(make.team(tree.district_hamlet), "d")
    round_ = contest.round(tree.province, attempt_policy=AttemptPolicy.BEST_OF_N, max_attempts=3)
    contest.take(round_, a, 1, 60, _hours(1))
    contest.take(round_, a, 2, 60, _hours(2))
    contest.take(round_, b, 2, 60, _hours(2))
    contest.take(round_, d, 2, 60, _hours(2))
    db.session.add(Entry(round_id=round_.id, user_id=c.id, team_id=t2.id, unit_id=t2.unit_id))
    attempts.start(c, round_.context, [DrawRule(QUESTIONS)], _hours(3.2), _hours(3))  # not submitted yet
    live = [(row.name, row.people, row.attempts) for row in results.live_participation(round_)]
    assert live == [("Xã Châu Thành", 2, 3), ("Xã Thạnh Hưng", 1, 1), ("Phường Rạch Giá", 0, 0)]


# --- series ----------------------------------------------------------------------------------------


def test_series_sums_people_and_teams(make, contest):
    tree = make.tree()
    t1, t2 = make.team(tree.hamlet), make.team(tree.hamlet2)
    a, b = contest.member(t1, "a"), contest.member(t1, "b")
    c, d = contest.member(t2, "c"), contest.member(t2, "d")
    contest.leave(d, T0 + timedelta(days=3))  # in team 2's roster for the first round only
    series = Series(title="Quý I/2025", period_kind="quarterly", scope_unit_id=tree.province.id)
    db.session.add(series)
    db.session.flush()
    r1 = contest.round(tree.province, series_id=series.id)
    r2 = contest.round(tree.province, opens=T0 + WEEK, series_id=series.id)
    running = contest.round(tree.province, opens=T0 + 2 * WEEK, closes=datetime(2100, 1, 1, tzinfo=UTC),
                            series_id=series.id)
    contest.take(r1, a, 3, 100, _hours(1))
    contest.take(r1, b, 2, 60, _hours(1))
    contest.take(r2, a, 2, 50, _hours(170))
    contest.take(r2, b, 3, 80, _hours(170))
    contest.take(r2, c, 3, 30, _hours(170))
    contest.take(running, c, 3, 30, T0 + 2 * WEEK + timedelta(hours=1))  # still open: not counted
    now = T0 + 3 * WEEK

    people = [(p.full_name, p.rank, p.total, p.rounds, p.duration_ms) for p in results.series_people(series, now)]
    assert people == [("b", 1, 5, 2, 140_000), ("a", 2, 5, 2, 150_000), ("c", 3, 3, 1, 30_000)]
    teams = [(t.team_id, t.rank, t.total, t.rounds, t.participation) for t in results.series_teams(series, now)]
    # Team 1: 2.5 + 2.5, everyone each time. Team 2: 0 of 2 took part, then 3 points from its one member.
    assert teams == [(t1.id, 1, 5.0, 2, 1.0), (t2.id, 2, 3.0, 1, 0.5)]


def test_series_without_closed_rounds_is_empty(make, contest):
    series = Series(title="Năm 2100", period_kind="yearly", scope_unit_id=make.tree().province.id)
    db.session.add(series)
    db.session.flush()
    assert results.series_people(series, T0) == [] and results.series_teams(series, T0) == []


# --- exports ---------------------------------------------------------------------------------------


def _sheet_rows(data: bytes, title: str | None = None) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook[title] if title else workbook.active
    return list(sheet.iter_rows(values_only=True))


def _phones_masked(rows: list[tuple], phones: list[str]) -> None:
    cells = [str(cell) for row in rows for cell in row if cell is not None]
    assert not any(phone in cell for phone in phones for cell in cells)


def test_exports_open_in_openpyxl_with_masked_phones(predicted):
    round_, people = predicted
    results.finalise(round_, round_.closes_at + timedelta(minutes=1))
    phones = [user.phone for user in people.values()]

    rows = _sheet_rows(results.export_individuals(round_))
    assert rows[0][0] == "Kết quả cá nhân — Tuần 1 — Chuyển đổi số"
    assert rows[1][:3] == ("Hạng", "Họ và tên", "Số điện thoại")
    assert [row[1] for row in rows[2:]] == ["A", "B", "C", "D", "E", "F"]
    assert re.fullmatch(r"0912\*\*\*\d{3}", rows[2][2]) and rows[2][2][-3:] == people["A"].phone[-3:]
    assert rows[3][7:9] == (6, 0)  # B's prediction and gap
    assert rows[2][9] == 200.0  # seconds
    _phones_masked(rows, phones)

    teams = _sheet_rows(results.export_teams(round_))
    assert teams[1][:2] == ("Hạng", "Tổ CNSCĐ") and len(teams) == 4
    units = _sheet_rows(results.export_units(round_))
    assert units[1][0] == "Cấp" and {row[0] for row in units[2:]} == {"Cấp tỉnh", "Cấp xã"}


def test_series_export_has_people_and_teams(make, contest):
    tree = make.tree()
    team = make.team(tree.hamlet)
    ann = contest.member(team, "An")
    series = Series(title="Tháng 3/2025", period_kind="monthly", scope_unit_id=tree.province.id)
    db.session.add(series)
    db.session.flush()
    contest.take(contest.round(tree.province, series_id=series.id), ann, 2, 61.5, _hours(1))
    data = results.export_series(series, T0 + 2 * WEEK)
    people = _sheet_rows(data, "Cá nhân")
    assert people[2][:2] == (1, "An") and people[2][5:] == (2, 1, 61.5)
    _phones_masked(people, [ann.phone])
    assert _sheet_rows(data, "Tổ CNSCĐ")[2][1] == team.name


def test_mask_phone():
    assert results.mask_phone("0912345678") == "0912***678"
    assert results.mask_phone(None) == "" and results.mask_phone("12345") == "***"


# --- statistics ------------------------------------------------------------------------------------


def test_round_stats(make, contest):
    tree = make.tree()
    team = make.team(tree.hamlet)
    a, b, c = (contest.member(team, n) for n in "abc")
    round_ = contest.round(tree.province, attempt_policy=AttemptPolicy.BEST_OF_N, max_attempts=3)
    contest.take(round_, a, 1, 60, T0)  # Monday 08:00 local
    contest.take(round_, a, 3, 60, T0 + timedelta(hours=17))  # Tuesday 00:00 local: the next day
    contest.take(round_, b, 3, 60, T0 + timedelta(days=2))
    contest.take(round_, c, 0, 60, T0 + timedelta(days=2, hours=1))
    stats = results.round_stats(round_)
    assert (stats.participants, stats.attempts, stats.max_score, stats.mean_score) == (3, 4, 3, 2.0)
    assert [(d.day.isoformat(), d.people, d.attempts, d.cumulative) for d in stats.days] == [
        ("2025-03-03", 1, 1, 1), ("2025-03-04", 0, 1, 1), ("2025-03-05", 2, 2, 3),
    ]
    assert stats.histogram == [(0, 1), (1, 0), (2, 0), (3, 2)]
    # Every question was answered right 7 times out of 12 items (1 + 3 + 3 + 0 of 3 each).
    assert sum(q.asked for q in stats.questions) == 12 and sum(q.correct for q in stats.questions) == 7
    assert [q.share for q in stats.questions] == sorted(q.share for q in stats.questions)
    assert results.round_stats(round_, with_questions=False).questions == []


# --- performance -----------------------------------------------------------------------------------


def _crowd(make, contest, round_: Round, tree, size: int) -> None:  # noqa: ANN001
    teams = [make.team(unit) for unit in (tree.hamlet, tree.district_hamlet, tree.other_hamlet)]
    for i in range(size):
        contest.take(round_, contest.member(teams[i % 3], f"Người {i}"), i % 4, 60 + i, _hours(i))


@pytest.mark.parametrize("size", [3, 12])
def test_query_count_does_not_grow_with_participants(make, contest, size):
    tree = make.tree()
    round_ = contest.round(tree.province, prediction_kind="participants", prediction_question="Bao nhiêu?")
    _crowd(make, contest, round_, tree, size)
    db.session.flush()
    with counted_queries() as queries:
        assert len(results.ranking(round_)) == size
    assert len(queries) == 1
    for compute, limit in ((results.team_results, 2), (results.unit_results, 3), (results.live_participation, 2),
                           (results.round_stats, 3)):
        with counted_queries() as queries:
            compute(round_)
        assert len(queries) <= limit, compute.__name__
    with counted_queries() as queries:
        results.ranking_page(round_, tree.commune, 1)
    assert len(queries) == 2
