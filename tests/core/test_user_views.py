"""Account administration screens (admin only)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.accounts import service as accounts
from core.accounts.models import User
from core.accounts.roles import RoleCode
from tests.factories import field_errors, flashes


def user_count(session) -> int:
    return session.scalar(select(func.count(User.id)))


@pytest.mark.parametrize("role", [RoleCode.ORGANISER, RoleCode.OFFICER, RoleCode.MEMBER])
def test_only_admin_opens_account_pages(make, login, client, role):
    tree = make.tree()
    other = make.user(RoleCode.MEMBER, tree.hamlet)
    login(make.user(role, tree.commune))
    pages = ("/admin/users/", "/admin/users/new", f"/admin/users/{other.id}/edit", f"/admin/users/{other.id}/password")
    for url in pages:
        assert client.get(url).status_code == 403, url
    reset = {"new_password": "x" * 9, "confirm": "x" * 9}
    assert client.post(f"/admin/users/{other.id}/password", data=reset).status_code == 403


def test_list_search_and_role_filter(make, login, client):
    tree = make.tree()
    make.user(RoleCode.MEMBER, tree.hamlet, full_name="Nguyễn Thị Hoà")
    make.user(RoleCode.OFFICER, tree.commune, full_name="Trần Văn Bình")
    login(make.admin())
    everyone = client.get("/admin/users/").get_data(as_text=True)
    assert "Nguyễn Thị Hoà" in everyone and "Trần Văn Bình" in everyone and "3 tài khoản" in everyone
    assert "selected" not in everyone  # no role filter shown as chosen
    found = client.get("/admin/users/?q=nguyen+thi+hoa").get_data(as_text=True)
    assert "Nguyễn Thị Hoà" in found and "Trần Văn Bình" not in found
    officers = client.get("/admin/users/?role=officer").get_data(as_text=True)
    assert "Trần Văn Bình" in officers and "Nguyễn Thị Hoà" not in officers
    assert "Cán bộ xã" in officers and "Ấp Phước Lợi" not in officers
    assert '<option value="officer" selected>' in officers


def test_the_list_pages(make, login, client):
    tree = make.tree()
    for i in range(26):
        make.user(RoleCode.MEMBER, tree.hamlet, full_name=f"Người {i + 1:02d}")
    login(make.admin())
    first = client.get("/admin/users/?role=member").get_data(as_text=True)
    assert "Người 25" in first and "Người 26" not in first and "Trang 1 / 2" in first
    second = client.get("/admin/users/?role=member&page=2").get_data(as_text=True)
    assert "Người 26" in second and "Người 01" not in second


def test_admin_creates_an_officer(make, login, client, session):
    tree = make.tree()
    login(make.admin())
    form = client.get("/admin/users/new").get_data(as_text=True)
    assert "Xã Châu Thành" in form and "Ấp Phước Lợi" not in form  # hamlets are left out
    response = client.post("/admin/users/new", data={
        "full_name": "Trần Văn Cán", "phone": "+84 912 555 666", "username": "", "role": "officer",
        "unit_id": tree.commune.id, "password": "mat-khau-ban-dau", "confirm": "mat-khau-ban-dau",
    })
    assert response.status_code == 302
    officer = session.scalar(select(User).where(User.phone == "0912555666"))
    assert (officer.full_name, officer.role_code, officer.unit_id) == ("Trần Văn Cán", "officer", tree.commune.id)
    assert accounts.authenticate("0912555666", "mat-khau-ban-dau") is not None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"phone": "0912 000 111"}, "phone", "đã được dùng cho tài khoản “Nguyễn Thị Hoa”"),
        ({"phone": "0283 812 3456"}, "phone", "cần số di động Việt Nam 10 chữ số"),
        ({"phone": "", "username": ""}, "phone", "Cần số điện thoại hoặc tên đăng nhập."),
        ({"username": "Cán Bộ"}, "username", "chữ thường không dấu"),
        ({"full_name": ""}, "full_name", "Chưa nhập họ và tên."),
        ({"unit_id": 0}, "unit_id", "Tài khoản này cần thuộc một đơn vị."),
        ({"unit_id": 999999}, "unit_id", "Đơn vị không tồn tại."),
        ({"role": "boss"}, "role", "Lựa chọn không hợp lệ."),
        ({"password": "ngan", "confirm": "ngan"}, "password", "ít nhất 8 ký tự"),
        ({"confirm": "khac-han"}, "confirm", "Hai lần nhập mật khẩu không khớp."),
    ],
)
def test_bad_account_input_shows_the_field_message_and_writes_nothing(
    make, login, client, session, changes, field, message
):
    tree = make.tree()
    accounts.create_user("Nguyễn Thị Hoa", unit=tree.hamlet, phone="0912000111")
    login(make.admin())
    before = user_count(session)
    data = {
        "full_name": "Người Mới", "phone": "0912000999", "username": "", "role": "member",
        "unit_id": tree.commune.id, "password": "mat-khau-moi", "confirm": "mat-khau-moi", **changes,
    }
    response = client.post("/admin/users/new", data=data)
    assert response.status_code == 200
    errors = field_errors(response.get_data(as_text=True), field)
    assert any(message in e for e in errors), errors
    assert user_count(session) == before


def test_edit_role_unit_and_active(make, login, client, session):
    tree = make.tree()
    person = make.user(RoleCode.MEMBER, tree.hamlet, full_name="Lý Văn Lên")
    login(make.admin())
    form = client.get(f"/admin/users/{person.id}/edit").get_data(as_text=True)
    assert "Ấp Phước Lợi" in form  # the hamlet the account already has stays selectable
    assert '<option selected value="member">' in form
    response = client.post(f"/admin/users/{person.id}/edit", data={
        "full_name": "Lý Văn Lên", "phone": person.phone, "username": "", "role": "officer",
        "unit_id": tree.commune.id,  # "active" left unchecked: the account is locked
    })
    assert response.status_code == 302
    session.expire_all()
    person = session.get(User, person.id)
    assert (person.role_code, person.unit_id, person.active) == ("officer", tree.commune.id, False)


def test_admin_cannot_lock_themselves_out(make, login, client, session):
    admin = make.admin()
    login(admin)
    response = client.post(f"/admin/users/{admin.id}/edit", data={
        "full_name": admin.full_name, "phone": "", "username": admin.username, "role": "admin", "unit_id": 0,
    })
    (error,) = field_errors(response.get_data(as_text=True), "active")
    assert error == "Bạn không thể tự khóa tài khoản của chính mình."
    session.expire_all()
    assert session.get(User, admin.id).active


def test_edit_with_a_taken_phone_changes_nothing(make, login, client, session):
    tree = make.tree()
    taken = make.user(RoleCode.MEMBER, tree.hamlet, full_name="Chủ Số")
    person = make.user(RoleCode.MEMBER, tree.hamlet, full_name="Người Sửa")
    login(make.admin())
    response = client.post(f"/admin/users/{person.id}/edit", data={
        "full_name": "Tên Mới", "phone": taken.phone, "role": "member", "unit_id": tree.hamlet.id, "active": "y",
    })
    assert "“Chủ Số”" in field_errors(response.get_data(as_text=True), "phone")[0]
    session.expire_all()
    assert session.get(User, person.id).full_name == "Người Sửa"


def test_reset_password(make, login, client, session):
    tree = make.tree()
    person = make.user(RoleCode.MEMBER, tree.hamlet, full_name="Quên Mật Khẩu")
    login(make.admin())
    short = client.post(f"/admin/users/{person.id}/password", data={"new_password": "ngan", "confirm": "ngan"})
    assert "ít nhất 8 ký tự" in field_errors(short.get_data(as_text=True), "new_password")[0]
    mismatch = client.post(f"/admin/users/{person.id}/password", data={"new_password": "mat-khau-1", "confirm": "x"})
    assert field_errors(mismatch.get_data(as_text=True), "confirm") == ["Hai lần nhập mật khẩu không khớp."]
    done = client.post(
        f"/admin/users/{person.id}/password", data={"new_password": "mat-khau-moi", "confirm": "mat-khau-moi"},
        follow_redirects=True,
    )
    assert any("Đã đặt mật khẩu mới cho Quên Mật Khẩu" in m for m in flashes(done.get_data(as_text=True), "success"))
    session.expire_all()
    assert accounts.authenticate(person.phone, "mat-khau-moi") is not None
    assert client.get("/admin/users/999999/password").status_code == 404
