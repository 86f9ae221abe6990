"""Round management screens (/rounds): lists per role, the round and series forms in local time,
messages under the field at fault, publishing, the frozen edit, scope."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from competitions import rounds
from competitions.models import Round, RoundStatus, Series
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.extensions import db
from quiz import attempts
from tests.factories import field_errors, flashes


def _form(scope_id: int, **changes: object) -> dict[str, object]:
    """A valid round form as a browser sends it (all six plan rows): week 1 of 2027 typed in local
    time, 3 questions of any category."""
    rows = {f"draw_plan-{i}-{name}": value for i in range(6)
            for name, value in (("count", ""), ("category_id", "0"), ("difficulty", ""))}
    data: dict[str, object] = {
        **rows,
        "title": "Tuần 1 (04/01–10/01/2027)", "period_kind": "weekly",
        "opens_at": "2027-01-04T00:00", "closes_at": "2027-01-10T23:59", "scope_unit_id": scope_id,
        "draw_plan-0-count": "3", "draw_plan-0-category_id": "0", "draw_plan-0-difficulty": "",
        "time_limit_minutes": "10", "attempt_policy": "once", "max_attempts": "3",
        "prediction_kind": "participants", "prediction_question": "",
        "tie_breaks-0": "score", "tie_breaks-1": "prediction", "tie_breaks-2": "duration", "tie_breaks-3": "",
        "reveal": "after_close", "team_scoring": "active_mean", "best_k": "3", "description": "", "action": "save",
    }
    data.update(changes)
    return data


def _count(model: type = Round) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def organiser(make, tree):
    return make.user(RoleCode.ORGANISER, tree.province, full_name="Tỉnh đoàn")


@pytest.fixture
def bank3(quiz):
    return [quiz.question(text=f"Câu hỏi {n}?") for n in range(3)]


def test_every_signed_in_user_finds_rounds_in_the_menu(client, login, make, tree):
    login(make.member(make.team(tree.hamlet)).user)
    page = client.get("/").get_data(as_text=True)
    assert page.count('href="/rounds/"') == 2  # the menu and the home tile


def test_members_see_the_rounds_they_may_take_with_a_link_to_the_round_page(client, login, make, tree, make_round):
    now = utcnow()
    member = make.member(make.team(tree.hamlet)).user
    open_round = make_round(title="Tuần 48", scope_unit_id=tree.commune.id)
    upcoming = make_round(title="Tuần 49", opens_at=now + timedelta(days=6), closes_at=now + timedelta(days=13))
    make_round(title="Phường bên cạnh", scope_unit_id=tree.other_commune.id)
    page = login(member).get("/rounds/").get_data(as_text=True)
    assert f'href="/rounds/{open_round.id}"' in page and f'href="/rounds/{upcoming.id}"' in page
    assert "Đang mở" in page and "Sắp mở" in page and "Phường bên cạnh" not in page
    assert "Tạo đợt thi" not in page


def test_staff_list_shows_phase_status_and_the_actions_they_may_take(client, login, make, tree, make_round):
    officer = make.user(RoleCode.OFFICER, tree.commune)
    province = make_round(title="Đợt của tỉnh")
    draft = make_round(title="Đợt của xã", scope_unit_id=tree.commune.id, status=RoundStatus.DRAFT)
    page = login(officer).get("/rounds/").get_data(as_text=True)
    assert "Đợt của tỉnh" in page and "Đợt của xã" in page and "Bản nháp" in page and "Đang mở" in page
    assert f"/rounds/{draft.id}/publish" in page and f"/rounds/{draft.id}/edit" in page
    assert f"/rounds/{province.id}/edit" not in page and "Cấp trên tổ chức" in page
    closed_only = client.get("/rounds/?phase=closed").get_data(as_text=True)
    assert "Đợt của tỉnh" not in closed_only and "Chưa có đợt thi nào" in closed_only


def test_create_a_round_typed_in_local_time(client, login, organiser, tree, bank3):
    login(organiser)
    response = client.post("/rounds/new", data=_form(tree.province.id, opens_at="06/01/2027 00:00",
                                                     closes_at="2027-01-12T23:59", action="publish"))
    assert response.status_code == 302, flashes(response.get_data(as_text=True))
    round_ = db.session.scalar(select(Round))
    assert round_.opens_at == datetime(2027, 1, 5, 17, tzinfo=UTC)  # 06/01/2027 00:00 in Việt Nam
    assert round_.closes_at == datetime(2027, 1, 12, 17, tzinfo=UTC)  # open through Tuesday 12/01 23:59
    assert round_.status == RoundStatus.PUBLISHED and round_.created_by_id == organiser.id
    assert round_.prediction_question == "Có bao nhiêu người tham gia đợt thi này?"
    assert round_.tie_breaks == ["score", "prediction", "duration"]
    page = client.get(f"/rounds/{round_.id}/edit").get_data(as_text=True)
    assert 'value="2027-01-06T00:00"' in page and 'value="2027-01-12T23:59"' in page
    assert "06/01/2027 00:00 – 12/01/2027 23:59" in client.get("/rounds/").get_data(as_text=True)


def test_the_new_round_form_starts_with_two_questions_of_each_category(client, login, organiser):
    page = login(organiser).get("/rounds/new").get_data(as_text=True)
    assert page.count('value="2"') >= 5 and 'name="draw_plan-5-count"' in page
    assert 'type="datetime-local"' in page


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"closes_at": "2027-01-03T23:59"}, "closes_at", "Thời gian đóng phải sau thời gian mở."),
    ({"opens_at": "31/02/2027 00:00"}, "opens_at", "Thời gian không hợp lệ"),
    ({"opens_at": ""}, "opens_at", "Chưa nhập thời gian mở."),
    ({"time_limit_minutes": "200"}, "time_limit_minutes", "Thời gian làm bài phải từ 1 đến 180 phút."),
    ({"time_limit_minutes": "mười"}, "time_limit_minutes", "Hãy nhập một số nguyên."),
    ({"attempt_policy": "best_of_n", "max_attempts": "1"}, "max_attempts", "Số lượt tối đa phải từ 2 đến 10."),
    ({"draw_plan-0-count": ""}, "draw_plan", "Chưa có câu hỏi nào"),
    ({"draw_plan-1-count": "2", "draw_plan-1-category_id": "999999"}, "draw_plan-1",
     "Dòng 2: Lĩnh vực không tồn tại hoặc đã ngừng dùng."),
    ({"draw_plan-2-category_id": "1"}, "draw_plan-2", "Dòng 3: Số câu phải từ 1 đến 100."),
    ({"tie_breaks-0": "duration", "tie_breaks-1": "score", "tie_breaks-2": ""}, "tie_breaks",
     "Tiêu chí xếp hạng đầu tiên phải là điểm."),
    ({"team_scoring": "best_k", "best_k": "0"}, "best_k", "K phải từ 1 đến 10"),
    ({"title": ""}, "title", "Chưa nhập tên đợt thi."),
])
def test_bad_input_shows_under_its_field_and_writes_nothing(client, login, organiser, tree, bank3,
                                                             changes, field, message):
    response = login(organiser).post("/rounds/new", data=_form(tree.province.id, **changes))
    assert response.status_code == 200
    errors = field_errors(response.get_data(as_text=True), field)
    assert any(message in error for error in errors), errors
    assert _count() == 0


def test_staff_cannot_create_rounds_outside_their_scope(client, login, make, tree, bank3):
    officer = make.user(RoleCode.OFFICER, tree.commune)
    page = login(officer).get("/rounds/new").get_data(as_text=True)
    scope = re.search(r'<select[^>]* id="scope_unit_id".*?</select>', page, flags=re.S)[0]
    assert f'value="{tree.commune.id}">Xã Châu Thành' in scope and "Tỉnh An Giang" not in scope
    response = client.post("/rounds/new", data=_form(tree.province.id))
    assert "nằm ngoài phạm vi của bạn" in field_errors(response.get_data(as_text=True), "scope_unit_id")[0]
    assert _count() == 0
    assert client.post("/rounds/new", data=_form(tree.commune.id)).status_code == 302


def test_publishing_with_too_few_questions_names_what_is_missing(client, login, organiser, tree, bank3, quiz):
    kinh_te = quiz.category("Kinh tế số").id
    plan = {"draw_plan-1-count": "2", "draw_plan-1-category_id": str(kinh_te)}
    login(organiser)
    response = client.post("/rounds/new", data=_form(tree.province.id, action="publish", **plan))
    errors = field_errors(response.get_data(as_text=True), "draw_plan")
    assert errors == ["Chưa thể công bố vì ngân hàng chưa đủ câu hỏi: "
                      "2 câu · Kinh tế số · mọi mức độ: ngân hàng chỉ có 0 câu đã duyệt."]
    assert _count() == 0
    # saved as a draft instead, with the same warning
    response = client.post("/rounds/new", data=_form(tree.province.id, **plan), follow_redirects=True)
    assert "Kinh tế số" in flashes(response.get_data(as_text=True), "warning")[0]
    round_ = db.session.scalar(select(Round))
    assert round_.status == RoundStatus.DRAFT
    client.post(f"/rounds/{round_.id}/publish")
    assert round_.status == RoundStatus.DRAFT


def test_publish_and_unpublish_until_the_first_attempt(client, login, make, organiser, make_round):
    round_ = make_round(status=RoundStatus.DRAFT)
    login(organiser)
    client.post(f"/rounds/{round_.id}/publish")
    assert round_.status == RoundStatus.PUBLISHED
    client.post(f"/rounds/{round_.id}/unpublish")
    assert round_.status == RoundStatus.DRAFT
    client.post(f"/rounds/{round_.id}/publish")
    attempts.start(make.user(), round_.context, rounds.plan_rules(round_), utcnow() + timedelta(minutes=10))
    assert f"/rounds/{round_.id}/unpublish" not in client.get("/rounds/").get_data(as_text=True)
    response = client.post(f"/rounds/{round_.id}/unpublish", follow_redirects=True)
    assert "không thể hủy công bố" in flashes(response.get_data(as_text=True))[0]
    assert round_.status == RoundStatus.PUBLISHED


def test_a_frozen_round_only_takes_a_new_title_and_description(client, login, make, organiser, make_round):
    round_ = make_round()
    attempts.start(make.user(), round_.context, rounds.plan_rules(round_), utcnow() + timedelta(minutes=10))
    login(organiser)
    page = client.get(f"/rounds/{round_.id}/edit").get_data(as_text=True)
    assert "chỉ sửa được tên và mô tả" in page
    assert 'name="time_limit_minutes"' not in page and 'name="draw_plan-0-count"' not in page
    assert "3 câu · mọi lĩnh vực · mọi mức độ" in page  # the rules shown read-only
    response = client.post(f"/rounds/{round_.id}/edit", data={
        "title": "Tuần 48 (đã sửa tên)", "description": "Thể lệ chi tiết", "time_limit_minutes": "25",
    })
    assert response.status_code == 302
    assert (round_.title, round_.description, round_.time_limit_seconds) == (
        "Tuần 48 (đã sửa tên)", "Thể lệ chi tiết", 600)


def test_editing_before_any_attempt_changes_the_rules(client, login, organiser, tree, make_round):
    round_ = make_round(status=RoundStatus.DRAFT)
    login(organiser)
    response = client.post(f"/rounds/{round_.id}/edit", data=_form(
        tree.commune.id, time_limit_minutes="25", attempt_policy="best_of_n", max_attempts="3", action="publish",
    ))
    assert response.status_code == 302
    assert (round_.time_limit_seconds, round_.max_attempts, round_.scope_unit_id) == (1500, 3, tree.commune.id)
    assert round_.status == RoundStatus.PUBLISHED


def test_staff_outside_the_scope_are_refused(client, login, make, tree, make_round):
    round_ = make_round(scope_unit_id=tree.commune.id, status=RoundStatus.DRAFT)
    login(make.user(RoleCode.OFFICER, tree.other_commune))
    assert client.get(f"/rounds/{round_.id}/edit").status_code == 403
    assert client.post(f"/rounds/{round_.id}/publish").status_code == 403
    assert round_.status == RoundStatus.DRAFT


def test_create_a_weekly_season_and_see_its_rounds(client, login, make, organiser, tree, bank3):
    login(organiser)
    data = _form(tree.province.id, period_kind="weekly", year="2027", quarter="1", title="", action="publish")
    response = client.post("/rounds/series/new", data=data)
    series = db.session.scalar(select(Series))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/rounds/series/{series.id}")
    assert len(series.rounds) == 13 and all(r.status == RoundStatus.PUBLISHED for r in series.rounds)
    page = client.get(f"/rounds/series/{series.id}").get_data(as_text=True)
    assert "Thi tuần – Quý 1/2027" in page and "Tuần 1 (04/01–10/01/2027)" in page
    assert "Tuần 13 (29/03–04/04/2027)" in page and "04/01/2027 00:00 – 10/01/2027 23:59" in page
    again = client.post("/rounds/series/new", data=data)
    assert "đã có mùa thi" in field_errors(again.get_data(as_text=True), "year")[0]
    assert _count(Series) == 1

    elsewhere = make.user(RoleCode.OFFICER, tree.other_commune)
    member = make.member(make.team(tree.hamlet)).user
    for user, status in ((elsewhere, 200), (member, 403)):  # below the province: staff may look
        client.post("/logout")
        login(user)
        assert client.get(f"/rounds/series/{series.id}").status_code == status


def test_a_season_form_with_bad_input_writes_nothing(client, login, organiser, tree, bank3):
    login(organiser)
    response = client.post("/rounds/series/new", data=_form(tree.province.id, year="2027", quarter="9"))
    assert field_errors(response.get_data(as_text=True), "quarter") == ["Hãy chọn quý (1 đến 4)."]
    assert _count(Series) == 0 and _count() == 0


def test_publish_a_whole_season_of_drafts(client, login, organiser, tree, bank3):
    login(organiser)
    client.post("/rounds/series/new", data=_form(tree.province.id, period_kind="monthly", year="2027", title=""))
    series = db.session.scalar(select(Series))
    assert series.title == "Thi tháng – Năm 2027"
    assert "Công bố 12 đợt còn là bản nháp" in client.get(f"/rounds/series/{series.id}").get_data(as_text=True)
    client.post(f"/rounds/series/{series.id}/publish")
    assert {r.status for r in series.rounds} == {RoundStatus.PUBLISHED}
