"""The activity catalogue: admins add, edit, deactivate and bring back kinds; clear errors; history kept."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from competitions.emulation import catalogue
from competitions.emulation.catalogue import ActivityInput
from competitions.emulation.models import ActivityKind, Target, holder_key
from core.accounts.roles import RoleCode
from core.errors import PermissionDenied, ValidationError
from tests.factories import field_errors, flashes


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(ActivityKind))


def test_defaults_are_listed_in_order(make):
    names = [kind.code for kind in catalogue.kinds()]
    assert names == ["vneid", "ewallet", "ocop", "public_service", "households", "health_app", "training"]


def test_create_gives_a_code_and_a_last_position(make, session):
    admin = make.admin()
    kind = catalogue.create_kind(ActivityInput("  Hướng dẫn  dùng Zalo  ", "người", True, 30), admin)
    assert kind.name == "Hướng dẫn dùng Zalo" and kind.code == "huong_dan_dung_zalo"
    assert kind.position == 8 and kind.evidence_required and kind.plausible_per_member == 30 and kind.active
    again = catalogue.create_kind(ActivityInput("Hướng dẫn dùng Zalo!", "người"), admin)
    assert again.code == "huong_dan_dung_zalo_2" and again.plausible_per_member is None


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (ActivityInput("   ", "người"), "name", "Chưa nhập tên"),
        (ActivityInput("x" * 201, "người"), "name", "dài quá"),
        (ActivityInput("HƯỚNG DẪN NGƯỜI DÂN NỘP HỒ SƠ DỊCH VỤ CÔNG TRỰC TUYẾN", "hồ sơ"), "name", "Đã có hoạt động"),
        (ActivityInput("Mới", ""), "unit_label", "Chưa nhập đơn vị tính"),
        (ActivityInput("Mới", "người", plausible_per_member=0), "plausible_per_member", "từ 1"),
        (ActivityInput("Mới", "người", plausible_per_member=-3), "plausible_per_member", "từ 1"),
        (ActivityInput("Mới", "người", plausible_per_member=100_001), "plausible_per_member", "từ 1"),
        (ActivityInput("Mới", "người", position=-1), "position", "Thứ tự"),
    ],
)
def test_bad_input_is_refused_and_nothing_written(make, session, data, field, words):
    admin = make.admin()
    before = count(session)
    with pytest.raises(ValidationError) as caught:
        catalogue.create_kind(data, admin)
    assert caught.value.field == field and words in caught.value.message
    assert count(session) == before


def test_duplicate_of_a_deactivated_kind_says_to_bring_it_back(make):
    admin = make.admin()
    kind = catalogue.create_kind(ActivityInput("Hỗ trợ chữ ký số", "người"), admin)
    catalogue.set_active(kind, False, admin)
    with pytest.raises(ValidationError, match="ngừng sử dụng"):
        catalogue.create_kind(ActivityInput("hỗ trợ chữ ký số", "người"), admin)


def test_edit_keeps_its_own_name_and_code(make):
    admin = make.admin()
    kind = next(k for k in catalogue.kinds() if k.code == "training")
    catalogue.update_kind(kind, ActivityInput(kind.name, "lớp", False, None, 3), admin)
    assert (kind.code, kind.unit_label, kind.evidence_required, kind.plausible_per_member, kind.position) == \
        ("training", "lớp", False, None, 3)
    other = next(k for k in catalogue.kinds() if k.code == "ocop")
    with pytest.raises(ValidationError, match="Đã có"):
        catalogue.update_kind(other, ActivityInput(kind.name, "sản phẩm"), admin)


def test_only_admins_change_the_catalogue(make):
    officer = make.user(RoleCode.OFFICER)
    kind = catalogue.kinds()[0]
    with pytest.raises(PermissionDenied):
        catalogue.create_kind(ActivityInput("Mới", "người"), officer)
    with pytest.raises(PermissionDenied):
        catalogue.set_active(kind, False, officer)


def test_deactivating_keeps_history(make, session):
    admin = make.admin()
    tree = make.tree()
    kind = next(k for k in catalogue.kinds() if k.code == "ocop")
    session.add(Target(period="2026-11", activity_id=kind.id, holder=holder_key(unit_id=tree.commune.id),
                       unit_id=tree.commune.id, quantity=5))
    session.flush()
    catalogue.set_active(kind, False, admin)
    assert kind not in catalogue.kinds() and kind in catalogue.kinds(active_only=False)
    assert session.scalar(select(Target.quantity).where(Target.activity_id == kind.id)) == 5
    catalogue.set_active(kind, True, admin)
    assert kind in catalogue.kinds()


# --- screens ---------------------------------------------------------------------------------------


def test_pages_are_for_admins_only(make, login, client):
    kind = catalogue.kinds()[0]
    login(make.user(RoleCode.ORGANISER))
    for url in ("/emulation/activities/", "/emulation/activities/new", f"/emulation/activities/{kind.id}/edit"):
        assert client.get(url).status_code == 403
    assert client.post(f"/emulation/activities/{kind.id}/deactivate").status_code == 403
    assert kind.active


def test_admin_adds_edits_and_deactivates(make, login, client, session):
    login(make.admin())
    page = client.get("/emulation/activities/").get_data(as_text=True)
    assert "VNeID mức độ 2" in page and "Không giới hạn" not in page
    response = client.post("/emulation/activities/new", data={
        "name": "Hướng dẫn dùng chữ ký số", "unit_label": "người", "evidence_required": "y",
        "plausible_per_member": "", "position": "",
    })
    assert response.status_code == 302
    kind = session.scalar(select(ActivityKind).where(ActivityKind.name == "Hướng dẫn dùng chữ ký số"))
    assert kind.evidence_required and kind.plausible_per_member is None
    page = client.get("/emulation/activities/").get_data(as_text=True)
    assert "Hướng dẫn dùng chữ ký số" in page and "Không giới hạn" in page

    response = client.post(f"/emulation/activities/{kind.id}/edit", data={
        "name": "Hướng dẫn dùng chữ ký số", "unit_label": "người", "plausible_per_member": "0", "position": "2",
    })
    assert response.status_code == 200
    assert any("từ 1" in message for message in field_errors(response.get_data(as_text=True), "plausible_per_member"))
    session.refresh(kind)
    assert kind.plausible_per_member is None and kind.position != 2

    response = client.post(f"/emulation/activities/{kind.id}/edit", data={
        "name": "Hướng dẫn dùng chữ ký số", "unit_label": "người", "plausible_per_member": "40", "position": "2",
    })
    assert response.status_code == 302
    session.refresh(kind)
    assert kind.plausible_per_member == 40 and kind.position == 2 and not kind.evidence_required

    client.post(f"/emulation/activities/{kind.id}/deactivate")
    session.refresh(kind)
    assert not kind.active
    page = client.get("/emulation/activities/").get_data(as_text=True)
    assert "Ngừng sử dụng" in page and "Dùng lại" in page


def test_duplicate_name_on_the_form(make, login, client, session):
    login(make.admin())
    before = count(session)
    response = client.post("/emulation/activities/new", data={"name": "hướng dẫn người dân nộp hồ sơ dịch vụ "
                                                              "công trực tuyến", "unit_label": "hồ sơ"})
    assert response.status_code == 200
    assert any("Đã có hoạt động" in m for m in field_errors(response.get_data(as_text=True), "name"))
    assert count(session) == before
    assert not flashes(response.get_data(as_text=True), "success")
