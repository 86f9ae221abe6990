"""Rules of rounds and series (competitions.rounds): local time, seasons, validation, scope,
publishing against the bank, freezing after the first attempt, phases, lists, the demo part."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from competitions import demo as rounds_demo
from competitions import rounds
from competitions.models import AttemptPolicy, PeriodKind, Round, RoundStatus, Series, TeamScoring
from competitions.rounds import Phase, RoundInput, SeriesInput, Settings
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.demo import PROVINCE
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from core.org.models import UnitKind
from core.timeutil import from_local, to_local
from quiz import attempts
from quiz.attempts import DrawRule
from quiz.models import Difficulty


def _z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _input(scope_id: int, **changes: object) -> RoundInput:
    """Week 1 of 2027 in local time: 3 questions of any category in 10 minutes."""
    settings = Settings(scope_unit_id=scope_id, draw_plan=[DrawRule(3)], time_limit_minutes=10)
    data = RoundInput("Tuần 1", from_local(datetime(2027, 1, 4)), from_local(datetime(2027, 1, 11)), settings,
                      PeriodKind.WEEKLY)
    settings_changes = {k: v for k, v in changes.items() if hasattr(settings, k)}
    return replace(data, settings=replace(settings, **settings_changes),
                   **{k: v for k, v in changes.items() if k not in settings_changes})


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def admin(make):
    return make.admin()


@pytest.fixture
def approved(quiz):
    """3 approved questions of Chính quyền số, 2 easy and 1 hard."""
    quiz.question(text="Câu dễ một?")
    quiz.question(text="Câu dễ hai?")
    quiz.question(text="Câu khó một?", difficulty=Difficulty.HARD)


# --- time ----------------------------------------------------------------------------------------


def test_local_times_are_stored_in_utc_and_read_back(session, tree, admin, approved):
    opens = from_local(datetime(2027, 1, 6, 0, 0))  # 06/01/2027 00:00 in Việt Nam
    round_ = rounds.create_round(_input(tree.province.id, opens_at=opens), admin)
    session.expire_all()
    stored = session.get(Round, round_.id)
    assert stored.opens_at == _z("2027-01-05T17:00:00")
    assert to_local(stored.opens_at).replace(tzinfo=None) == datetime(2027, 1, 6, 0, 0)
    # closing Monday 11/01 00:00 local is shown as its last open minute, Sunday 23:59
    closing = to_local(rounds.last_open_minute(stored.closes_at))
    assert (closing.date(), closing.hour, closing.minute) == (date(2027, 1, 10), 23, 59)
    assert rounds.closing_after(from_local(datetime(2027, 1, 10, 23, 59))) == stored.closes_at


def test_phase_follows_the_server_clock_with_an_exclusive_close(session, make_round):
    now = utcnow()
    round_ = make_round(opens_at=now + timedelta(minutes=1), closes_at=now + timedelta(hours=1))
    assert rounds.phase(round_, now) == Phase.UPCOMING
    assert rounds.phase(round_, round_.opens_at) == Phase.OPEN
    assert rounds.phase(round_, round_.closes_at - timedelta(microseconds=1)) == Phase.OPEN
    assert rounds.phase(round_, round_.closes_at) == Phase.CLOSED


# --- seasons -------------------------------------------------------------------------------------


def test_the_13_weekly_rounds_of_q1_2027_are_whole_weeks_that_tile_the_season(app):
    weeks = rounds.season(PeriodKind.WEEKLY, 2027, 1)
    assert len(weeks) == 13
    for week in weeks:
        opens, closes = to_local(week.opens_at), to_local(week.closes_at)
        assert opens.weekday() == 0 and opens.time().isoformat() == "00:00:00"  # Monday 00:00 local
        assert closes - opens == timedelta(days=7)
    assert all(a.closes_at == b.opens_at for a, b in zip(weeks, weeks[1:], strict=False))  # no gap, no overlap
    # a week belongs to the quarter of its Monday: 1 January 2027 is a Friday
    assert weeks[0].opens_at == _z("2027-01-03T17:00:00")  # Monday 04/01/2027 00:00 local
    assert weeks[0].title == "Tuần 1 (04/01–10/01/2027)"
    assert weeks[-1].title == "Tuần 13 (29/03–04/04/2027)"
    # consecutive seasons follow each other exactly
    assert rounds.season(PeriodKind.WEEKLY, 2026, 4)[-1].closes_at == weeks[0].opens_at
    assert rounds.season(PeriodKind.WEEKLY, 2027, 2)[0].opens_at == weeks[-1].closes_at
    assert rounds.season(PeriodKind.WEEKLY, 2026, 4)[-1].title == "Tuần 13 (28/12/2026–03/01/2027)"
    assert len(rounds.season(PeriodKind.WEEKLY, 2024, 3)) == 14  # 1 July 2024 was a Monday


def test_the_12_monthly_and_4_quarterly_rounds_follow_the_calendar(app):
    months = rounds.season(PeriodKind.MONTHLY, 2027)
    assert [m.title for m in months[:3]] == ["Tháng 1/2027", "Tháng 2/2027", "Tháng 3/2027"]
    assert len(months) == 12
    assert months[0].opens_at == _z("2026-12-31T17:00:00")
    assert to_local(months[1].closes_at).date() == date(2027, 3, 1)  # February ends with the 28th
    assert months[-1].closes_at == from_local(datetime(2028, 1, 1))
    assert all(a.closes_at == b.opens_at for a, b in zip(months, months[1:], strict=False))
    quarters = rounds.season(PeriodKind.QUARTERLY, 2027)
    assert [q.title for q in quarters] == ["Quý 1/2027", "Quý 2/2027", "Quý 3/2027", "Quý 4/2027"]
    assert to_local(quarters[1].opens_at).date() == date(2027, 4, 1)


def test_create_series_makes_the_whole_season_with_shared_settings(session, make, tree, admin, approved):
    settings = _input(tree.province.id, attempt_policy=AttemptPolicy.BEST_OF_N, max_attempts=3).settings
    series = rounds.create_series(SeriesInput(PeriodKind.WEEKLY, 2027, 1, settings), admin)
    assert series.title == "Thi tuần – Quý 1/2027"
    assert len(series.rounds) == 13
    assert {(r.status, r.max_attempts, r.period_kind, r.scope_unit_id) for r in series.rounds} == {
        (RoundStatus.DRAFT, 3, PeriodKind.WEEKLY, tree.province.id)
    }
    assert rounds.publish_series(series, admin) == 13
    assert all(r.status == RoundStatus.PUBLISHED for r in series.rounds)
    member = make.member(make.team(tree.hamlet)).user
    assert rounds.rounds_for(member, _z("2026-12-01T00:00:00")) == series.rounds[:1]  # the next one of the season

    with pytest.raises(ValidationError) as refused:
        rounds.create_series(SeriesInput(PeriodKind.WEEKLY, 2027, 1, settings), admin)
    assert refused.value.field == "year"
    monthly = rounds.create_series(SeriesInput(PeriodKind.MONTHLY, 2027, None, settings, "Thi tháng 2027"), admin,
                                   publish=True)
    assert len(monthly.rounds) == 12 and monthly.rounds[2].title == "Tháng 3/2027"


@pytest.mark.parametrize(("kind", "year", "quarter", "field"), [
    (PeriodKind.WEEKLY, 2027, 5, "quarter"),
    (PeriodKind.WEEKLY, 2027, None, "quarter"),
    (PeriodKind.MONTHLY, 1999, None, "year"),
    (PeriodKind.CUSTOM, 2027, None, "period_kind"),
])
def test_a_season_needs_a_kind_a_year_and_for_weeks_a_quarter(session, tree, admin, kind, year, quarter, field):
    with pytest.raises(ValidationError) as refused:
        rounds.create_series(SeriesInput(kind, year, quarter, _input(tree.province.id).settings), admin)
    assert refused.value.field == field
    assert _count(Series) == 0 and _count(Round) == 0


# --- validation ----------------------------------------------------------------------------------


def _bad_inputs(tree) -> list[tuple[dict[str, object], str, str]]:  # noqa: ANN001
    week = from_local(datetime(2027, 1, 4))
    return [
        ({"title": "  "}, "title", "Chưa nhập tên đợt thi"),
        ({"closes_at": week - timedelta(days=1)}, "closes_at", "Thời gian đóng phải sau thời gian mở"),
        ({"closes_at": week}, "closes_at", "Thời gian đóng phải sau thời gian mở"),
        ({"opens_at": None}, "opens_at", "Chưa nhập thời gian mở"),
        ({"closes_at": week + timedelta(minutes=5)}, "closes_at", "ngắn hơn thời gian làm bài"),
        ({"period_kind": "fortnightly"}, "period_kind", "loại đợt thi"),
        ({"draw_plan": []}, "draw_plan", "Chưa có câu hỏi nào"),
        ({"draw_plan": [DrawRule(0)]}, "draw_plan", "Số câu phải từ 1 đến 100"),
        ({"draw_plan": [DrawRule(2), DrawRule(1, 999_999)]}, "draw_plan", "Lĩnh vực không tồn tại"),
        ({"draw_plan": [DrawRule(2, None, "very hard")]}, "draw_plan", "Mức độ không hợp lệ"),
        ({"draw_plan": [DrawRule(60), DrawRule(60)]}, "draw_plan", "nhiều hơn mức tối đa 100"),
        ({"time_limit_minutes": 0}, "time_limit_minutes", "từ 1 đến 180 phút"),
        ({"time_limit_minutes": 181}, "time_limit_minutes", "từ 1 đến 180 phút"),
        ({"time_limit_minutes": None}, "time_limit_minutes", "từ 1 đến 180 phút"),
        ({"attempt_policy": AttemptPolicy.BEST_OF_N, "max_attempts": 1}, "max_attempts", "từ 2 đến 10"),
        ({"attempt_policy": "sometimes"}, "attempt_policy", "cách tính lượt thi"),
        ({"prediction_kind": "weather"}, "prediction_kind", "dự đoán không hợp lệ"),
        ({"prediction_kind": "participants", "prediction_question": "?" * 301}, "prediction_question", "300"),
        ({"tie_breaks": ["duration", "score"]}, "tie_breaks", "đầu tiên phải là điểm"),
        ({"tie_breaks": ["score", "duration", "duration"]}, "tie_breaks", "chỉ chọn một lần"),
        ({"tie_breaks": ["score", "luck"]}, "tie_breaks", "không hợp lệ"),
        ({"reveal": "never"}, "reveal", "công bố đáp án"),
        ({"team_scoring": TeamScoring.BEST_K, "best_k": 11}, "best_k", "K phải từ 1 đến 10"),
        ({"scope_unit_id": None}, "scope_unit_id", "Hãy chọn phạm vi"),
        ({"scope_unit_id": tree.hamlet.id}, "scope_unit_id", "không phải ấp"),
        ({"description": "x" * 2001}, "description", "2000"),
    ]


def test_bad_input_is_refused_per_field_and_writes_nothing(session, tree, admin, approved):
    for changes, field, message in _bad_inputs(tree):
        with pytest.raises(ValidationError) as refused:
            rounds.create_round(_input(tree.province.id, **changes), admin)
        assert (refused.value.field, message in refused.value.message) == (field, True), changes
    assert _count(Round) == 0


def test_valid_input_is_normalised(session, tree, admin):
    round_ = rounds.create_round(_input(
        tree.province.id, title="  Tuần   1 ", attempt_policy=AttemptPolicy.DAILY_BEST, max_attempts=7,
        prediction_kind="perfect_scores", team_scoring=TeamScoring.BEST_K, best_k=5,
    ), admin)
    assert round_.title == "Tuần 1"
    assert (round_.attempt_policy, round_.max_attempts) == (AttemptPolicy.DAILY_BEST, 1)
    assert round_.prediction_question.startswith("Có bao nhiêu người trả lời đúng tất cả")
    assert (round_.time_limit_seconds, round_.best_k, round_.status) == (600, 5, RoundStatus.DRAFT)
    assert round_.draw_plan == [{"count": 3, "category_id": None, "difficulty": None}]


# --- scope ---------------------------------------------------------------------------------------


def test_who_may_create_rounds_for_which_unit(session, make, tree, admin):
    organiser = make.user(RoleCode.ORGANISER, tree.province)
    commune_organiser = make.user(RoleCode.ORGANISER, tree.commune)
    officer = make.user(RoleCode.OFFICER, tree.commune)
    allowed = [
        (admin, tree.province), (admin, tree.other_commune), (organiser, tree.province),
        (organiser, tree.district_commune), (commune_organiser, tree.commune), (officer, tree.commune),
    ]
    for actor, unit in allowed:
        assert rounds.create_round(_input(unit.id), actor).scope_unit_id == unit.id
    for actor, unit in [(officer, tree.province), (officer, tree.other_commune), (commune_organiser, tree.district)]:
        with pytest.raises(ValidationError) as refused:
            rounds.create_round(_input(unit.id), actor)
        assert refused.value.field == "scope_unit_id" and "ngoài phạm vi" in refused.value.message
    member = make.member(make.team(tree.hamlet)).user
    with pytest.raises(PermissionDenied):
        rounds.create_round(_input(tree.commune.id), member)
    assert _count(Round) == len(allowed)


def test_staff_outside_the_scope_cannot_change_a_round(session, make, tree, make_round):
    round_ = make_round(scope_unit_id=tree.commune.id, status=RoundStatus.DRAFT)
    elsewhere = make.user(RoleCode.OFFICER, tree.other_commune)
    for change in (lambda: rounds.publish(round_, elsewhere), lambda: rounds.unpublish(round_, elsewhere),
                   lambda: rounds.update_round(round_, rounds.round_input(round_), elsewhere)):
        with pytest.raises(PermissionDenied):
            change()
    assert round_.status == RoundStatus.DRAFT


# --- publishing and freezing ---------------------------------------------------------------------


def test_publishing_is_refused_while_the_bank_cannot_fill_the_plan(session, quiz, tree, admin, approved):
    kinh_te = quiz.category("Kinh tế số")
    plan = [DrawRule(2, None, Difficulty.HARD), DrawRule(2, kinh_te.id)]
    round_ = rounds.create_round(_input(tree.province.id, draw_plan=plan), admin)  # a draft may wait
    with pytest.raises(ValidationError) as refused:
        rounds.publish(round_, admin)
    message = refused.value.message
    assert refused.value.field == "draw_plan"
    assert "2 câu · mọi lĩnh vực · Khó: ngân hàng chỉ có 1 câu đã duyệt" in message
    assert "2 câu · Kinh tế số · mọi mức độ: ngân hàng chỉ có 0 câu đã duyệt" in message
    assert round_.status == RoundStatus.DRAFT and round_.published_at is None
    with pytest.raises(ValidationError):  # nor created published
        rounds.create_round(_input(tree.province.id, draw_plan=plan), admin, publish=True)
    assert _count(Round) == 1

    quiz.question(text="Câu khó hai?", difficulty=Difficulty.HARD)
    quiz.question(text="Câu kinh tế một?", category_id=kinh_te.id)
    quiz.question(text="Câu kinh tế hai?", category_id=kinh_te.id)
    assert rounds.publish(round_, admin).status == RoundStatus.PUBLISHED
    assert round_.published_at is not None


def test_a_published_round_keeps_a_drawable_plan_when_edited(session, tree, admin, make_round):
    round_ = make_round(actor=admin)
    data = rounds.round_input(round_)
    with pytest.raises(ValidationError) as refused:
        rounds.update_round(round_, replace(data, settings=replace(data.settings, draw_plan=[DrawRule(4)])), admin)
    assert refused.value.field == "draw_plan" and "chỉ có 3 câu" in refused.value.message
    rounds.update_round(round_, replace(data, title="Tuần 2", settings=replace(data.settings, time_limit_minutes=15)),
                        admin)
    assert (round_.title, round_.time_limit_seconds) == ("Tuần 2", 900)
    assert rounds.unpublish(round_, admin).status == RoundStatus.DRAFT


def _start_attempt(make, round_: Round) -> None:
    attempts.start(make.user(), round_.context, rounds.plan_rules(round_), utcnow() + timedelta(minutes=10))


def test_after_the_first_attempt_only_title_and_description_change(session, make, admin, make_round):
    round_ = make_round(actor=admin, time_limit_minutes=10)
    other = make_round(actor=admin)
    assert not rounds.is_frozen(round_)
    _start_attempt(make, round_)
    assert rounds.is_frozen(round_) and not rounds.is_frozen(other)
    assert rounds.started_round_ids([round_.id, other.id]) == {round_.id}

    data = rounds.round_input(round_)
    changes = [
        ({"settings": replace(data.settings, draw_plan=[DrawRule(2)])}, "draw_plan"),
        ({"settings": replace(data.settings, time_limit_minutes=20)}, "time_limit_minutes"),
        ({"closes_at": data.closes_at + timedelta(days=1)}, "closes_at"),
        ({"settings": replace(data.settings, tie_breaks=["score"])}, "tie_breaks"),
    ]
    for change, field in changes:
        with pytest.raises(ValidationError) as refused:
            rounds.update_round(round_, replace(data, title="Đổi tên", **change), admin)
        assert refused.value.field == field and "chỉ sửa được tên và mô tả" in refused.value.message
    assert round_.title == "Đợt thi mẫu" and round_.time_limit_seconds == 600

    rounds.update_round(round_, replace(data, title="Tuần 1 – sửa tên",
                                        settings=replace(data.settings, description="Thể lệ mới")), admin)
    assert (round_.title, round_.description) == ("Tuần 1 – sửa tên", "Thể lệ mới")
    with pytest.raises(ValidationError, match="không thể hủy công bố"):
        rounds.unpublish(round_, admin)
    assert round_.status == RoundStatus.PUBLISHED


# --- lists ---------------------------------------------------------------------------------------


def test_members_see_open_and_upcoming_rounds_of_their_area(session, make, tree, make_round):
    now = utcnow()
    member = make.member(make.team(tree.hamlet)).user
    province = make_round(title="Tỉnh")
    commune = make_round(title="Xã", scope_unit_id=tree.commune.id, opens_at=now + timedelta(days=1),
                         closes_at=now + timedelta(days=2))
    make_round(title="Xã bên cạnh", scope_unit_id=tree.other_commune.id)
    make_round(title="Nháp", scope_unit_id=tree.commune.id, status=RoundStatus.DRAFT)
    make_round(title="Đã đóng", opens_at=now - timedelta(days=8), closes_at=now - timedelta(days=1))
    public = make_round(title="Công khai", scope_unit_id=tree.commune.id, allow_public=True)
    # open ones first (by opening), then the upcoming one
    assert rounds.rounds_for(member, now) == [province, public, commune]

    guest = make.user(RoleCode.MEMBER, tree.hamlet2)  # no team: public rounds of where they live only
    assert rounds.rounds_for(guest, now) == [public]
    assert rounds.rounds_for(make.user(RoleCode.MEMBER, tree.other_hamlet), now) == []


def test_staff_see_their_scope_and_the_published_rounds_above(session, make, tree, make_round):
    now = utcnow()
    officer = make.user(RoleCode.OFFICER, tree.commune)
    make_round(title="Tỉnh")
    make_round(title="Tỉnh, nháp", status=RoundStatus.DRAFT)
    make_round(title="Xã, nháp", scope_unit_id=tree.commune.id, status=RoundStatus.DRAFT,
               opens_at=now + timedelta(days=1), closes_at=now + timedelta(days=8))
    make_round(title="Xã, đã đóng", scope_unit_id=tree.commune.id, opens_at=now - timedelta(days=8),
               closes_at=now - timedelta(days=1))
    make_round(title="Xã bên cạnh", scope_unit_id=tree.other_commune.id)
    seen = list(session.scalars(rounds.staff_rounds(officer, now)))
    assert [r.title for r in seen] == ["Tỉnh", "Xã, nháp", "Xã, đã đóng"]  # open, upcoming, closed
    assert [r.title for r in session.scalars(rounds.staff_rounds(officer, now, Phase.CLOSED))] == ["Xã, đã đóng"]
    assert len(list(session.scalars(rounds.staff_rounds(make.admin(), now)))) == 5
    with pytest.raises(PermissionDenied):
        rounds.staff_rounds(make.user(RoleCode.MEMBER, tree.hamlet), now)


# --- demo ----------------------------------------------------------------------------------------


def test_the_demo_part_waits_for_the_bank_then_opens_this_week_and_this_month(session, make, quiz):
    province = make.unit(PROVINCE, UnitKind.PROVINCE)
    make.user(RoleCode.ORGANISER, province, username=rounds_demo.HOST)
    rounds_demo.DEMO_ROUNDS.build(random.Random(0))
    assert not rounds_demo.DEMO_ROUNDS.present() and _count(Round) == 0  # no questions yet

    from quiz import bank

    for category in bank.categories():
        for n in range(rounds_demo.MONTHLY_PER_CATEGORY):
            quiz.question(text=f"{category.name}: câu {n}?", category_id=category.id)
    rounds_demo.DEMO_ROUNDS.build(random.Random(0))
    assert rounds_demo.DEMO_ROUNDS.present()

    now = utcnow()
    series = session.scalar(select(Series))
    assert series.scope_unit_id == province.id and len(series.rounds) in (13, 14)
    current = [r for r in series.rounds if rounds.phase(r, now) == Phase.OPEN]
    assert len(current) == 1
    week = current[0]
    assert (week.status, week.attempt_policy, week.time_limit_seconds) == (RoundStatus.PUBLISHED, "once", 600)
    assert sum(rule["count"] for rule in week.draw_plan) == 10 and len(week.draw_plan) == 5
    assert week.prediction_question == "Có bao nhiêu người tham gia đợt thi này?"
    month = session.scalar(select(Round).where(Round.series_id.is_(None)))
    assert rounds.phase(month, now) == Phase.OPEN and month.status == RoundStatus.PUBLISHED
    assert (month.attempt_policy, month.max_attempts, month.period_kind) == ("best_of_n", 3, "monthly")
    today = rounds.local_today()
    assert month.title == f"Tháng {today.month}/{today.year}"
