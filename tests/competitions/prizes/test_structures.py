"""Prize structures (competitions.prizes.structures) and presets: every validation error names the
field and row and writes nothing, who may manage which award, the frozen rule, the audit events."""

from __future__ import annotations

from dataclasses import replace

import pytest

from competitions.prizes import presets, structures
from competitions.prizes.models import AwardStatus, TieDecision
from competitions.prizes.structures import AwardInput, AwardSettings, TierInput
from core.accounts.roles import RoleCode
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from tests.competitions.prizes.worlds_structures import (
    WEEKLY,
    counts,
    emulation_award,
    round_award,
    season,
    staff,
)

TEAMS = [TierInput("team", "Giải Nhất", 1, 2_000_000), TierInput("team", "Giải Nhì", 1, None)]
UNITS = [TierInput("unit", "Giải Nhất", 1, 3_000_000)]


@pytest.fixture
def people(make, tree):
    return staff(make, tree)


def _refused(data: AwardInput, tiers: list[TierInput], actor) -> ValidationError:  # noqa: ANN001
    before = counts()
    with pytest.raises(ValidationError) as caught:
        structures.create_award(data, tiers, actor)
    assert counts() == before  # all or nothing
    return caught.value


def test_a_round_award_is_a_draft_with_its_prizes_in_order_and_a_created_event(make_round, people, tree):
    round_ = make_round(title="Tuần 1 (04/01–10/01/2027)")
    award = structures.create_award(round_award(round_.id), WEEKLY, people.admin)
    assert (award.status, award.owner, award.round_id, award.scope_unit_id, award.version) == (
        "draft", "round", round_.id, tree.province.id, 1)
    assert award.title == "Giải thưởng Tuần 1 (04/01–10/01/2027)"  # the default title names the round
    assert [(t.label, t.count, t.value_vnd, t.position) for t in award.tiers] == [
        ("Giải Nhất", 1, 1_000_000, 1), ("Giải Nhì", 2, 500_000, 2), ("Giải Ba", 3, 300_000, 3),
        ("Giải Khuyến khích", 5, None, 4),
    ]
    assert (award.exclude_staff, award.series_rule, award.collective_scoring) == (True, "highest", "participation_rate")
    [event] = award.events
    assert (event.action, event.actor_id) == ("created", people.admin.id)
    assert event.detail["after"]["tiers"][1] == {"audience": "individual", "label": "Giải Nhì", "count": 2,
                                                 "value_vnd": 500_000}
    assert structures.owner_label(award) == "Đợt thi: Tuần 1 (04/01–10/01/2027)"


@pytest.mark.parametrize(("tiers", "row", "words"), [
    ([replace(WEEKLY[0], count=0)], 1, "Số lượng giải phải từ 1"),
    ([WEEKLY[0], replace(WEEKLY[1], count=-2)], 2, "Số lượng giải phải từ 1"),
    ([WEEKLY[0], replace(WEEKLY[1], count=None)], 2, "Số lượng giải phải từ 1"),
    ([WEEKLY[0], replace(WEEKLY[1], count=1001)], 2, "1000"),
    ([WEEKLY[0], WEEKLY[1], replace(WEEKLY[2], value_vnd=-1)], 3, "Giá trị giải không được âm"),
    ([replace(WEEKLY[0], label="   ")], 1, "Chưa nhập tên giải"),
    ([WEEKLY[0], replace(WEEKLY[1], label="giải  NHẤT")], 2, "Giải “giải NHẤT” cho đối tượng cá nhân đã có"),
    ([WEEKLY[0], replace(WEEKLY[1], audience="")], 2, "Chưa chọn đối tượng"),
    ([replace(WEEKLY[0], label="G" * 81)], 1, "80 ký tự"),
])
def test_a_bad_prize_row_is_refused_naming_its_row_and_field(make_round, people, tiers, row, words):
    error = _refused(round_award(make_round().id), tiers, people.admin)
    assert (error.field, error.row) == ("tiers", row)
    assert words in error.message
    assert str(error).startswith(f"Dòng {row}: ")


def test_a_structure_without_any_prize_is_refused(make_round, people):
    error = _refused(round_award(make_round().id), [], people.admin)
    assert (error.field, error.row) == ("tiers", None) and "ít nhất một giải" in error.message


def test_the_same_prize_name_may_serve_several_audiences(make_round, people):
    award = structures.create_award(round_award(make_round().id), [WEEKLY[0], *TEAMS, *UNITS], people.admin)
    assert [(t.audience, t.label) for t in award.tiers] == [
        ("individual", "Giải Nhất"), ("team", "Giải Nhất"), ("team", "Giải Nhì"), ("unit", "Giải Nhất")]


@pytest.mark.parametrize(("data", "field", "words"), [
    (AwardInput("", "round", round_id=None), "round_id", "đợt thi"),
    (AwardInput("", "round", round_id=987654), "round_id", "đợt thi"),
    (AwardInput("", "series", series_id=987654), "series_id", "mùa thi"),
    (AwardInput("", "emulation", period="2026-Q5", scope_unit_id=None), "period", "2026-Q5"),
    (AwardInput("", "emulation", period="2026-Q4", scope_unit_id=None), "scope_unit_id", "đơn vị"),
    (AwardInput("", "", round_id=1), "owner", "đợt thi, mùa thi hay kỳ thi đua"),
])
def test_an_owner_that_does_not_exist_is_refused(people, data, field, words):
    error = _refused(data, TEAMS, people.admin)
    assert error.field == field and words in error.message


def test_an_emulation_award_is_for_a_province_district_or_commune(people, tree):
    error = _refused(emulation_award(tree.hamlet.id), TEAMS, people.admin)
    assert error.field == "scope_unit_id" and "không phải ấp" in error.message
    award = structures.create_award(emulation_award(tree.commune.id, min_band="Hoàn thành tốt"), TEAMS, people.admin)
    assert (award.owner, award.period, award.scope_unit_id, award.min_band) == (
        "emulation", "2026-Q4", tree.commune.id, "Hoàn thành tốt")
    assert award.title == "Giải thưởng thi đua quý 4/2026 – Xã Châu Thành"
    assert structures.owner_label(award) == "Kỳ thi đua: Quý 4/2026 · Xã Châu Thành"


def test_staff_create_awards_only_for_what_their_scope_holds(make, make_round, people, tree):
    province_round = make_round()
    commune_round = make_round(scope_unit_id=tree.commune.id)
    error = _refused(round_award(province_round.id), WEEKLY, people.officer)
    assert error.field == "round_id" and "ngoài phạm vi" in error.message
    assert _refused(round_award(commune_round.id), WEEKLY, people.other_officer).field == "round_id"
    error = _refused(emulation_award(tree.province.id), TEAMS, people.officer)
    assert error.field == "scope_unit_id" and "ngoài phạm vi" in error.message
    mine = structures.create_award(round_award(commune_round.id), WEEKLY, people.officer)
    assert mine.scope_unit_id == tree.commune.id
    assert structures.create_award(emulation_award(tree.commune.id), TEAMS, people.officer)
    assert structures.create_award(round_award(province_round.id), WEEKLY, people.organiser)
    member = make.member(make.team(tree.hamlet)).user
    with pytest.raises(PermissionDenied):
        structures.create_award(round_award(commune_round.id), WEEKLY, member)


def test_who_manages_and_lists_which_awards(make, make_round, people, tree):
    province = structures.create_award(round_award(make_round().id), WEEKLY, people.admin)
    commune = structures.create_award(round_award(make_round(scope_unit_id=tree.commune.id).id), WEEKLY, people.admin)
    period = structures.create_award(emulation_award(tree.commune.id), TEAMS, people.officer)
    period.status = AwardStatus.APPROVED
    assert [structures.can_manage(u, commune) for u in (people.admin, people.organiser, people.officer,
                                                         people.other_officer)] == [True, True, True, False]
    assert [structures.can_manage(u, province) for u in (people.organiser, people.officer)] == [True, False]
    assert [a.id for a in structures.awards_for(people.admin)] == [period.id, commune.id, province.id]  # newest first
    assert [a.id for a in structures.awards_for(people.officer)] == [period.id, commune.id]
    assert structures.awards_for(people.other_officer) == []
    assert [a.id for a in structures.awards_for(people.admin, status="approved")] == [period.id]
    assert [a.id for a in structures.awards_for(people.admin, owner="round")] == [commune.id, province.id]
    with pytest.raises(PermissionDenied):
        structures.awards_for(make.user(RoleCode.MEMBER, tree.hamlet))


def test_one_award_per_round_season_or_period_and_unit(make_round, people, tree):
    round_ = make_round()
    structures.create_award(round_award(round_.id), WEEKLY, people.admin)
    error = _refused(round_award(round_.id), UNITS, people.admin)
    assert error.field == "round_id" and "hãy sửa cơ cấu đó" in error.message
    structures.create_award(emulation_award(tree.commune.id), TEAMS, people.admin)
    assert _refused(emulation_award(tree.commune.id), UNITS, people.admin).field == "period"
    assert structures.create_award(emulation_award(tree.other_commune.id), TEAMS, people.admin)
    assert structures.create_award(emulation_award(tree.commune.id, period="2026"), TEAMS, people.admin)


def test_a_season_award_takes_the_season_unit(people, tree, quiz):
    series = season(people.admin, tree.commune.id, quiz)
    award = structures.create_award(
        AwardInput("Giải cả năm", "series", series_id=series.id, settings=AwardSettings(series_rule="first")),
        WEEKLY, people.officer,
    )
    assert (award.owner, award.series_id, award.scope_unit_id, award.series_rule, award.title) == (
        "series", series.id, tree.commune.id, "first", "Giải cả năm")
    assert _refused(AwardInput("", "series", series_id=series.id), WEEKLY, people.other_officer).field == "series_id"


@pytest.mark.parametrize(("value", "ok"), [(-1, False), (100.5, False), (0, True), (50, True), (100, True)])
def test_min_participation_is_a_percentage_from_0_to_100(make_round, people, value, ok):
    data = round_award(make_round().id, min_participation=value)
    if ok:
        assert structures.create_award(data, TEAMS, people.admin).min_participation == value / 100
    else:
        error = _refused(data, TEAMS, people.admin)
        assert error.field == "min_participation" and "0 đến 100" in error.message


def test_team_conditions_need_team_prizes(make_round, people, tree):
    error = _refused(round_award(make_round().id, min_participation=50), WEEKLY, people.admin)
    assert error.field == "min_participation" and "giải tổ" in error.message
    error = _refused(emulation_award(tree.commune.id, min_band="Hoàn thành tốt"), UNITS, people.admin)
    assert error.field == "min_band" and "giải tổ" in error.message


def test_a_band_must_be_one_of_the_periods_scheme_and_only_for_emulation(make_round, people, tree):
    error = _refused(round_award(make_round().id, min_band="Hoàn thành tốt"), TEAMS, people.admin)
    assert error.field == "min_band" and "kỳ thi đua" in error.message
    error = _refused(emulation_award(tree.commune.id, min_band="Xuất sắc lắm"), TEAMS, people.admin)
    assert error.field == "min_band" and "Hoàn thành xuất sắc, Hoàn thành tốt, Hoàn thành" in error.message
    award = structures.create_award(emulation_award(tree.commune.id, min_band=" hoàn thành  TỐT "), TEAMS, people.admin)
    assert award.min_band == "Hoàn thành tốt"  # the scheme's own spelling


def test_an_emulation_period_ranks_teams_and_units_not_people(people, tree):
    error = _refused(emulation_award(tree.commune.id), [*TEAMS, WEEKLY[0]], people.admin)
    assert (error.field, error.row) == ("tiers", 3) and "không xếp hạng cá nhân" in error.message
    award = structures.create_award(emulation_award(tree.commune.id), [*TEAMS, *UNITS], people.admin)
    assert {t.audience for t in award.tiers} == {"team", "unit"}


@pytest.mark.parametrize(("settings", "field"), [
    ({"series_rule": "sometimes"}, "series_rule"),
    ({"collective_scoring": "loudest"}, "collective_scoring"),
    ({"collective_scoring": "points", "points_per_winner": -1}, "points_per_winner"),
    ({"collective_scoring": "points", "points_per_winner": None}, "points_per_winner"),
    ({"collective_scoring": "points", "points_per_winner": 101}, "points_per_winner"),
])
def test_bad_settings_are_refused_naming_the_field(make_round, people, settings, field):
    assert _refused(round_award(make_round().id, **settings), UNITS, people.admin).field == field


def test_the_points_formula_keeps_its_points_per_winner(make_round, people):
    award = structures.create_award(
        round_award(make_round().id, collective_scoring="points", points_per_winner=10), UNITS, people.admin)
    assert (award.collective_scoring, award.points_per_winner) == ("points", 10)


def test_a_change_writes_before_and_after_and_bumps_the_version(make_round, people):
    award = structures.create_award(round_award(make_round().id), WEEKLY, people.admin)
    first = award.tiers[0]
    changed = [replace(WEEKLY[0], value_vnd=2_000_000), WEEKLY[1], WEEKLY[2]]  # consolation prizes dropped
    structures.update_award(award, replace(round_award(award.round_id), title="Giải tuần 1"), changed,
                            people.organiser, seen_version=1)
    assert (award.title, award.version) == ("Giải tuần 1", 2)
    assert [(t.label, t.value_vnd) for t in award.tiers] == [
        ("Giải Nhất", 2_000_000), ("Giải Nhì", 500_000), ("Giải Ba", 300_000)]
    assert award.tiers[0] is first  # a prize that stays keeps its row (tie decisions refer to it)
    event = award.events[-1]
    assert (event.action, event.actor_id) == ("changed", people.organiser.id)
    assert len(event.detail["before"]["tiers"]) == 4 and len(event.detail["after"]["tiers"]) == 3
    assert event.detail["before"]["title"] != event.detail["after"]["title"] == "Giải tuần 1"
    structures.update_award(award, replace(round_award(award.round_id), title="Giải tuần 1"), changed, people.admin)
    assert award.version == 2 and len(award.events) == 2  # nothing changed: no event


def test_the_owner_of_an_award_never_changes(make_round, people):
    award = structures.create_award(round_award(make_round().id), WEEKLY, people.admin)
    other = make_round(title="Đợt khác")
    structures.update_award(award, round_award(other.id), WEEKLY, people.admin)
    assert award.round_id != other.id


def test_a_bad_change_changes_nothing(make_round, people):
    award = structures.create_award(round_award(make_round().id), WEEKLY, people.admin)
    before = (structures.snapshot(award), award.version, counts())
    with pytest.raises(ValidationError) as caught:
        structures.update_award(award, replace(round_award(award.round_id), title="Mới"),
                                [WEEKLY[0], replace(WEEKLY[1], count=0)], people.admin)
    assert (caught.value.field, caught.value.row) == ("tiers", 2)
    assert (structures.snapshot(award), award.version, counts()) == before


def test_an_approved_award_is_frozen(make_round, people):
    award = structures.create_award(round_award(make_round().id), WEEKLY, people.admin)
    for status in (AwardStatus.APPROVED, AwardStatus.PUBLISHED):
        award.status = status
        db.session.flush()
        with pytest.raises(ValidationError) as caught:
            structures.update_award(award, round_award(award.round_id), WEEKLY[:1], people.admin)
        assert "đã được phê duyệt" in caught.value.message and "mở lại" in caught.value.message
        assert len(award.tiers) == 4 and len(award.events) == 1


def test_a_stale_form_is_refused(make_round, people):
    award = structures.create_award(round_award(make_round().id), WEEKLY, people.admin)
    structures.update_award(award, round_award(award.round_id), WEEKLY[:2], people.admin, seen_version=1)
    with pytest.raises(ValidationError) as caught:
        structures.update_award(award, round_award(award.round_id), WEEKLY[:1], people.admin, seen_version=1)
    assert "vừa được người khác thay đổi" in caught.value.message
    assert len(award.tiers) == 2


def test_only_its_managers_change_an_award(make_round, people, tree):
    award = structures.create_award(round_award(make_round(scope_unit_id=tree.commune.id).id), WEEKLY, people.admin)
    with pytest.raises(PermissionDenied):
        structures.update_award(award, round_award(award.round_id), WEEKLY[:1], people.other_officer)
    structures.update_award(award, round_award(award.round_id), WEEKLY[:1], people.officer)
    assert len(award.tiers) == 1


def test_a_prize_with_a_tie_decision_cannot_be_dropped(make_round, people):
    award = structures.create_award(round_award(make_round().id), WEEKLY, people.admin)
    db.session.add(TieDecision(award=award, tier_id=award.tiers[3].id, tied=["p1", "p2"], decision="add",
                               reason="Bằng điểm, bằng thời gian", actor_id=people.admin.id))
    db.session.flush()
    with pytest.raises(ValidationError) as caught:
        structures.update_award(award, round_award(award.round_id), WEEKLY[:3], people.admin)
    assert "Giải Khuyến khích" in caught.value.message
    structures.update_award(award, round_award(award.round_id), [*WEEKLY[:3], replace(WEEKLY[3], count=6)],
                            people.admin)
    assert award.tiers[3].count == 6


# --- presets -------------------------------------------------------------------------------------


def test_presets_follow_vietnamese_practice_and_say_what_they_give():
    names = {p.name: p for p in presets.presets()}
    assert {"weekly_individual", "collective_rate", "collective_participants", "collective_points",
            "team_round", "emulation_quarter", "emulation_year"} <= set(names)
    assert all(str(p.title) and str(p.description) for p in names.values())
    weekly = names["weekly_individual"]
    assert [(t.label, t.count, t.value_vnd) for t in weekly.tiers] == [
        ("Giải Nhất", 1, 1_000_000), ("Giải Nhì", 2, 500_000), ("Giải Ba", 3, 300_000),
        ("Giải Khuyến khích", 5, 200_000)]
    assert [p.name for p in presets.presets("emulation")] == ["emulation_quarter", "emulation_year"]
    assert "weekly_individual" not in {p.name for p in presets.presets("emulation")}


def test_a_preset_fills_the_input_and_is_editable_before_saving(make_round, people):
    data, tiers = presets.apply_preset("weekly_individual", replace(round_award(make_round().id), title="Tuần 3"))
    assert data.title == "Tuần 3" and data.owner == "round"
    tiers[3] = replace(tiers[3], count=8)  # eight consolation prizes this week
    award = structures.create_award(data, tiers, people.admin)
    assert [t.count for t in award.tiers] == [1, 2, 3, 8]


def test_the_collective_and_team_presets_save_with_their_settings(make_round, people, tree):
    round_ = make_round()
    data, tiers = presets.apply_preset("collective_points", round_award(round_.id))
    award = structures.create_award(data, tiers, people.admin)
    assert (award.collective_scoring, award.points_per_winner, {t.audience for t in award.tiers}) == (
        "points", 5, {"unit"})
    data, tiers = presets.apply_preset("team_round", round_award(make_round().id))
    assert structures.create_award(data, tiers, people.admin).min_participation == 0.5
    data, tiers = presets.apply_preset("emulation_year", emulation_award(tree.commune.id, period="2026"))
    award = structures.create_award(data, tiers, people.admin)
    assert (award.min_band, [t.count for t in award.tiers]) == ("Hoàn thành tốt", [1, 2, 3, 5])


def test_an_unknown_or_unsuitable_preset_is_refused(make_round, tree):
    with pytest.raises(ValidationError) as caught:
        presets.apply_preset("lottery", round_award(1))
    assert caught.value.field == "preset"
    with pytest.raises(ValidationError) as caught:
        presets.apply_preset("emulation_quarter", round_award(1))
    assert caught.value.field == "preset" and "không dùng cho" in caught.value.message
    with pytest.raises(ValidationError):
        presets.apply_preset("weekly_individual", emulation_award(tree.commune.id))


def test_applying_a_preset_shares_nothing_between_uses():
    data, tiers = presets.apply_preset("emulation_quarter", AwardInput("", "emulation"))
    data.settings.min_band = None
    tiers[0].count = 99
    again, fresh = presets.apply_preset("emulation_quarter", AwardInput("", "emulation"))
    assert (again.settings.min_band, fresh[0].count) == ("Hoàn thành tốt", 1)


def test_a_title_may_be_typed_and_is_checked(make_round, people):
    long_round = make_round(title="T" * 200)
    assert len(structures.create_award(round_award(long_round.id), WEEKLY, people.admin).title) == 200
    error = _refused(replace(round_award(make_round().id), title="G" * 201), WEEKLY, people.admin)
    assert error.field == "title" and "200" in error.message
