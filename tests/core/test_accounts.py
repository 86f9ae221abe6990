"""Accounts: phone numbers, signing in, passwords, creating people, the users CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.accounts import service as accounts
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.errors import ValidationError
from core.phone import normalise_phone
from tests.factories import Factory


@pytest.mark.parametrize(
    "raw",
    ["0912345678", "+84 912 345 678", "+84912345678", "84912345678", "0912.345.678", "0912 345 678",
     "0912-345-678", "912345678", " (0912) 345678 ", "912345678.0"],
)
def test_phone_numbers_are_normalised_to_ten_digits(raw):
    assert normalise_phone(raw) == "0912345678"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("024 3825 1234", "không hợp lệ"),  # Hà Nội landline
        ("028 3812 3456", "không hợp lệ"),  # Hồ Chí Minh City landline
        ("09123456789", "không hợp lệ"),  # 11 digits
        ("091234567", "không hợp lệ"),  # 9 digits with the zero
        ("+1 202 555 0100", "không hợp lệ"),  # not Vietnamese
        ("0912abc678", "chỉ được gồm chữ số"),
        ("", "Chưa nhập số điện thoại"),
    ],
)
def test_bad_phone_numbers_are_refused_with_a_field_message(raw, why):
    with pytest.raises(ValidationError) as caught:
        normalise_phone(raw, field="so_dt")
    assert caught.value.field == "so_dt"
    assert why in caught.value.message


def test_sign_in_by_phone_in_any_format_and_by_username(make):
    member = make.user(RoleCode.MEMBER)
    national = member.phone
    for login in (national, "+84 " + national[1:], national[1:], f"{national[:4]}.{national[4:7]}.{national[7:]}"):
        assert accounts.authenticate(login, Factory.PASSWORD) is member, login
    admin = make.user(RoleCode.ADMIN, None, username="so.khcn")
    assert accounts.authenticate("so.khcn", Factory.PASSWORD) is admin
    assert accounts.authenticate("  SO.KHCN ", Factory.PASSWORD) is admin
    assert admin.last_login_at is not None


def test_wrong_password_or_unknown_login_gives_nothing(make):
    member = make.user(RoleCode.MEMBER)
    assert accounts.authenticate(member.phone, "sai-mat-khau") is None
    assert accounts.authenticate("0999999999", Factory.PASSWORD) is None
    assert accounts.authenticate("khong.co", Factory.PASSWORD) is None
    assert accounts.authenticate("", "") is None


def test_an_account_without_a_password_cannot_sign_in(make):
    member = make.user(RoleCode.MEMBER)
    member.password_hash = None
    assert accounts.authenticate(member.phone, "") is None


def test_an_inactive_user_is_refused(make):
    member = make.user(RoleCode.MEMBER)
    member.active = False
    assert accounts.authenticate(member.phone, Factory.PASSWORD) is None


def test_change_password(make):
    member = make.user(RoleCode.MEMBER)
    with pytest.raises(ValidationError) as caught:
        accounts.change_password(member, "sai", "mat-khau-moi-1")
    assert caught.value.field == "current_password" and caught.value.message == "Mật khẩu hiện tại không đúng."
    with pytest.raises(ValidationError) as caught:
        accounts.change_password(member, Factory.PASSWORD, "ngan")
    assert caught.value.field == "new_password" and "ít nhất 8 ký tự" in caught.value.message
    accounts.change_password(member, Factory.PASSWORD, "mat-khau-moi-1")
    assert accounts.authenticate(member.phone, "mat-khau-moi-1") is member
    assert accounts.authenticate(member.phone, Factory.PASSWORD) is None


def test_admin_reset_password(make):
    member = make.user(RoleCode.MEMBER)
    member.password_hash = None  # imported from a roster, never signed in
    with pytest.raises(ValidationError) as caught:
        accounts.reset_password(member, "1234567")
    assert caught.value.field == "new_password"
    accounts.reset_password(member, "mat-khau-dat-lai")
    assert accounts.authenticate(member.phone, "mat-khau-dat-lai") is member


def test_duplicate_phone_names_the_other_account(make):
    tree = make.tree()
    first = accounts.create_user("Nguyễn Thị Hoa", unit=tree.hamlet, phone="0912 000 111")
    with pytest.raises(ValidationError) as caught:
        accounts.create_user("Người Khác", unit=tree.hamlet, phone="+84912000111")
    assert caught.value.field == "phone"
    assert caught.value.message == "Số điện thoại 0912000111 đã được dùng cho tài khoản “Nguyễn Thị Hoa”."
    accounts.update_user(first, "Nguyễn Thị Hoa", RoleCode.MEMBER, tree.hamlet, "0912000111", None, True)


def test_duplicate_and_malformed_usernames(make):
    make.user(RoleCode.ADMIN, None, username="can.bo")
    with pytest.raises(ValidationError) as caught:
        accounts.create_user("Ai Đó", RoleCode.ADMIN, username="CAN.BO")
    assert caught.value.field == "username" and "đã có người dùng" in caught.value.message
    with pytest.raises(ValidationError) as caught:
        accounts.create_user("Ai Đó", RoleCode.ADMIN, username="cán bộ")
    assert caught.value.field == "username"


def test_create_user_needs_a_login_and_a_unit_for_non_admins(make):
    tree = make.tree()
    with pytest.raises(ValidationError) as caught:
        accounts.create_user("Không Đăng Nhập", RoleCode.ADMIN)
    assert caught.value.field == "phone"
    with pytest.raises(ValidationError) as caught:
        accounts.create_user("Cán Bộ", RoleCode.OFFICER, username="can.bo.xa")
    assert caught.value.field == "unit_id"
    with pytest.raises(ValidationError) as caught:
        accounts.create_user("   ", RoleCode.OFFICER, tree.commune, username="can.bo.xa")
    assert caught.value.field == "full_name"
    officer = accounts.create_user(
        " Cán  Bộ ", RoleCode.OFFICER, tree.commune, username="can.bo.xa", password="12345678"
    )
    assert officer.full_name == "Cán Bộ" and officer.unit is tree.commune
    assert accounts.authenticate("can.bo.xa", "12345678") is officer


def test_an_inactive_unit_is_refused_for_a_new_account(make):
    tree = make.tree()
    from core.org import service as org

    org.deactivate_unit(tree.hamlet2)
    with pytest.raises(ValidationError) as caught:
        accounts.create_user("Người Mới", unit=tree.hamlet2, phone="0912000222")
    assert caught.value.field == "unit_id"


def test_an_admin_cannot_lock_out_or_demote_themselves(make):
    admin = make.admin()
    with pytest.raises(ValidationError) as caught:
        accounts.update_user(admin, admin.full_name, RoleCode.ADMIN, None, None, admin.username, False, actor=admin)
    assert caught.value.field == "active"
    tree = make.tree()
    with pytest.raises(ValidationError) as caught:
        accounts.update_user(
            admin, admin.full_name, RoleCode.OFFICER, tree.commune, None, admin.username, True, actor=admin
        )
    assert caught.value.field == "role"
    other = make.admin()
    accounts.update_user(other, other.full_name, RoleCode.ADMIN, None, None, other.username, False, actor=admin)
    assert not other.active


def test_search_users_by_folded_name_phone_or_username(make):
    tree = make.tree()
    hoa = make.user(RoleCode.MEMBER, tree.hamlet, full_name="Nguyễn Thị Hoà")
    make.user(RoleCode.OFFICER, tree.commune, full_name="Trần Văn Bình")
    admin = make.user(RoleCode.ADMIN, None, full_name="Lê Sở", username="so.khcn")
    assert accounts.search_users("nguyen thi hoa").items == [hoa]
    assert accounts.search_users("HOÀ").items == [hoa]
    assert accounts.search_users(hoa.phone[-6:]).items == [hoa]
    assert accounts.search_users("+84 " + hoa.phone[1:]).items == [hoa]
    assert accounts.search_users("khcn").items == [admin]
    assert accounts.search_users(role=RoleCode.OFFICER).total == 1
    assert accounts.search_users("binh", role=RoleCode.MEMBER).total == 0
    assert accounts.search_users().total == 3


def test_cli_create_admin_prompts_for_a_hidden_confirmed_password(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create-admin", "--username", "Quan.Tri", "--name", "Quản Trị Sở"],
        input="mat-khau-cli\nmat-khau-cli\n",
    )
    assert result.exit_code == 0, result.output
    assert "mat-khau-cli" not in result.output  # hidden input
    admin = session.scalar(select(User).where(User.username == "quan.tri"))
    assert admin.role_code == RoleCode.ADMIN and admin.unit is None
    assert accounts.authenticate("quan.tri", "mat-khau-cli") is not None

    mismatch = runner.invoke(
        args=["users", "create-admin", "--username", "khac", "--name", "Khác"],
        input="mat-khau-cli\nkhac-han-roi\nmat-khau-cli\nmat-khau-cli\n",
    )
    assert mismatch.exit_code == 0 and "match" in mismatch.output  # asked again

    duplicate = runner.invoke(
        args=["users", "create-admin", "--username", "quan.tri", "--name", "Trùng"],
        input="mat-khau-cli\nmat-khau-cli\n",
    )
    assert duplicate.exit_code == 1 and "đã có người dùng" in duplicate.output
    assert session.scalar(select(func.count()).where(User.full_name == "Trùng")) == 0


def test_cli_reset_password(app, make, session):
    member = make.user(RoleCode.MEMBER)
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "reset-password", "+84" + member.phone[1:]], input="mat-khau-moi\nmat-khau-moi\n"
    )
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert accounts.authenticate(member.phone, "mat-khau-moi") is not None
    short = runner.invoke(args=["users", "reset-password", member.phone], input="ngan\nngan\n")
    assert short.exit_code == 1 and "ít nhất 8 ký tự" in short.output
    unknown = runner.invoke(args=["users", "reset-password", "nobody"], input="mat-khau-moi\nmat-khau-moi\n")
    assert unknown.exit_code == 1 and "No account" in unknown.output


def test_sign_in_through_the_login_page(client, make):
    member = make.user(RoleCode.MEMBER)
    wrong = client.post("/login", data={"login": member.phone, "password": "sai-mat-khau"})
    assert "Số điện thoại/tên đăng nhập hoặc mật khẩu không đúng." in wrong.get_data(as_text=True)
    response = client.post("/login", data={"login": "+84 " + member.phone[1:], "password": Factory.PASSWORD})
    assert response.status_code == 302


def test_an_inactive_user_cannot_sign_in_through_the_page(client, make, session):
    member = make.user(RoleCode.MEMBER)
    member.active = False
    session.flush()
    response = client.post("/login", data={"login": member.phone, "password": Factory.PASSWORD})
    assert response.status_code == 200
    assert "mật khẩu không đúng" in response.get_data(as_text=True)
