"""Emulation points (competitions.emulation.scoring): every criterion and when it does not apply,
the rescaling to 100, the bands, versions, rankings, unit scores and cumulative points.

Targets, reports, rounds and live contests are written as rows (their services belong to other
parts); a test scheme is a version inserted with an effective month before the period scored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from competitions.emulation import scoring
from competitions.emulation.models import (
    CriterionKind,
    ReportStatus,
)
from competitions.emulation.periods import Period
from competitions.emulation.schemes import NOT_DONE
from competitions.live.models import ContestStatus, LiveContest, LivePlayer
from competitions.models import RoundStatus
from core.accounts.models import User
from core.extensions import db
from core.org.models import Unit
from core.teams.models import Team
from tests.competitions.emulation.worlds import MARCH, activity, add_scheme, report, target
from tests.competitions.test_results import T0, Contest, counted_queries
from tests.factories import Factory, Tree

NOW = datetime(2025, 6, 1, tzinfo=UTC)  # every deadline of March 2025 has passed


# --- building rows --------------------------------------------------------------------------------


def by_team(scores: list[scoring.TeamScore]) -> dict[int, scoring.TeamScore]:
    return {s.team_id: s for s in scores}


def criterion(score: scoring.TeamScore, kind: str, activity_code: str | None = None) -> scoring.CriterionScore:
    wanted = activity(activity_code).id if activity_code else None
    return next(c for c in score.criteria if c.kind == kind and c.activity_id == wanted)


@pytest.fixture
def tree(make: Factory) -> Tree:
    return make.tree()


@pytest.fixture
def filer(make: Factory, tree: Tree) -> User:
    return make.user("officer", tree.province, full_name="Cán bộ")


@pytest.fixture
def team_of(make: Factory) -> Callable[..., Team]:
    def build(unit: Unit, name: str, members: int = 0) -> Team:
        team = make.team(unit, name)
        team.created_at = datetime(2024, 1, 1, tzinfo=UTC)
        make.fill(team, members)
        return team

    return build


# --- activities -------------------------------------------------------------------------------------


def test_activity_ratio_counts_verified_work_against_the_teams_own_target_with_the_cap(tree, filer, team_of):
    add_scheme([(CriterionKind.ACTIVITY, "vneid", 50, 1.2), (CriterionKind.ACTIVITY, "ewallet", 50, 1.0)])
    a, b, c = (team_of(tree.hamlet, "Tổ A"), team_of(tree.hamlet2, "Tổ B"), team_of(tree.other_hamlet, "Tổ C"))
    target(a, "vneid", 10)
    target(a, "ewallet", 10)
    report(a, {"vneid": 15, "ewallet": 5}, filer)
    report(a, {"ewallet": 5}, filer, status=ReportStatus.SUBMITTED)  # not verified: does not count
    report(a, {"ewallet": 3}, filer, status=ReportStatus.REJECTED)
    report(a, {"ewallet": 9}, filer, month="2025-02")  # another month
    target(b, "vneid", 20)
    target(b, "ewallet", 30, Period.parse("2025-Q1"))  # a quarter's target is not March's
    report(b, {"vneid": 10, "ewallet": 40}, filer)
    target(c, "vneid", 10)
    report(c, {"vneid": 30, "ewallet": 30}, filer)

    scores = by_team(scoring.team_scores(MARCH, now=NOW))
    vneid, ewallet = criterion(scores[a.id], "activity", "vneid"), criterion(scores[a.id], "activity", "ewallet")
    assert (vneid.ratio, vneid.points, vneid.value) == (1.2, 60.0, "15/10 người")  # capped at 120%
    assert (ewallet.ratio, ewallet.points) == (0.5, 25.0)
    assert scores[a.id].points == 85.0
    # B has no March target for e-wallets: the criterion does not apply and the rest is rescaled
    missing = criterion(scores[b.id], "activity", "ewallet")
    assert missing.ratio is None and missing.points == 0 and "chỉ tiêu" in missing.reason
    assert scores[b.id].points == 50.0  # 25 of the 50 points that apply
    # C: 60 of 50 applicable points, rescaled to 120, clipped to 100
    assert scores[c.id].raw_points == 60.0 and scores[c.id].points == 100.0


def test_a_team_with_nothing_to_measure_has_zero_points_and_is_not_done(tree, team_of):
    add_scheme([(CriterionKind.ACTIVITY, "vneid", 100, 1.0)])
    team = team_of(tree.hamlet, "Tổ trống")
    score = scoring.team_score(team, MARCH, now=NOW)
    assert (score.points, score.band, score.applicable_max) == (0.0, NOT_DONE, 0)


# --- bands ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("done", "points", "band"), [
    ((20, 17), 92.5, "Hoàn thành xuất sắc"),  # 100% and 85%: both reach the top band's ratio
    ((20, 16), 90.0, "Hoàn thành tốt"),  # 90 points, but one criterion at 80% < 85%
    ((17, 19), 90.0, "Hoàn thành xuất sắc"),  # exactly 90 and 85%: the boundaries belong to the band
    ((18, 17), 87.5, "Hoàn thành tốt"),
    ((16, 16), 80.0, "Hoàn thành tốt"),
    ((20, 13), 82.5, NOT_DONE),  # 82.5 points, but 65% misses every band's ratio
    ((14, 14), 70.0, "Hoàn thành"),
    ((20, 8), 70.0, NOT_DONE),  # 70 points but 40% on one criterion
    ((13, 14), 67.5, NOT_DONE),
])
def test_each_band_needs_its_points_and_every_criterion_at_its_ratio(tree, filer, team_of, done, points, band):
    add_scheme([(CriterionKind.ACTIVITY, "vneid", 50, 1.0), (CriterionKind.ACTIVITY, "ewallet", 50, 1.0)])
    team = team_of(tree.hamlet, "Tổ A")
    target(team, "vneid", 20)
    target(team, "ewallet", 20)
    report(team, {"vneid": done[0], "ewallet": done[1]}, filer)
    score = scoring.team_score(team, MARCH, now=NOW)
    assert (score.points, score.band) == (points, band)


def test_ninety_points_with_one_criterion_at_84_percent_is_not_excellent(tree, filer, team_of):
    add_scheme([(CriterionKind.ACTIVITY, "vneid", 25, 1.0), (CriterionKind.ACTIVITY, "ewallet", 75, 1.0)])
    team = team_of(tree.hamlet, "Tổ A")
    target(team, "vneid", 100)
    target(team, "ewallet", 100)
    report(team, {"vneid": 84, "ewallet": 92}, filer)  # 21 + 69 = 90
    score = scoring.team_score(team, MARCH, now=NOW)
    assert score.points == 90.0 and score.band == "Hoàn thành tốt"


# --- quizzes ------------------------------------------------------------------------------------------


def test_quiz_participation_and_score_over_the_closed_rounds_of_the_teams_area(make, tree, team_of):
    add_scheme([(CriterionKind.QUIZ_PARTICIPATION, None, 50, 1.0), (CriterionKind.QUIZ_SCORE, None, 50, 1.0)])
    contest = Contest(make)
    a, b = team_of(tree.hamlet, "Tổ A"), team_of(tree.other_hamlet, "Tổ B")
    empty = team_of(tree.district_hamlet, "Tổ chưa có ai")
    a1, a2, _a3 = (contest.member(a, f"A{n}") for n in range(3))
    b1, _b2 = (contest.member(b, f"B{n}") for n in range(2))
    province = contest.round(tree.province)
    local = contest.round(tree.other_commune, title="Vòng phường")  # not A's area
    contest.round(tree.province, status=RoundStatus.DRAFT, title="Nháp")  # never counts
    contest.take(province, a1, 3, 60, T0 + timedelta(hours=1))
    contest.take(province, a2, 1, 60, T0 + timedelta(hours=2))
    contest.take(local, b1, 3, 60, T0 + timedelta(hours=2))
    scores = by_team(scoring.team_scores(MARCH, now=NOW))

    part, mean = criterion(scores[a.id], "quiz_participation"), criterion(scores[a.id], "quiz_score")
    assert part.ratio == pytest.approx(2 / 3) and part.value == "2/3 lượt dự thi"
    assert mean.ratio == pytest.approx((4 / 3) / 3)  # (3 + 1 + 0) / 3 members, of 3 points
    part, mean = criterion(scores[b.id], "quiz_participation"), criterion(scores[b.id], "quiz_score")
    assert part.ratio == pytest.approx(1 / 4)  # 1 entry of 2 members × 2 rounds
    assert mean.ratio == pytest.approx((0 + 0.5) / 2)
    assert criterion(scores[empty.id], "quiz_participation").ratio is None
    assert scores[empty.id].points == 0.0


def test_quiz_criteria_do_not_apply_without_closed_rounds(make, tree, team_of):
    add_scheme([(CriterionKind.QUIZ_PARTICIPATION, None, 50, 1.0), (CriterionKind.ACTIVITY, "vneid", 50, 1.0)])
    contest = Contest(make)
    team = team_of(tree.hamlet, "Tổ A")
    contest.member(team, "A")
    contest.round(tree.province, opens=NOW - timedelta(days=1), closes=NOW + timedelta(days=1))  # still open
    contest.round(tree.province, opens=T0 + timedelta(days=40))  # April
    contest.round(tree.province, opens=datetime(2025, 2, 20, tzinfo=UTC),
                  closes=datetime(2025, 2, 28, 17, tzinfo=UTC))  # 1 March 00:00 in Vietnam: February's last instant
    quiz = criterion(scoring.team_score(team, MARCH, now=NOW), "quiz_participation")
    assert quiz.ratio is None and "đợt thi" in quiz.reason
    february = criterion(scoring.team_score(team, Period.parse("2025-02"), now=NOW), "quiz_participation")
    assert february.ratio == 0.0 and february.value == "0/1 lượt dự thi"
    june = criterion(scoring.team_score(team, Period.parse("2025-06"), now=NOW), "quiz_participation")
    assert june.ratio is None  # the June round has not closed yet


# --- live contests ----------------------------------------------------------------------------------


def _contest(host: Unit | None, players: list[tuple[Team | None, int]], finished: datetime,
             status: ContestStatus = ContestStatus.FINISHED) -> LiveContest:
    admin = db.session.scalar(select(User).where(User.role_code == "officer"))
    contest = LiveContest(title="Rung chuông vàng", host_id=admin.id, unit_id=host.id if host else None,
                          status=status, finished_at=finished)
    db.session.add(contest)
    db.session.flush()
    for n, (team, score) in enumerate(players):
        db.session.add(LivePlayer(contest_id=contest.id, team_id=team.id if team else None, nickname=f"P{n}",
                                  nickname_key=f"p{n}", token_hash=f"{contest.id}-{n}", score=score))
    db.session.flush()
    return contest


def test_live_contests_compare_the_teams_players_with_the_best_player(tree, filer, team_of):
    add_scheme([(CriterionKind.LIVE_CONTESTS, None, 100, 1.0)])
    a, b = team_of(tree.hamlet, "Tổ A"), team_of(tree.other_hamlet, "Tổ B")
    far = team_of(tree.district_hamlet, "Tổ huyện")
    at = datetime(2025, 3, 15, 3, tzinfo=UTC)
    _contest(tree.province, [(a, 800), (a, 400), (None, 1000), (b, 500)], at)
    _contest(tree.commune, [(None, 900)], at)  # A's commune: A played nobody, 0
    _contest(tree.other_commune, [(a, 300), (b, 600)], at)  # not A's area, but A played: counts
    _contest(tree.province, [(a, 1000)], at, status=ContestStatus.RUNNING)  # not finished
    _contest(tree.province, [(a, 1000)], datetime(2025, 4, 2, tzinfo=UTC))  # April
    scores = by_team(scoring.team_scores(MARCH, now=NOW))

    live = criterion(scores[a.id], "live_contests")
    assert live.ratio == pytest.approx((0.6 + 0 + 0.5) / 3) and live.value == "Tham gia 2/3 cuộc thi"
    assert criterion(scores[b.id], "live_contests").ratio == pytest.approx((0.5 + 1.0) / 2)
    assert criterion(scores[far.id], "live_contests").ratio == 0.0  # a province contest, nobody played
    feb = scoring.team_score(a, Period.parse("2025-02"), now=NOW)
    assert criterion(feb, "live_contests").ratio is None


# --- reports on time -------------------------------------------------------------------------------


def test_reports_on_time_count_months_whose_deadline_passed(tree, filer, team_of):
    add_scheme([(CriterionKind.REPORTS_ON_TIME, None, 100, 1.0)])
    quarter = Period.parse("2025-Q1")
    steady, careless, young = team_of(tree.hamlet, "Tổ A"), team_of(tree.hamlet2, "Tổ B"), team_of(tree.commune, "Tổ C")
    young.created_at = datetime(2025, 2, 10, tzinfo=UTC)  # January ended before it was founded
    day = timedelta(days=1)
    report(steady, {"vneid": 1}, filer, "2025-01", filed_at=datetime(2025, 2, 5, tzinfo=UTC))
    report(steady, {"vneid": 1}, filer, "2025-02", ReportStatus.SUBMITTED,
           filed_at=Period.parse("2025-02").report_deadline() - timedelta(minutes=1))  # waiting: still on time
    report(steady, {"vneid": 1}, filer, "2025-03", filed_at=MARCH.report_deadline() + timedelta(minutes=1))  # late
    report(careless, {"vneid": 1}, filer, "2025-01", ReportStatus.REJECTED,
           filed_at=datetime(2025, 2, 1, tzinfo=UTC))
    report(young, {"vneid": 1}, filer, "2025-02", filed_at=datetime(2025, 3, 5, tzinfo=UTC))
    scores = by_team(scoring.team_scores(quarter, now=NOW))
    assert criterion(scores[steady.id], "reports_on_time").ratio == pytest.approx(2 / 3)
    assert criterion(scores[steady.id], "reports_on_time").value == "2/3 tháng đúng hạn"
    assert criterion(scores[careless.id], "reports_on_time").ratio == 0.0
    assert criterion(scores[young.id], "reports_on_time").ratio == pytest.approx(1 / 2)

    # before March's deadline: March counts only for a team that already reported it
    before = MARCH.report_deadline() - day
    report(careless, {"vneid": 1}, filer, "2025-03", ReportStatus.SUBMITTED, filed_at=before - day)
    scores = by_team(scoring.team_scores(MARCH, now=before))
    assert criterion(scores[careless.id], "reports_on_time").ratio == 1.0
    assert criterion(scores[young.id], "reports_on_time").ratio is None


# --- versions, rankings, units, cumulative, queries -------------------------------------------------


def test_a_period_is_scored_with_the_version_in_force_at_its_first_month(tree, filer, team_of):
    old = add_scheme([(CriterionKind.ACTIVITY, "vneid", 100, 1.0)], "2025-01")
    new = add_scheme([(CriterionKind.ACTIVITY, "vneid", 50, 1.0), (CriterionKind.REPORTS_ON_TIME, None, 50, 1.0)],
                     "2025-03")
    team = team_of(tree.hamlet, "Tổ A")
    target(team, "vneid", 10, Period.parse("2025-02"))
    report(team, {"vneid": 5}, filer, "2025-02", filed_at=datetime(2025, 3, 1, tzinfo=UTC))
    feb = scoring.team_score(team, Period.parse("2025-02"), now=NOW)
    assert [c.criterion_id for c in feb.criteria] == [old.criteria[0].id] and feb.points == 50.0
    assert scoring.scheme_for(MARCH).id == new.id
    assert scoring.scheme_for(Period.parse("2025-Q1")).id == old.id  # the quarter began in January
    assert scoring.scheme_for(Period.parse("2025")).id == old.id


def test_rankings_are_by_points_then_id(tree, filer, team_of):
    add_scheme([(CriterionKind.ACTIVITY, "vneid", 100, 1.0)])
    teams = [team_of(tree.hamlet, "Tổ Bình"), team_of(tree.hamlet2, "tổ An"), team_of(tree.other_hamlet, "Tổ Bình"),
             team_of(tree.district_hamlet, "Tổ Ánh")]
    for team, done in zip(teams, [5, 5, 5, 9], strict=True):
        target(team, "vneid", 10)
        report(team, {"vneid": done}, filer)
    dissolved = team_of(tree.hamlet, "Tổ đã giải thể")
    target(dissolved, "vneid", 10)
    report(dissolved, {"vneid": 10}, filer)
    dissolved.active = False  # no longer ranked
    ranked = scoring.team_scores(MARCH, now=NOW)
    assert [s.team_id for s in ranked] == [teams[3].id, teams[0].id, teams[1].id, teams[2].id]
    assert [s.team_id for s in scoring.team_scores(MARCH, tree.commune, now=NOW)] == [teams[0].id, teams[1].id]


def test_unit_scores_rank_communes_and_districts_by_their_teams_mean(tree, filer, team_of, make):
    add_scheme([(CriterionKind.ACTIVITY, "vneid", 100, 1.0)])
    done = {team_of(tree.hamlet, "Tổ A", members=2): 10, team_of(tree.hamlet2, "Tổ B", members=1): 4,
            team_of(tree.other_hamlet, "Tổ C", members=3): 8, team_of(tree.district_hamlet, "Tổ D"): 6}
    for team, quantity in done.items():
        target(team, "vneid", 10)
        report(team, {"vneid": quantity}, filer)
    communes = scoring.unit_scores(MARCH, None, scoring.COMMUNE, now=NOW)
    assert [(u.name, u.points, u.teams, u.members, u.rank) for u in communes] == [
        ("Phường Rạch Giá", 80.0, 1, 3, 1), ("Xã Châu Thành", 70.0, 2, 3, 2), ("Xã Thạnh Hưng", 60.0, 1, 0, 3),
    ]
    districts = scoring.unit_scores(MARCH, None, scoring.DISTRICT, now=NOW)
    assert [(u.name, u.points) for u in districts] == [("Huyện Giồng Riềng", 60.0)]
    assert [u.name for u in scoring.unit_scores(MARCH, tree.district, scoring.COMMUNE, now=NOW)] == ["Xã Thạnh Hưng"]


def test_cumulative_points_add_every_month_since_the_first_with_anything(tree, filer, team_of):
    add_scheme([(CriterionKind.ACTIVITY, "vneid", 100, 1.0)])
    a, b = team_of(tree.hamlet, "Tổ A"), team_of(tree.other_hamlet, "Tổ B")
    for month, quantity in (("2025-01", 5), ("2025-03", 10), ("2025-05", 2)):
        target(a, "vneid", 10, Period.parse(month))
        report(a, {"vneid": quantity}, filer, month)
    target(b, "vneid", 10, Period.parse("2025-Q1"))  # a quarter target: no month of it scores
    report(b, {"vneid": 10}, filer, "2025-02")
    assert scoring.cumulative_points([a.id, b.id], MARCH, now=NOW) == {a.id: 150.0, b.id: 0.0}
    assert scoring.cumulative_points([a.id], Period.parse("2025"), now=NOW) == {a.id: 170.0}
    assert scoring.cumulative_points([], MARCH) == {}


def test_team_scores_take_a_fixed_number_of_queries_whatever_the_number_of_teams(make, tree, filer, team_of):
    add_scheme([(CriterionKind.ACTIVITY, "vneid", 40, 1.0), (CriterionKind.QUIZ_PARTICIPATION, None, 20, 1.0),
                (CriterionKind.QUIZ_SCORE, None, 10, 1.0), (CriterionKind.LIVE_CONTESTS, None, 10, 1.0),
                (CriterionKind.REPORTS_ON_TIME, None, 20, 1.0)])
    contest = Contest(make)
    round_ = contest.round(tree.province)
    _contest(tree.province, [], datetime(2025, 3, 15, tzinfo=UTC))

    def grow(n: int, unit: Unit) -> None:
        for i in range(n):
            team = team_of(unit, f"Tổ {unit.id}-{i}")
            user = contest.member(team, f"Người {i}")
            target(team, "vneid", 10)
            report(team, {"vneid": i}, filer)
            contest.take(round_, user, i % 4, 60, T0 + timedelta(hours=1))

    grow(2, tree.hamlet)
    db.session.expire_all()
    with counted_queries() as few:
        assert len(scoring.team_scores(MARCH, now=NOW)) == 2
    grow(6, tree.other_hamlet)
    db.session.expire_all()
    with counted_queries() as many:
        assert len(scoring.team_scores(MARCH, now=NOW)) == 8
    assert len(many) == len(few)
