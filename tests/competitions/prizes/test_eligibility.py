"""Eligibility rules of awards (competitions.prizes.eligibility, applied by proposal.propose): one
prize per person per round, the series rule (first / highest), staff and organisers, team minimum
participation and band, guests. Each test fails without the rule it is about."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from competitions.emulation.models import CriterionKind
from competitions.models import Round, Series
from competitions.prizes.models import AwardStatus, SeriesRule
from competitions.prizes.proposal import LineStatus, propose
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.extensions import db
from tests.competitions.emulation.worlds import MARCH, add_scheme, report, target
from tests.competitions.prizes.worlds_proposal import (  # noqa: F401 - w_fixture: the w fixture
    AFTER,
    INDIVIDUAL,
    TEAM,
    TWO,
    World,
    award,
    decided,
    line_of,
    table,
    w_fixture,
)
from tests.competitions.test_results import T0, WEEK, _hours

W, N, I = LineStatus.WINNER, LineStatus.NEXT, LineStatus.INELIGIBLE  # noqa: E741
JUNE = datetime(2025, 6, 1, tzinfo=UTC)


# --- one prize per person per round ------------------------------------------------------------------


def test_each_person_wins_one_prize_however_many_prizes_their_rank_could_cover(w):
    people = w.people(3)
    w.ranked(people)
    proposal = propose(award(w.round), AFTER)
    assert [line.subject for line in proposal.winners] == [f"p{p.id}" for p in people]  # 6 prizes, 3 people


def test_a_prize_of_another_award_of_the_same_round_excludes_the_person(w):
    people = w.people(4)
    w.ranked(people)
    special = award(w.round, [(INDIVIDUAL, "Giải đặc biệt", 1)], title="Giải đặc biệt")
    decided(special, [("Giải đặc biệt", people[0])])
    draft = award(w.round, [(INDIVIDUAL, "Giải phụ", 1)], title="Giải phụ")
    decided(draft, [("Giải phụ", people[1])], status=AwardStatus.DRAFT)  # not decided: no effect
    proposal = propose(award(w.round, TWO), AFTER)
    assert table(proposal) == [("Người 0", I, ""), ("Người 1", W, "Giải Nhất"), ("Người 2", W, "Giải Nhì"),
                               ("Người 3", W, "Giải Nhì")]
    assert line_of(proposal, f"p{people[0].id}").reason == (
        "Đã nhận Giải đặc biệt của đợt thi này: mỗi người chỉ nhận một giải mỗi đợt.")


# --- across a series ---------------------------------------------------------------------------------


@pytest.fixture
def season(w: World) -> tuple[Round, Round, list[User]]:
    """Two weekly rounds of a season; week 1 decided: Người 0 first, Người 1 and 2 second, Người 3 third."""
    series = Series(title="Quý I/2025", period_kind="quarterly", scope_unit_id=w.tree.province.id)
    db.session.add(series)
    db.session.flush()
    w.round.series_id = series.id
    people = w.people(7)
    week1 = award(w.round, title="Tuần 1")
    decided(week1, [("Giải Nhất", people[0]), ("Giải Nhì", people[1]), ("Giải Nhì", people[2]),
                    ("Giải Ba", people[3])], status=AwardStatus.PUBLISHED)
    week2 = w.contest.round(w.tree.province, opens=T0 + WEEK, series_id=series.id, title="Tuần 2")
    # week 2's ranking: Người 3, 1, 0, 4, 5, 6, 2
    for n, person in enumerate([people[i] for i in (3, 1, 0, 4, 5, 6, 2)]):
        w.contest.take(week2, person, 3, 100 + n, _hours(170))
    return w.round, week2, people


def test_series_rule_first_a_winner_of_an_earlier_round_wins_nothing_more(w, season):
    _week1, week2, people = season
    proposal = propose(award(week2, series_rule=SeriesRule.FIRST), AFTER + WEEK)
    assert table(proposal) == [
        ("Người 3", I, ""), ("Người 1", I, ""), ("Người 0", I, ""), ("Người 4", W, "Giải Nhất"),
        ("Người 5", W, "Giải Nhì"), ("Người 6", W, "Giải Nhì"), ("Người 2", I, ""),
    ]
    assert line_of(proposal, f"p{people[3].id}").reason == (
        "Đã đoạt Giải Ba ở Tuần 1 — Chuyển đổi số cùng mùa thi: mỗi người chỉ nhận giải lần đầu.")


def test_series_rule_highest_a_winner_may_only_win_a_higher_prize(w, season):
    _week1, week2, people = season
    proposal = propose(award(week2, series_rule=SeriesRule.HIGHEST), AFTER + WEEK)
    assert table(proposal) == [
        ("Người 3", W, "Giải Nhất"),  # third in week 1: first is higher
        ("Người 1", I, ""),  # second in week 1: second again is not higher
        ("Người 0", I, ""),  # first in week 1: nothing is higher
        ("Người 4", W, "Giải Nhì"), ("Người 5", W, "Giải Nhì"), ("Người 6", W, "Giải Ba"),
        ("Người 2", I, ""),  # second in week 1, ranked too low for a first prize
    ]
    assert line_of(proposal, f"p{people[1].id}").reason == (
        "Đã đoạt Giải Nhì ở Tuần 1 — Chuyển đổi số cùng mùa thi: chỉ được xét giải cao hơn.")


def test_only_earlier_rounds_of_the_same_series_count(w, season):
    week1, week2, people = season
    decided(award(week2, title="Tuần 2"), [("Giải Nhất", people[5])])  # a later round does not limit week 1
    other = w.contest.round(w.tree.province, opens=T0 + WEEK, title="Ngoài mùa thi")
    for n, person in enumerate(people):
        w.contest.take(other, person, 3, 100 + n, _hours(170))
    # outside the series, week 1's prizes do not matter
    assert [s for _n, s, _t in table(propose(award(other, series_rule=SeriesRule.FIRST), AFTER + WEEK))[:3]] == [W] * 3
    for n, person in enumerate(people[4:]):
        w.contest.take(week1, person, 3, 100 + n, _hours(1))
    again = award(week1, [(INDIVIDUAL, "Giải Nhất", 3)], series_rule=SeriesRule.FIRST, title="Tuần 1, giải thêm")
    assert table(propose(again, AFTER + WEEK)) == [("Người 4", W, "Giải Nhất"), ("Người 5", W, "Giải Nhất"),
                                                   ("Người 6", W, "Giải Nhất")]


# --- staff and organisers ----------------------------------------------------------------------------


def test_staff_and_the_rounds_creator_are_out_and_the_next_moves_up(w):
    people = w.people(4)
    officer = w.make.user(RoleCode.OFFICER, w.tree.commune, full_name="Cán bộ xã")
    organiser = w.make.user(RoleCode.ORGANISER, w.tree.commune, full_name="Đoàn xã")
    w.round.created_by_id = people[1].id  # the person who set the round up (whatever their role now)
    w.contest.take(w.round, officer, 3, 90, _hours(1))
    w.contest.take(w.round, organiser, 3, 95, _hours(1))
    w.ranked(people)
    row = award(w.round, TWO)
    proposal = propose(row, AFTER)
    assert table(proposal) == [("Cán bộ xã", I, ""), ("Đoàn xã", I, ""), ("Người 0", W, "Giải Nhất"),
                               ("Người 1", I, ""), ("Người 2", W, "Giải Nhì"), ("Người 3", W, "Giải Nhì")]
    assert {line.reason for line in proposal.lines if line.status == I} == {
        "Cán bộ, ban tổ chức không tham gia xét giải"}

    row.exclude_staff = False
    assert table(propose(row, AFTER))[:3] == [("Cán bộ xã", W, "Giải Nhất"), ("Đoàn xã", W, "Giải Nhì"),
                                              ("Người 0", W, "Giải Nhì")]


def test_the_series_creator_and_its_rounds_creators_are_out_of_series_prizes(w):
    people = w.people(3)
    series = Series(title="Quý I/2025", period_kind="quarterly", scope_unit_id=w.tree.province.id,
                    created_by_id=people[0].id)
    db.session.add(series)
    db.session.flush()
    w.round.series_id, w.round.created_by_id = series.id, people[1].id
    w.ranked(people)
    proposal = propose(award(series, [(INDIVIDUAL, "Giải Nhất", 1)]), AFTER)
    assert table(proposal) == [("Người 0", I, ""), ("Người 1", I, ""), ("Người 2", W, "Giải Nhất")]


# --- guests --------------------------------------------------------------------------------------------


def test_guests_win_individual_prizes_in_their_commune(w):
    guest = w.make.user(unit=w.tree.district_hamlet, full_name="Khách tự do")
    people = w.people(2)
    w.contest.take(w.round, guest, 3, 50, _hours(1))
    w.ranked(people)
    proposal = propose(award(w.round, TWO), AFTER)
    assert table(proposal)[0] == ("Khách tự do", W, "Giải Nhất")
    line = proposal.lines[0]
    assert (line.team_id, line.team_name, line.unit_id, line.unit_name) == (
        None, "", w.tree.district_commune.id, "Xã Thạnh Hưng")


# --- team rules ----------------------------------------------------------------------------------------


def test_team_prizes_require_the_minimum_participation(w):
    chau = w.people(4)  # 3 of 4 take part: 75 %
    rach = w.people(2, w.other, "Khác")  # both: 100 %
    for n, person in enumerate(chau[:3]):
        w.contest.take(w.round, person, 3, 100 + n, _hours(1))
    for n, person in enumerate(rach):
        w.contest.take(w.round, person, 1, 100 + n, _hours(1))
    row = award(w.round, [(TEAM, "Tổ xuất sắc", 1)], min_participation=0.8)
    proposal = propose(row, AFTER)
    assert table(proposal, TEAM) == [(w.team.name, I, ""), (w.other.name, W, "Tổ xuất sắc")]
    assert proposal.of(TEAM)[0].reason == "Tỷ lệ tham gia 75 % thấp hơn mức tối thiểu 80 %."
    row.min_participation = 0.75  # the boundary belongs to the eligible
    assert table(propose(row, AFTER), TEAM)[0] == (w.team.name, W, "Tổ xuất sắc")


def test_series_team_prizes_use_the_mean_participation(w):
    series = Series(title="Quý I/2025", period_kind="quarterly", scope_unit_id=w.tree.province.id)
    db.session.add(series)
    db.session.flush()
    w.round.series_id = series.id
    chau, rach = w.people(2), w.people(2, w.other, "Khác")
    w.contest.take(w.round, chau[0], 3, 100, _hours(1))  # 50 %
    for person in rach:
        w.contest.take(w.round, person, 1, 100, _hours(1))
    row = award(series, [(TEAM, "Tổ xuất sắc", 1)], min_participation=0.6)
    assert table(propose(row, AFTER), TEAM) == [(w.team.name, I, ""), (w.other.name, W, "Tổ xuất sắc")]


@pytest.fixture
def march(w: World) -> None:
    """March 2025 scored on VNeID work and quiz participation: Châu Thành's team 95 points and
    "Hoàn thành xuất sắc", Rạch Giá's 80 and "Hoàn thành tốt", a third team 70 and "Hoàn thành"."""
    add_scheme([(CriterionKind.ACTIVITY, "vneid", 50, 1.0), (CriterionKind.QUIZ_PARTICIPATION, None, 50, 1.0)])
    filer = w.make.user("officer", w.tree.province, full_name="Cán bộ")
    third = w.make.team(w.tree.district_hamlet, "Tổ thứ ba")
    for team, done, members, took_part in ((w.team, 36, 2, 2), (w.other, 32, 5, 4), (third, 28, 10, 7)):
        team.created_at = datetime(2024, 1, 1, tzinfo=UTC)
        target(team, "vneid", 40)
        report(team, {"vneid": done}, filer)
        for n, person in enumerate(w.people(members, team, team.name)):
            if n < took_part:
                w.contest.take(w.round, person, 1, 100, _hours(1))


def test_team_prizes_require_the_minimum_band(w, march):
    row = award(MARCH, [(TEAM, "Tổ xuất sắc", 3)], scope_unit_id=w.tree.province.id, min_band="Hoàn thành tốt")
    proposal = propose(row, JUNE)
    assert table(proposal, TEAM) == [(w.team.name, W, "Tổ xuất sắc"), (w.other.name, W, "Tổ xuất sắc"),
                                     ("Tổ thứ ba", I, "")]
    assert proposal.of(TEAM)[2].reason == "Xếp loại “Hoàn thành” thấp hơn mức tối thiểu “Hoàn thành tốt”."
    assert proposal.problems == []


def test_a_minimum_band_the_scheme_does_not_have_is_a_problem(w, march):
    row = award(MARCH, [(TEAM, "Tổ xuất sắc", 1)], scope_unit_id=w.tree.province.id, min_band="Loại A")
    assert propose(row, JUNE).problems == [
        "Mức xếp loại tối thiểu “Loại A” không có trong bộ tiêu chí thi đua của kỳ."]


def test_emulation_team_prizes_use_the_quiz_participation_of_the_period(w, march):
    row = award(MARCH, [(TEAM, "Tổ xuất sắc", 3)], scope_unit_id=w.tree.province.id, min_participation=0.75)
    proposal = propose(row, JUNE)
    assert table(proposal, TEAM) == [(w.team.name, W, "Tổ xuất sắc"), (w.other.name, W, "Tổ xuất sắc"),
                                     ("Tổ thứ ba", I, "")]
    assert proposal.of(TEAM)[2].reason == "Tỷ lệ tham gia 70 % thấp hơn mức tối thiểu 75 %."


def test_without_participation_figures_the_minimum_participation_is_not_met(w):
    add_scheme([(CriterionKind.ACTIVITY, "vneid", 100, 1.0)])
    w.team.created_at = datetime(2024, 1, 1, tzinfo=UTC)
    row = award(MARCH, [(TEAM, "Tổ xuất sắc", 1)], scope_unit_id=w.tree.province.id, min_participation=0.5)
    lines = propose(row, JUNE).of(TEAM)
    assert [line.status for line in lines] == [I, I]
    assert lines[0].reason.startswith("Không có số liệu tham gia thi của tổ")

