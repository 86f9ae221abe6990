"""Versions of the emulation scheme (competitions.emulation.schemes) and their screens."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from competitions.emulation import schemes
from competitions.emulation.models import ActivityKind, CriterionKind, Scheme
from competitions.emulation.periods import Period
from competitions.emulation.schemes import BandInput, CriterionInput, SchemeInput
from core.accounts.roles import RoleCode
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from tests.factories import field_errors, flashes

NOW = datetime(2026, 11, 15, 3, tzinfo=UTC)  # November 2026 in Vietnam


def _activity(code: str) -> int:
    return db.session.scalar(select(ActivityKind.id).where(ActivityKind.code == code))


def _valid() -> SchemeInput:
    return SchemeInput(
        name="Bộ tiêu chí 2027", effective_from="2026-12",
        criteria=[CriterionInput(CriterionKind.ACTIVITY, 40, _activity("vneid"), 1.2),
                  CriterionInput(CriterionKind.ACTIVITY, 20, _activity("ewallet"), 1.0),
                  CriterionInput(CriterionKind.QUIZ_PARTICIPATION, 20),
                  CriterionInput(CriterionKind.REPORTS_ON_TIME, 20)],
        bands=[BandInput("Xuất sắc", 90, 0.85), BandInput("Tốt", 75, 0.6)],
    )


def _versions() -> int:
    return db.session.scalar(select(func.count()).select_from(Scheme))


def _refused(data: SchemeInput, admin, now: datetime = NOW) -> ValidationError:  # noqa: ANN001
    before = _versions()
    with pytest.raises(ValidationError) as caught:
        schemes.create_version(data, admin, now=now)
    assert _versions() == before  # all or nothing
    return caught.value


def test_a_new_version_is_numbered_after_the_last_and_stored_whole(make):
    admin = make.admin()
    scheme = schemes.create_version(_valid(), admin, now=NOW)
    assert (scheme.version, scheme.effective_from, scheme.created_by_id) == (2, "2026-12", admin.id)
    assert [(c.kind, c.points, c.cap, c.position) for c in scheme.criteria] == [
        ("activity", 40, 1.2, 1), ("activity", 20, 1.0, 2), ("quiz_participation", 20, 1.0, 3),
        ("reports_on_time", 20, 1.0, 4),
    ]
    assert scheme.bands[1] == {"name": "Tốt", "min_points": 75.0, "min_ratio": 0.6}
    assert schemes.scheme_for(Period.parse("2026-12")).id == scheme.id
    assert schemes.scheme_for(Period.parse("2026-11")).version == 1  # the month before keeps version 1
    assert schemes.scheme_for(Period.parse("2026-Q4")).version == 1  # so does its quarter (began in October)
    assert schemes.scheme_for(Period.parse("2027-Q1")).id == scheme.id
    later = schemes.create_version(replace(_valid(), effective_from="2026-12", name="Sửa lại"), admin, now=NOW)
    assert schemes.scheme_for(Period.parse("2026-12")).id == later.id  # same month: the higher version


def test_the_points_must_add_up_to_exactly_100_and_the_error_says_the_sum(make):
    admin = make.admin()
    data = _valid()
    short = replace(data, criteria=[*data.criteria[:3], CriterionInput(CriterionKind.REPORTS_ON_TIME, 10.5)])
    error = _refused(short, admin)
    assert error.field == "criteria" and "100" in error.message and "90.5" in error.message
    over = replace(data, criteria=[*data.criteria, CriterionInput(CriterionKind.QUIZ_SCORE, 5)])
    assert "105" in _refused(over, admin).message


@pytest.mark.parametrize(("change", "row", "words"), [
    ({"criteria": 3, "value": CriterionInput(CriterionKind.REPORTS_ON_TIME, 0)}, 4, "lớn hơn 0"),
    ({"criteria": 1, "value": CriterionInput(CriterionKind.ACTIVITY, 20, None)}, 2, "hoạt động"),
    ({"criteria": 1, "value": "dup-activity"}, 2, "mỗi hoạt động"),
    ({"criteria": 3, "value": CriterionInput(CriterionKind.QUIZ_PARTICIPATION, 20)}, 4, "chỉ một lần"),
    ({"criteria": 0, "value": "cap-1.6"}, 1, "Mức trần"),
    ({"criteria": 0, "value": "cap-0.9"}, 1, "Mức trần"),
    ({"criteria": 2, "value": CriterionInput("bogus", 20)}, 3, "loại tiêu chí"),
])
def test_each_criterion_row_is_checked_and_named(make, change, row, words):
    data = _valid()
    rows = list(data.criteria)
    value = change["value"]
    if value == "dup-activity":
        value = CriterionInput(CriterionKind.ACTIVITY, 20, _activity("vneid"))
    elif isinstance(value, str) and value.startswith("cap-"):
        value = replace(rows[0], cap=float(value[4:]))
    rows[change["criteria"]] = value
    error = _refused(replace(data, criteria=rows), make.admin())
    assert (error.field, error.row) == ("criteria", row) and words in error.message


@pytest.mark.parametrize(("bands", "row", "words"), [
    ([BandInput("Xuất sắc", 80, 0.85), BandInput("Tốt", 90, 0.6)], 2, "cao xuống thấp"),
    ([BandInput("Xuất sắc", 90, 0.85), BandInput("Tốt", 90, 0.6)], 2, "cao xuống thấp"),
    ([BandInput("Xuất sắc", 101, 0.85)], 1, "không quá 100"),
    ([BandInput("Xuất sắc", 0, 0.85)], 1, "lớn hơn 0"),
    ([BandInput("Xuất sắc", 90, 1.2)], 1, "từ 0 đến 1"),
    ([BandInput("Xuất sắc", 90, -0.1)], 1, "từ 0 đến 1"),
    ([BandInput("", 90, 0.5)], 1, "tên"),
    ([BandInput("Tốt", 90, 0.5), BandInput("tốt", 80, 0.5)], 2, "trùng"),
    ([BandInput("Chưa hoàn thành", 90, 0.5)], 1, "trùng"),
])
def test_bands_go_from_best_to_worst_within_their_ranges(make, bands, row, words):
    error = _refused(replace(_valid(), bands=bands), make.admin())
    assert (error.field, error.row) == ("bands", row) and words in error.message


def test_a_version_cannot_start_in_a_past_month(make):
    admin = make.admin()
    error = _refused(replace(_valid(), effective_from="2026-10"), admin)
    assert error.field == "effective_from" and "không bị tính lại" in error.message
    assert schemes.create_version(replace(_valid(), effective_from="2026-11"), admin, now=NOW).version == 2
    assert _refused(replace(_valid(), effective_from="2026-Q4"), admin).field == "effective_from"
    assert _refused(replace(_valid(), name="  "), admin).field == "name"
    assert _refused(replace(_valid(), bands=[]), admin).field == "bands"


def test_only_the_department_creates_versions(make, tree):  # noqa: ANN001
    with pytest.raises(PermissionDenied):
        schemes.create_version(_valid(), make.user(RoleCode.ORGANISER, tree.province), now=NOW)


# --- screens ----------------------------------------------------------------------------------------


def test_everyone_signed_in_reads_the_scheme_in_force_and_its_history(make, tree, login):
    admin = make.admin()
    future = schemes.create_version(replace(_valid(), name="Bộ tiêu chí tương lai", effective_from="2099-01"), admin)
    member = make.member(make.team(tree.hamlet)).user
    client = login(member)
    page = client.get("/emulation/schemes/").get_data(as_text=True)
    assert "Bộ tiêu chí thi đua Tổ công nghệ số cộng đồng (mặc định)" in page
    assert "Số người được hướng dẫn" in page or "VNeID" in page  # the activity criteria by name
    assert "Hoàn thành xuất sắc" in page and "Bộ tiêu chí tương lai" in page  # the history lists the new version
    assert "Tạo phiên bản mới" not in page
    version = client.get(f"/emulation/schemes/{future.id}").get_data(as_text=True)
    assert "2099-01" in version and "Xuất sắc" in version
    assert client.get("/emulation/schemes/new").status_code == 403
    assert client.post("/emulation/schemes/new", data={"name": "x"}).status_code == 403


def _form_data(page: str) -> dict[str, str]:
    """The form's fields as the browser would send them (inputs and the selected options)."""
    import re

    data = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page):
        data[name] = value
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, flags=re.S):
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', body)
        data[name] = next(v for v in chosen.groups() if v is not None) if chosen else ""
    return data


def test_the_form_starts_from_the_version_in_force_and_shows_what_is_wrong(make, login):
    client = login(make.admin())
    page = client.get("/emulation/schemes/new").get_data(as_text=True)
    data = _form_data(page)
    assert data["criteria-0-points"] == "12" and data["criteria-7-kind"] == "quiz_participation"
    assert data["bands-0-title"] == "Hoàn thành xuất sắc" and data["bands-2-min_ratio"] == "0.7"
    assert 'id="criteria-sum">100<' in page
    data["criteria-0-points"] = "2"  # 90 in all
    refused = client.post("/emulation/schemes/new", data=data).get_data(as_text=True)
    assert "hiện đang là 90" in refused and 'id="criteria-sum">90<' in refused
    assert _versions() == 1
    data["criteria-0-points"] = "7"
    data["criteria-1-points"] = "15"  # 5 moved from VNeID to e-wallets: 100 again
    data["bands-0-min_ratio"] = "0,9"  # typed the Vietnamese way
    data["effective_from"] = "2020-05"
    refused = client.post("/emulation/schemes/new", data=data).get_data(as_text=True)
    assert any("không bị tính lại" in e for e in field_errors(refused, "effective_from"))
    data["effective_from"] = "2099-12"
    response = client.post("/emulation/schemes/new", data=data)
    assert response.status_code == 302, flashes(response.get_data(as_text=True))
    created = db.session.scalar(select(Scheme).where(Scheme.version == 2))
    assert [c.points for c in created.criteria][:2] == [7, 15] and created.bands[0]["min_ratio"] == 0.9
    assert created.effective_from == "2099-12"


def test_a_bad_row_of_the_form_is_named(make, login):
    client = login(make.admin())
    data = _form_data(client.get("/emulation/schemes/new").get_data(as_text=True))
    data["bands-1-min_points"] = "95"
    refused = client.post("/emulation/schemes/new", data=data).get_data(as_text=True)
    assert "Dòng 2: Các mức xếp loại phải xếp từ cao xuống thấp" in refused
    data["bands-1-min_points"] = "80"
    data["criteria-2-cap"] = "nan"
    refused = client.post("/emulation/schemes/new", data=data).get_data(as_text=True)
    assert "Dòng 3: Hãy nhập một số." in refused and _versions() == 1


def test_a_row_is_removed_by_choosing_to_drop_it(make, login):
    client = login(make.admin())
    data = _form_data(client.get("/emulation/schemes/new").get_data(as_text=True))
    data["criteria-0-kind"] = ""  # VNeID (12 points) dropped; its points go to e-wallets
    data["criteria-1-points"] = "22"
    data["bands-2-title"] = ""  # the third band dropped
    data["effective_from"] = "2099-01"
    assert client.post("/emulation/schemes/new", data=data).status_code == 302
    created = db.session.scalar(select(Scheme).where(Scheme.version == 2))
    assert len(created.criteria) == 10 and created.criteria[0].points == 22
    assert [b["name"] for b in created.bands] == ["Hoàn thành xuất sắc", "Hoàn thành tốt"]
