"""Proposals (competitions.prizes.proposal): prizes handed out best first from the final rankings,
staff exclusions, ties across prize boundaries and their decisions, the collective scorings,
series and emulation awards, and when an award's rankings are final (``closed``).

Rounds and attempts with exact scores and times come from tests.competitions.test_results.Contest;
awards, exclusions and tie decisions are rows (tests.competitions.prizes.worlds_proposal)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from competitions import play
from competitions.emulation.models import CriterionKind
from competitions.emulation.periods import Period
from competitions.models import RoundStatus, Series
from competitions.prizes.models import CollectiveScoring
from competitions.prizes.proposal import LineStatus, Tie, closed, format_time, propose
from core.accounts.models import User
from core.extensions import db
from core.teams.models import Team
from tests.competitions.emulation.worlds import MARCH, add_scheme, report, target
from tests.competitions.prizes.worlds_proposal import (  # noqa: F401 - w_fixture: the w fixture
    AFTER,
    INDIVIDUAL,
    TEAM,
    TWO,
    UNIT,
    World,
    award,
    decide,
    exclude,
    line_of,
    subjects,
    table,
    tier,
    w_fixture,
)
from tests.competitions.test_results import T0, WEEK, _hours, counted_queries

W, N, T, X = LineStatus.WINNER, LineStatus.NEXT, LineStatus.TIED, LineStatus.EXCLUDED


# --- prizes best first -------------------------------------------------------------------------------


def test_prizes_go_best_first_each_eligible_person_once_then_next_in_line(w):
    people = w.people(8)
    w.ranked(people)
    proposal = propose(award(w.round), AFTER)
    assert table(proposal) == [
        ("Người 0", W, "Giải Nhất"), ("Người 1", W, "Giải Nhì"), ("Người 2", W, "Giải Nhì"),
        ("Người 3", W, "Giải Ba"), ("Người 4", W, "Giải Ba"), ("Người 5", W, "Giải Ba"),
        ("Người 6", N, ""), ("Người 7", N, ""),
    ]
    assert proposal.ties == [] and proposal.problems == []
    first, next_ = line_of(proposal, f"p{people[0].id}"), line_of(proposal, f"p{people[6].id}")
    assert (first.score_text, first.time_text, first.rank, first.reason) == ("3/3", "1 phút 40 giây", 1,
                                                                             "Giải Nhất (hạng 1).")
    assert (first.team_id, first.team_name, first.unit_name, first.phone) == (
        w.team.id, w.team.name, "Xã Châu Thành", people[0].phone)
    assert first.unit_id == w.tree.commune.id  # the commune (đơn vị), not the team's hamlet
    assert next_.reason == "Kế tiếp thứ 1 (hạng 7)." and next_.tier_id is None


def test_the_prizes_order_is_their_position_not_their_order_of_creation(w):
    people = w.people(3)
    w.ranked(people)
    row = award(w.round, [(INDIVIDUAL, "Giải Khuyến khích", 1), (INDIVIDUAL, "Giải Nhất", 1)])
    tier(row, "Giải Khuyến khích").position, tier(row, "Giải Nhất").position = 5, 0
    db.session.flush()
    assert table(propose(row, AFTER))[:2] == [("Người 0", W, "Giải Nhất"), ("Người 1", W, "Giải Khuyến khích")]


def test_fewer_candidates_than_prizes_leaves_prizes_unawarded(w):
    people = w.people(2)
    w.ranked(people)
    proposal = propose(award(w.round), AFTER)
    assert table(proposal) == [("Người 0", W, "Giải Nhất"), ("Người 1", W, "Giải Nhì")]
    assert proposal.problems == []


def test_format_time_in_words():
    assert [format_time(ms) for ms in (192_000, 45_000, 192_400, 60_000)] == [
        "3 phút 12 giây", "45 giây", "3 phút 12,4 giây", "1 phút 0 giây"]


# --- staff exclusions --------------------------------------------------------------------------------


def test_an_exclusion_takes_the_candidate_out_with_its_reason_and_the_next_moves_up(w):
    people = w.people(8)
    w.ranked(people)
    row = award(w.round)
    exclude(row, f"p{people[0].id}", "Dùng hai tài khoản để dự thi", w.staff)
    exclude(row, f"p{people[4].id}", "Rút lại", w.staff, active=False)  # withdrawn: no effect
    proposal = propose(row, AFTER)
    assert table(proposal) == [
        ("Người 0", X, ""), ("Người 1", W, "Giải Nhất"), ("Người 2", W, "Giải Nhì"), ("Người 3", W, "Giải Nhì"),
        ("Người 4", W, "Giải Ba"), ("Người 5", W, "Giải Ba"), ("Người 6", W, "Giải Ba"), ("Người 7", N, ""),
    ]
    assert line_of(proposal, f"p{people[0].id}").reason == "Dùng hai tài khoản để dự thi"


def test_exclusions_apply_to_teams_and_units_too(w):
    a = w.people(2)
    b = w.people(2, w.other, "Khác")
    w.ranked([*a, *b])
    row = award(w.round, [(TEAM, "Tổ xuất sắc", 1), (UNIT, "Đơn vị xuất sắc", 1)])
    exclude(row, f"t{w.team.id}", "Tổ khai man số liệu", w.staff)
    exclude(row, f"u{w.tree.other_commune.id}", "Đơn vị tự rút", w.staff)
    proposal = propose(row, AFTER)
    assert table(proposal, TEAM) == [(w.team.name, X, ""), (w.other.name, W, "Tổ xuất sắc")]
    assert table(proposal, UNIT) == [("Phường Rạch Giá", X, ""), ("Xã Châu Thành", W, "Đơn vị xuất sắc")]


# --- ties across prize boundaries --------------------------------------------------------------------


def test_equal_ranks_inside_one_prize_are_no_tie(w):
    people = w.people(4)
    w.ranked(people, ties={2: 1})  # Người 1 and Người 2 equal on every key: both within Giải Nhì
    proposal = propose(award(w.round, TWO), AFTER)
    assert table(proposal) == [("Người 0", W, "Giải Nhất"), ("Người 1", W, "Giải Nhì"), ("Người 2", W, "Giải Nhì"),
                               ("Người 3", N, "")]
    assert proposal.ties == []


def test_a_tie_between_two_prizes_is_flagged_and_the_next_prize_goes_on_after_it(w):
    people = w.people(5)
    w.ranked(people, ties={1: 0})  # Người 0 and 1 tie for the one Giải Nhất
    row = award(w.round, TWO)
    proposal = propose(row, AFTER)
    assert table(proposal) == [("Người 0", T, "Giải Nhất"), ("Người 1", T, "Giải Nhất"), ("Người 2", W, "Giải Nhì"),
                               ("Người 3", W, "Giải Nhì"), ("Người 4", N, "")]
    assert proposal.ties == [Tie(tier(row, "Giải Nhất").id, "Giải Nhất", subjects(people[:2]), 1)]
    assert proposal.problems == [
        "Giải Nhất (cá nhân): 2 ứng viên đồng hạng tranh 1 giải, cần quyết định thêm giải hoặc chọn người."]
    assert line_of(proposal, f"p{people[0].id}").reason == "Đồng hạng 1: 2 ứng viên tranh 1 Giải Nhất, chờ quyết định."


def test_a_tie_at_the_end_of_the_prize_list_is_flagged_with_the_places_left(w):
    people = w.people(5)
    w.ranked(people, ties={3: 2})  # Người 2 (second place of Giải Nhì) and Người 3 (first outside)
    row = award(w.round, TWO)
    proposal = propose(row, AFTER)
    assert table(proposal) == [("Người 0", W, "Giải Nhất"), ("Người 1", W, "Giải Nhì"), ("Người 2", T, "Giải Nhì"),
                               ("Người 3", T, "Giải Nhì"), ("Người 4", N, "")]
    assert proposal.ties == [Tie(tier(row, "Giải Nhì").id, "Giải Nhì", subjects(people[2:4]), 1)]


def test_only_a_tie_on_every_tie_break_counts(w):
    people = w.people(3)
    w.contest.take(w.round, people[0], 3, 100, _hours(1))
    w.contest.take(w.round, people[1], 3, 100, _hours(1.5))  # same score and time, submitted later
    w.contest.take(w.round, people[2], 3, 101, _hours(1))
    proposal = propose(award(w.round, [(INDIVIDUAL, "Giải Nhất", 1)]), AFTER)
    assert [line.status for line in proposal.lines] == [W, N, N] and proposal.ties == []


def test_three_tied_across_two_boundaries_and_a_pick_moves_the_others_on(w):
    people = w.people(4)
    w.ranked(people, ties={1: 0, 2: 0})
    row = award(w.round, [(INDIVIDUAL, "Giải Nhất", 1), (INDIVIDUAL, "Giải Nhì", 1)])
    first = propose(row, AFTER)
    assert first.ties == [Tie(tier(row, "Giải Nhất").id, "Giải Nhất", subjects(people[:3]), 1)]
    assert table(first)[3] == ("Người 3", W, "Giải Nhì")  # provisional: the tied take the disputed prize

    decide(row, "Giải Nhất", subjects(people[:3]), "pick", w.staff, picked=[f"p{people[1].id}"],
           reason="Bốc thăm công khai")
    picked = propose(row, AFTER)
    assert table(picked) == [("Người 0", T, "Giải Nhì"), ("Người 1", W, "Giải Nhất"), ("Người 2", T, "Giải Nhì"),
                             ("Người 3", N, "")]
    # the two left are tied again, now for the one Giải Nhì
    assert picked.ties == [Tie(tier(row, "Giải Nhì").id, "Giải Nhì", subjects([people[0], people[2]]), 1)]
    assert "Bốc thăm công khai" in line_of(picked, f"p{people[1].id}").reason


def test_add_gives_everyone_tied_the_prize_and_the_next_prizes_keep_their_count(w):
    people = w.people(5)
    w.ranked(people, ties={1: 0})
    row = award(w.round, TWO)
    decide(row, "Giải Nhất", subjects(people[:2]), "add", w.staff, reason="Thêm một giải Nhất")
    proposal = propose(row, AFTER)
    assert table(proposal) == [("Người 0", W, "Giải Nhất"), ("Người 1", W, "Giải Nhất"), ("Người 2", W, "Giải Nhì"),
                               ("Người 3", W, "Giải Nhì"), ("Người 4", N, "")]
    assert proposal.ties == [] and proposal.problems == []
    assert line_of(proposal, f"p{people[1].id}").reason == (
        "Giải Nhất (hạng 1, quyết định khi đồng hạng: Thêm một giải Nhất)")


def test_pick_at_the_end_leaves_the_others_next_in_line(w):
    people = w.people(4)
    w.ranked(people, ties={3: 2})
    row = award(w.round, TWO)
    decide(row, "Giải Nhì", subjects(people[2:4]), "pick", w.staff, picked=[f"p{people[3].id}"])
    proposal = propose(row, AFTER)
    assert table(proposal) == [("Người 0", W, "Giải Nhất"), ("Người 1", W, "Giải Nhì"), ("Người 2", N, ""),
                               ("Người 3", W, "Giải Nhì")]
    assert proposal.ties == [] and proposal.problems == []


def test_a_stale_decision_is_ignored_and_the_tie_flagged_again(w):
    people = w.people(4)
    w.ranked(people, ties={1: 0, 2: 0})
    row = award(w.round, TWO)
    exclusion = exclude(row, f"p{people[2].id}", "Nghi vấn gian lận", w.staff)
    decide(row, "Giải Nhất", subjects(people[:2]), "pick", w.staff, picked=[f"p{people[0].id}"])
    assert table(propose(row, AFTER))[0] == ("Người 0", W, "Giải Nhất")

    exclusion.active = False  # withdrawn: three are tied now, not the two the decision was about
    db.session.flush()
    proposal = propose(row, AFTER)
    assert [s for _n, s, _t in table(proposal)[:3]] == [T, T, T]
    assert proposal.ties == [Tie(tier(row, "Giải Nhất").id, "Giải Nhất", subjects(people[:3]), 1)]
    assert proposal.problems


def test_a_decision_that_does_not_fit_the_tie_is_ignored(w):
    people = w.people(3)
    w.ranked(people, ties={1: 0})
    row = award(w.round, TWO)
    decide(row, "Giải Nhì", subjects(people[:2]), "add", w.staff)  # another prize
    decide(row, "Giải Nhất", subjects(people[:2]), "pick", w.staff, picked=subjects(people[:2]))  # two for one place
    assert len(propose(row, AFTER).ties) == 1


def test_a_withdrawn_decision_no_longer_settles_the_tie(w):
    people = w.people(3)
    w.ranked(people, ties={1: 0})
    row = award(w.round, TWO)
    decide(row, "Giải Nhất", subjects(people[:2]), "add", w.staff).active = False
    db.session.flush()
    assert len(propose(row, AFTER).ties) == 1


# --- teams and collective prizes of a round ----------------------------------------------------------


@pytest.fixture
def areas(w: World) -> dict[str, list[User]]:
    """Châu Thành: team of 4, 3 took part, the three best people; Rạch Giá: team of 2, both took
    part; Thạnh Hưng: no team, 5 guests."""
    chau, rach = w.people(4), w.people(2, w.other, "Khác")
    guests = [w.make.user(unit=w.tree.district_hamlet, full_name=f"Khách {n}") for n in range(5)]
    for n, person in enumerate(chau[:3]):
        w.contest.take(w.round, person, 3, 100 + n, _hours(1))
    for n, person in enumerate(rach):
        w.contest.take(w.round, person, 2, 100 + n, _hours(1))
    for n, person in enumerate(guests):
        w.contest.take(w.round, person, 1, 100 + n, _hours(1))
    return {"chau": chau, "rach": rach, "guests": guests}


UNITS = [(UNIT, "Giải Nhất", 1), (UNIT, "Giải Nhì", 1)]


def test_units_by_participation_rate(w, areas):
    proposal = propose(award(w.round, UNITS, collective_scoring=CollectiveScoring.PARTICIPATION_RATE), AFTER)
    assert table(proposal, UNIT) == [("Phường Rạch Giá", W, "Giải Nhất"), ("Xã Châu Thành", W, "Giải Nhì"),
                                     ("Xã Thạnh Hưng", LineStatus.INELIGIBLE, "")]
    assert [line.score_text for line in proposal.of(UNIT)][:2] == ["100 %", "75 %"]
    assert "không có thành viên" in proposal.of(UNIT)[2].reason


def test_units_by_number_of_participants_guests_included(w, areas):
    proposal = propose(award(w.round, UNITS, collective_scoring=CollectiveScoring.PARTICIPANTS), AFTER)
    assert table(proposal, UNIT) == [("Xã Thạnh Hưng", W, "Giải Nhất"), ("Xã Châu Thành", W, "Giải Nhì"),
                                     ("Phường Rạch Giá", N, "")]
    assert [line.score_text for line in proposal.of(UNIT)] == ["5 người", "3 người", "2 người"]


def test_units_by_points_count_the_individual_winners_of_this_proposal(w, areas):
    tiers = [*TWO, *UNITS]
    row = award(w.round, tiers, collective_scoring=CollectiveScoring.POINTS, points_per_winner=10)
    proposal = propose(row, AFTER)
    # Châu Thành: 75 + 3 winners × 10 = 105 beats Rạch Giá's 100 + 0
    assert table(proposal, UNIT)[:2] == [("Xã Châu Thành", W, "Giải Nhất"), ("Phường Rạch Giá", W, "Giải Nhì")]
    assert proposal.of(UNIT)[0].score_text == "105 điểm"
    # one of Châu Thành's winners excluded: the prize goes to Rạch Giá, and Châu Thành drops to 95
    exclude(row, f"p{areas['chau'][0].id}", "Cán bộ dự thi", w.staff)
    proposal = propose(row, AFTER)
    assert table(proposal, INDIVIDUAL)[:4] == [("Người 0", X, ""), ("Người 1", W, "Giải Nhất"),
                                               ("Người 2", W, "Giải Nhì"), ("Khác 0", W, "Giải Nhì")]
    assert table(proposal, UNIT)[:2] == [("Phường Rạch Giá", W, "Giải Nhất"), ("Xã Châu Thành", W, "Giải Nhì")]
    assert [line.score_text for line in proposal.of(UNIT)[:2]] == ["110 điểm", "95 điểm"]


def test_units_tied_on_every_key_are_flagged(w):
    a, b = w.people(1), w.people(1, w.other, "Khác")
    w.ranked([*a, *b])
    row = award(w.round, UNITS[:1])
    proposal = propose(row, AFTER)
    assert [line.status for line in proposal.of(UNIT)] == [T, T]  # 100 % and 1 person each
    assert set(proposal.ties[0].subjects) == {f"u{w.tree.commune.id}", f"u{w.tree.other_commune.id}"}


def test_team_prizes_of_a_round_from_its_team_results(w):
    a = w.people(2)
    b = w.people(2, w.other, "Khác")
    idle = w.make.team(w.tree.district_hamlet)
    w.people(3, idle, "Rảnh")  # members when the round opened, nobody of them took part: no candidate
    w.ranked([*b, *a])
    proposal = propose(award(w.round, [(TEAM, "Tổ Nhất", 1), (TEAM, "Tổ Nhì", 1)]), AFTER)
    assert table(proposal, TEAM) == [(w.other.name, W, "Tổ Nhất"), (w.team.name, W, "Tổ Nhì")]
    line = proposal.of(TEAM)[0]
    assert (line.team_id, line.unit_id, line.unit_name, line.user_id) == (w.other.id, w.tree.other_commune.id,
                                                                        "Phường Rạch Giá", None)
    assert (line.score_text, line.time_text) == ("3 điểm", "")


# --- series and emulation ----------------------------------------------------------------------------


def test_series_prizes_from_the_cumulative_standings(w):
    series = Series(title="Quý I/2025", period_kind="quarterly", scope_unit_id=w.tree.province.id)
    db.session.add(series)
    db.session.flush()
    w.round.series_id = series.id
    later = w.contest.round(w.tree.province, opens=T0 + WEEK, series_id=series.id, title="Tuần 2")
    ann, binh, chi = w.people(3)
    for person, first, second in ((ann, 3, 1), (binh, 2, 3), (chi, 1, 1)):
        w.contest.take(w.round, person, first, 100, _hours(1))
        w.contest.take(later, person, second, 100, _hours(170))
    row = award(series, [(INDIVIDUAL, "Giải Nhất", 1), (TEAM, "Tổ dẫn đầu", 1)])
    proposal = propose(row, T0 + 3 * WEEK)
    assert table(proposal) == [("Người 1", W, "Giải Nhất"), ("Người 0", N, ""), ("Người 2", N, "")]
    assert proposal.of(INDIVIDUAL)[0].score_text == "5 điểm (2 đợt)"
    assert proposal.of(INDIVIDUAL)[0].unit_id == w.tree.commune.id
    assert table(proposal, TEAM) == [(w.team.name, W, "Tổ dẫn đầu")]


@pytest.fixture
def emulation(w: World) -> dict[str, Team]:
    """March 2025: three teams of Châu Thành and Rạch Giá scored on VNeID work (92,5 / 80 / 80 points)."""
    add_scheme([(CriterionKind.ACTIVITY, "vneid", 100, 1.0)])
    filer = w.make.user("officer", w.tree.province, full_name="Cán bộ")
    third = w.make.team(w.tree.other_hamlet, "Tổ thứ ba")
    teams = {"a": w.team, "b": w.other, "c": third}
    for team, done in ((w.team, 37), (w.other, 32), (third, 32)):
        team.created_at = datetime(2024, 1, 1, tzinfo=UTC)
        target(team, "vneid", 40)
        report(team, {"vneid": done}, filer)
    return teams


def test_emulation_team_and_unit_prizes_from_the_period_ranking(w, emulation):
    row = award(MARCH, [(TEAM, "Tổ xuất sắc", 1), (TEAM, "Tổ tốt", 1), (UNIT, "Đơn vị dẫn đầu", 1)],
                scope_unit_id=w.tree.province.id)
    proposal = propose(row, datetime(2025, 6, 1, tzinfo=UTC))
    assert table(proposal, TEAM) == [(w.team.name, W, "Tổ xuất sắc"), (w.other.name, T, "Tổ tốt"),
                                     ("Tổ thứ ba", T, "Tổ tốt")]
    assert proposal.of(TEAM)[0].score_text == "92,5 điểm"
    assert table(proposal, UNIT) == [("Xã Châu Thành", W, "Đơn vị dẫn đầu"), ("Phường Rạch Giá", N, "")]


def test_an_emulation_award_has_no_individual_prizes(w, emulation):
    row = award(MARCH, [(INDIVIDUAL, "Giải Nhất", 1)], scope_unit_id=w.tree.province.id)
    proposal = propose(row, datetime(2025, 6, 1, tzinfo=UTC))
    assert proposal.lines == [] and proposal.problems == ["Giải của kỳ thi đua không xét cho cá nhân."]


# --- closed ------------------------------------------------------------------------------------------


def test_a_round_award_closes_when_the_round_is_closed_and_finalised(make, tree, make_round):
    round_ = make_round(closes_at=datetime.now(UTC) + timedelta(hours=1))
    team = make.team(tree.hamlet)
    person = make.member(team, full_name="Người dự thi").user
    play.start_attempt(person, round_, now=round_.closes_at - timedelta(minutes=2))
    row = award(round_)
    assert not closed(row, round_.closes_at - timedelta(seconds=1))
    assert propose(row, round_.closes_at - timedelta(seconds=1)).problems[0].startswith(
        "Đợt thi “Đợt thi mẫu” chưa kết thúc")
    # closed, but the attempt started before closing may still be submitted (the grace)
    assert not closed(row, round_.closes_at + timedelta(seconds=1))
    assert "làm dở" in propose(row, round_.closes_at + timedelta(seconds=1)).problems[0]
    assert closed(row, round_.closes_at + timedelta(minutes=5))
    assert round_.finalised_at is not None


def test_a_draft_round_never_closes(make_round):
    round_ = make_round(status=RoundStatus.DRAFT)
    row = award(round_)
    assert not closed(row, round_.closes_at + WEEK)
    assert propose(row, round_.closes_at + WEEK).problems == ["Đợt thi “Đợt thi mẫu” chưa được công bố."]


def test_a_series_award_closes_when_every_published_round_has(w):
    series = Series(title="Quý I/2025", period_kind="quarterly", scope_unit_id=w.tree.province.id)
    db.session.add(series)
    db.session.flush()
    w.round.series_id = series.id
    last = w.contest.round(w.tree.province, opens=T0 + WEEK, series_id=series.id, title="Tuần 2")
    w.contest.round(w.tree.province, opens=T0 + 5 * WEEK, series_id=series.id, status=RoundStatus.DRAFT)
    row = award(series)
    assert not closed(row, last.closes_at - timedelta(seconds=1))
    assert closed(row, last.closes_at)
    empty = Series(title="Năm 2100", period_kind="yearly", scope_unit_id=w.tree.province.id)
    db.session.add(empty)
    db.session.flush()
    assert not closed(award(empty), AFTER)


def test_an_emulation_award_closes_when_the_period_ends(w):
    quarter = Period.parse("2025-Q1")
    row = award(quarter, [(TEAM, "Tổ xuất sắc", 1)], scope_unit_id=w.tree.province.id)
    assert not closed(row, quarter.ends_at - timedelta(seconds=1))
    assert propose(row, quarter.ends_at - timedelta(seconds=1)).problems[0] == "Kỳ thi đua Quý 1/2025 chưa kết thúc."
    assert closed(row, quarter.ends_at)


def test_an_award_without_prizes_cannot_be_approved(w):
    assert propose(award(w.round, []), AFTER).problems == ["Chưa có giải nào trong cơ cấu giải."]


# --- cost --------------------------------------------------------------------------------------------


def test_the_number_of_queries_does_not_grow_with_the_participants(w):
    tiers = [*TWO, (TEAM, "Tổ xuất sắc", 1), (UNIT, "Đơn vị xuất sắc", 1)]
    row = award(w.round, tiers, collective_scoring=CollectiveScoring.POINTS)
    counts = []
    for teams in ((w.team, w.other), (w.make.team(w.tree.hamlet2), w.make.team(w.tree.district_hamlet))):
        w.ranked([person for team in teams for person in w.people(6, team, team.name)])
        propose(row, AFTER)  # the round is finalised on the first look
        with counted_queries() as statements:
            assert len(propose(row, AFTER).winners) >= 3
        counts.append(len(statements))
    assert counts[0] == counts[1]
