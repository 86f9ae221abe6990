"""Prize structure screens (/awards): the list, choosing the owner, the form with prize rows and
presets, errors shown on their row or field with nothing saved, the frozen award, scope."""

from __future__ import annotations

import html
import re

import pytest

from competitions.prizes import structures
from competitions.prizes.models import Award, AwardStatus
from competitions.prizes.structures import TierInput
from core.extensions import db
from tests.competitions.prizes.worlds_structures import WEEKLY, counts, emulation_award, round_award, season, staff
from tests.factories import field_errors, flashes

ROWS = 8
TEAM_ROW = [TierInput("team", "Giải Nhất", 1)]


@pytest.fixture
def people(make, tree):
    return staff(make, tree)


def _form(owner: dict[str, object], rows: list[tuple[str, str, str, str]], **changes: object) -> dict[str, object]:
    """The form as a browser sends it: every prize row (the empty ones too) and the settings."""
    data: dict[str, object] = {"owner": "", "round_id": "", "series_id": "", "period": "", "scope_unit_id": "",
                               "version": "", **owner, "title": "", "exclude_staff": "y", "series_rule": "highest",
                               "min_participation": "", "min_band": "", "collective_scoring": "participation_rate",
                               "points_per_winner": "5"}
    for i in range(ROWS):
        audience, label, count, value = rows[i] if i < len(rows) else ("individual", "", "", "")
        data.update({f"tiers-{i}-audience": audience, f"tiers-{i}-title": label, f"tiers-{i}-count": count,
                     f"tiers-{i}-value_vnd": value})
    data.update(changes)
    return data


GOOD_ROWS = [("individual", "Giải Nhất", "1", "1.000.000"), ("individual", "Giải Nhì", "2", "500,000"),
             ("individual", "Giải Ba", "3", "300000")]


def _row_errors(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<p class="error" id="tiers-\d+-error" role="alert">(.*?)</p>', page)]


def test_staff_find_the_awards_and_members_are_refused(client, login, make, make_round, people, tree):
    award = structures.create_award(round_award(make_round(title="Tuần 2").id), WEEKLY, people.admin)
    page = login(people.organiser).get("/awards/").get_data(as_text=True)
    assert award.title in page and "Đợt thi: Tuần 2" in page and "1 Giải Nhất (cá nhân)" in page
    assert f'href="/awards/{award.id}/review"' in page and f'href="/awards/{award.id}/edit"' in page
    assert "Đang xét" in page
    page = client.get("/awards/?status=approved").get_data(as_text=True)
    assert award.title not in page and "Chưa có giải thưởng nào." in page
    client.post("/logout")
    login(people.other_officer)
    assert award.title not in client.get("/awards/").get_data(as_text=True)
    client.post("/logout")
    login(make.member(make.team(tree.hamlet)).user)
    assert client.get("/awards/").status_code == 403
    assert client.get("/awards/new").status_code == 403


def test_choosing_what_a_new_award_is_for(client, login, make_round, people, tree):
    mine = make_round(title="Tuần của xã", scope_unit_id=tree.commune.id)
    make_round(title="Tuần của tỉnh")
    page = login(people.officer).get("/awards/new").get_data(as_text=True)
    assert "Tuần của xã" in page and "Tuần của tỉnh" not in page  # only the rounds the officer manages
    assert 'name="period"' in page and "Xã Châu Thành" in page
    assert "Chưa có mùa thi nào trong phạm vi của bạn." in page
    page = client.get(f"/awards/new?round={mine.id}").get_data(as_text=True)
    assert "Đợt thi: Tuần của xã" in page and 'name="tiers-7-title"' in page  # eight rows to fill
    assert "Giải cá nhân hằng tuần" in page and "Giải tổ theo quý" not in page  # presets for a round


def test_a_preset_fills_the_form_and_the_saved_award_is_as_typed(client, login, make_round, people):
    round_ = make_round(title="Tuần 5")
    page = login(people.admin).get(f"/awards/new?round={round_.id}&preset=weekly_individual").get_data(as_text=True)
    assert 'value="Giải Khuyến khích"' in page and 'value="1.000.000"' in page
    response = client.post(f"/awards/new?round={round_.id}",
                           data=_form({"owner": "round", "round_id": round_.id}, GOOD_ROWS, title="Giải tuần 5"))
    assert response.status_code == 302
    award = db.session.query(Award).one()
    assert response.headers["Location"].endswith(f"/awards/{award.id}/edit")
    assert [(t.label, t.count, t.value_vnd) for t in award.tiers] == [
        ("Giải Nhất", 1, 1_000_000), ("Giải Nhì", 2, 500_000), ("Giải Ba", 3, 300_000)]
    assert award.title == "Giải tuần 5" and award.events[0].action == "created"
    page = client.get(f"/awards/{award.id}/edit").get_data(as_text=True)
    assert "Đã tạo cơ cấu giải “Giải tuần 5”." in flashes(page, "success")
    assert f'href="/awards/{award.id}/review"' in page


def test_an_unsuitable_preset_is_said_and_the_form_stays(client, login, make_round, people):
    round_ = make_round()
    page = login(people.admin).get(f"/awards/new?round={round_.id}&preset=emulation_year").get_data(as_text=True)
    assert "không dùng cho loại giải này" in page and 'name="tiers-0-title"' in page


@pytest.mark.parametrize(("rows", "changes", "row", "words"), [
    ([GOOD_ROWS[0], ("individual", "Giải Nhì", "0", "")], {}, 2, "Số lượng giải phải từ 1"),
    ([GOOD_ROWS[0], GOOD_ROWS[1], ("individual", "Giải Ba", "2", "-300.000")], {}, 3, "không được âm"),
    ([GOOD_ROWS[0], ("individual", "", "2", "")], {}, 2, "Chưa nhập tên giải"),
    ([GOOD_ROWS[0], ("individual", "giải nhất", "2", "")], {}, 2, "đã có ở dòng trên"),
    ([GOOD_ROWS[0], ("individual", "Giải Nhì", "hai", "")], {}, 2, "số nguyên"),
    ([GOOD_ROWS[0], ("individual", "Giải Nhì", "2", "năm trăm")], {}, 2, "chữ số"),
])
def test_a_bad_row_is_shown_on_its_row_and_nothing_is_saved(client, login, make_round, people, rows, changes,
                                                           row, words):
    round_ = make_round()
    before = counts()
    response = login(people.admin).post(f"/awards/new?round={round_.id}",
                                        data=_form({"owner": "round", "round_id": round_.id}, rows, **changes))
    assert response.status_code == 200 and counts() == before
    [message] = _row_errors(response.get_data(as_text=True))
    assert message.startswith(f"Dòng {row}: ") and words in message


def test_rows_are_numbered_as_on_screen_even_after_an_empty_row(client, login, make_round, people):
    round_ = make_round()
    rows = [GOOD_ROWS[0], ("individual", "", "", ""), ("individual", "Giải Ba", "-1", "")]
    page = login(people.admin).post(f"/awards/new?round={round_.id}",
                                    data=_form({"owner": "round", "round_id": round_.id}, rows)).get_data(as_text=True)
    assert _row_errors(page) == ["Dòng 3: Số lượng giải phải từ 1 đến 1000."]


def test_no_prize_and_bad_settings_are_shown_on_their_field(client, login, make_round, people, tree):
    round_ = make_round()
    login(people.admin)
    owner = {"owner": "round", "round_id": round_.id}
    page = client.post(f"/awards/new?round={round_.id}", data=_form(owner, [])).get_data(as_text=True)
    assert any("ít nhất một giải" in e for e in field_errors(page, "tiers"))
    rows = [("team", "Giải Nhất", "1", "")]
    page = client.post(f"/awards/new?round={round_.id}",
                       data=_form(owner, rows, min_participation="120")).get_data(as_text=True)
    assert field_errors(page, "min_participation") == ["Tỷ lệ tham gia tối thiểu phải từ 0 đến 100 (phần trăm)."]
    page = client.post(f"/awards/new?round={round_.id}",
                       data=_form(owner, GOOD_ROWS, collective_scoring="points", points_per_winner="-3")
                       ).get_data(as_text=True)
    assert "Điểm cho mỗi cá nhân" in field_errors(page, "points_per_winner")[0]
    assert counts() == (0, 0, 0)


def test_an_emulation_award_offers_the_schemes_bands(client, login, people, tree):
    login(people.officer)
    page = client.get(f"/awards/new?period=2026-Q4&unit={tree.commune.id}&preset=emulation_quarter"
                      ).get_data(as_text=True)
    assert "Kỳ thi đua: Quý 4/2026 · Xã Châu Thành" in page
    assert '<option selected value="Hoàn thành tốt">' in page or 'value="Hoàn thành tốt" selected' in page
    rows = [("team", "Giải Nhất", "1", ""), ("team", "Giải Nhì", "2", "")]
    owner = {"owner": "emulation", "period": "2026-Q4", "scope_unit_id": tree.commune.id}
    page = client.post("/awards/new?period=2026-Q4", data=_form(owner, rows, min_band="Xuất sắc lắm")
                       ).get_data(as_text=True)
    assert "không phải mức xếp loại" in field_errors(page, "min_band")[0]
    response = client.post("/awards/new?period=2026-Q4", data=_form(owner, rows, min_band="Hoàn thành tốt"))
    assert response.status_code == 302
    award = db.session.query(Award).one()
    assert (award.period, award.scope_unit_id, award.min_band) == ("2026-Q4", tree.commune.id, "Hoàn thành tốt")


def test_an_owner_outside_the_scope_is_said_on_top(client, login, make_round, people):
    round_ = make_round()  # the province's
    page = login(people.officer).post(f"/awards/new?round={round_.id}",
                                      data=_form({"owner": "round", "round_id": round_.id}, GOOD_ROWS)
                                      ).get_data(as_text=True)
    assert any("ngoài phạm vi" in f for f in flashes(page)) and counts() == (0, 0, 0)


def test_editing_saves_all_or_nothing_and_writes_a_change(client, login, make_round, people):
    award = structures.create_award(round_award(make_round().id), WEEKLY, people.admin)
    login(people.organiser)
    page = client.get(f"/awards/{award.id}/edit").get_data(as_text=True)
    assert 'value="Giải Khuyến khích"' in page and 'name="tiers-5-title"' in page  # its four rows and spare ones
    owner = {"owner": "round", "round_id": award.round_id, "version": award.version}
    bad = [GOOD_ROWS[0], ("individual", "Giải Nhì", "0", "")]
    page = client.post(f"/awards/{award.id}/edit", data=_form(owner, bad, title="Đổi tên")).get_data(as_text=True)
    assert _row_errors(page) == ["Dòng 2: Số lượng giải phải từ 1 đến 1000."]
    db.session.expire_all()
    assert len(award.tiers) == 4 and award.title != "Đổi tên" and len(award.events) == 1
    response = client.post(f"/awards/{award.id}/edit", data=_form(owner, GOOD_ROWS, title="Đổi tên"))
    assert response.status_code == 302
    db.session.expire_all()
    assert (award.title, len(award.tiers), award.version) == ("Đổi tên", 3, 2)
    assert award.events[-1].action == "changed" and award.events[-1].actor_id == people.organiser.id
    page = client.post(f"/awards/{award.id}/edit", data=_form(owner, GOOD_ROWS[:1])).get_data(as_text=True)
    assert any("vừa được người khác thay đổi" in f for f in flashes(page))  # the form had version 1


def test_an_approved_award_shows_its_prizes_without_a_form(client, login, make_round, people):
    award = structures.create_award(round_award(make_round().id), WEEKLY, people.admin)
    award.status = AwardStatus.APPROVED
    db.session.commit()
    login(people.admin)
    page = client.get(f"/awards/{award.id}/edit").get_data(as_text=True)
    assert "đã được phê duyệt" in page and 'class="award-form"' not in page
    assert "1.000.000 đ" in page and "Giải Khuyến khích" in page
    owner = {"owner": "round", "round_id": award.round_id, "version": award.version}
    page = client.post(f"/awards/{award.id}/edit", data=_form(owner, GOOD_ROWS[:1])).get_data(as_text=True)
    assert any("đã được phê duyệt" in e for e in field_errors(page, "tiers") + flashes(page))
    db.session.expire_all()
    assert len(award.tiers) == 4


def test_staff_outside_the_scope_cannot_open_an_award(client, login, make_round, people, tree):
    award = structures.create_award(emulation_award(tree.commune.id), TEAM_ROW, people.admin)
    login(people.other_officer)
    assert client.get(f"/awards/{award.id}/edit").status_code == 403
    assert client.post(f"/awards/{award.id}/edit", data={}).status_code == 403


def test_the_season_rule_is_offered_where_a_season_exists(client, login, make_round, people, tree, quiz):
    login(people.admin)
    standalone = client.get(f"/awards/new?round={make_round().id}").get_data(as_text=True)
    assert 'id="series_rule"' not in standalone and 'name="min_band"' not in standalone
    series = season(people.admin, tree.commune.id, quiz)
    page = client.get(f"/awards/new?series={series.id}").get_data(as_text=True)
    assert 'id="series_rule"' in page and f"Mùa thi: {series.title}" in page
    page = client.get(f"/awards/new?round={series.rounds[0].id}").get_data(as_text=True)
    assert 'id="series_rule"' in page  # a round of a season: earlier wins of the season count
    owner = {"owner": "series", "series_id": series.id}
    response = client.post(f"/awards/new?series={series.id}", data=_form(owner, GOOD_ROWS, series_rule="first"))
    assert response.status_code == 302
    assert db.session.query(Award).one().series_rule == "first"
    assert "Mùa thi" in client.get("/awards/?owner=series").get_data(as_text=True)
    assert "Chưa có giải thưởng nào." in client.get("/awards/?owner=emulation").get_data(as_text=True)


def test_the_xet_giai_link_of_a_round_with_prizes_leads_to_them(client, login, make_round, people, tree):
    round_ = make_round(scope_unit_id=tree.commune.id)
    award = structures.create_award(round_award(round_.id), WEEKLY, people.admin)
    response = login(people.officer).get(f"/awards/new?round={round_.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/awards/{award.id}/edit")
    period = structures.create_award(emulation_award(tree.commune.id), TEAM_ROW, people.admin)
    response = client.get(f"/awards/new?period=2026-Q4&unit={tree.commune.id}")
    assert response.headers["Location"].endswith(f"/awards/{period.id}/edit")
    assert client.get(f"/awards/new?period=2026&unit={tree.commune.id}").status_code == 200  # the year has none


def test_the_form_and_its_row_errors_in_english(client, login, make_round, people):
    round_ = make_round(title="Tuần 7")
    login(people.admin)
    assert client.post("/lang/en", data={"next": "/awards/"}).status_code == 302
    page = client.get(f"/awards/new?round={round_.id}").get_data(as_text=True)
    assert "Round: Tuần 7" in page and "Weekly individual prizes" in page and "Who can win" in page
    rows = [GOOD_ROWS[0], ("individual", "Giải Nhì", "-1", "")]
    page = client.post(f"/awards/new?round={round_.id}",
                       data=_form({"owner": "round", "round_id": round_.id}, rows)).get_data(as_text=True)
    assert _row_errors(page) == ["Row 2: The number of prizes must be from 1 to 1000."]
