"""A person on a 360-px phone: signing in, the team page, importing a roster."""

from __future__ import annotations

import re

import openpyxl
from playwright.sync_api import expect

from core.demo import DEMO_PASSWORD

SHOWCASE = "Tổ CNSCĐ Ấp Phước Lợi – Xã Châu Thành"
MEMBER_OF = """
    SELECT u.phone FROM users u JOIN memberships m ON m.user_id = u.id JOIN teams t ON t.id = m.team_id
    WHERE t.name = ? AND m.status = 'active' AND m.role = ? ORDER BY u.id LIMIT 1
"""


def sign_in(page, login: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Số điện thoại hoặc tên đăng nhập").fill(login)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_member_signs_in_with_a_phone_number_in_plus84_form(page, query):
    phone = query(MEMBER_OF, SHOWCASE, "member")[0][0]
    sign_in(page, phone, "sai-mat-khau")
    expect(page.get_by_role("alert")).to_contain_text("mật khẩu không đúng")
    no_sideways_scroll(page)

    sign_in(page, "+84 " + phone[1:])
    expect(page.get_by_role("heading", level=1)).to_contain_text("Xin chào")
    expect(page.get_by_role("link", name=re.compile("Tổ của tôi"))).to_be_visible()
    no_sideways_scroll(page)


def test_keyboard_user_can_skip_to_content(page):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Bỏ qua, đến nội dung chính")
    expect(skip).to_be_focused()


def test_leader_opens_the_team_page_with_roster_and_roles(page, query):
    sign_in(page, query(MEMBER_OF, SHOWCASE, "leader")[0][0])
    page.get_by_role("link", name=re.compile("Tổ của tôi")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SHOWCASE)
    roster = page.locator("table").first
    expect(roster).to_contain_text("Tổ trưởng")
    expect(roster).to_contain_text("Tổ phó")
    active = query(
        "SELECT count(*) FROM memberships m JOIN teams t ON t.id = m.team_id WHERE t.name = ? AND m.status = 'active'",
        SHOWCASE,
    )[0][0]
    expect(roster.locator("tbody tr")).to_have_count(active)
    no_sideways_scroll(page)


def choose_unit(page, name: str) -> None:
    select = page.get_by_label("Nhập vào đơn vị")
    select.select_option(value=select.locator("option", has_text=name).first.get_attribute("value"))


def _roster_file(path, rows) -> str:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["DANH SÁCH THÀNH VIÊN TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG"])  # the banner row districts put on top
    sheet.append(["STT", "Tên Tổ CNSCĐ", "Họ và tên", "Chức vụ", "Số điện thoại"])
    for number, row in enumerate(rows, start=1):
        sheet.append([number, *row])
    book.save(path)
    return str(path)


def test_officer_imports_a_roster_with_preview_then_confirm(page, query, tmp_path):
    # a Châu Thành team with room for one more
    team, hamlet = query(
        """SELECT t.name, u.name FROM teams t JOIN units u ON u.id = t.unit_id
           JOIN units c ON c.id = u.parent_id
           WHERE c.name = 'Xã Châu Thành' AND u.kind = 'hamlet' AND t.active
           AND (SELECT count(*) FROM memberships m WHERE m.team_id = t.id AND m.status = 'active') < 10
           ORDER BY t.id LIMIT 1"""
    )[0]
    sign_in(page, "canbo.chauthanh")
    page.goto("/import/members")
    choose_unit(page, "Xã Châu Thành")

    # a wrong phone number: the preview names the row and writes nothing
    page.get_by_label(re.compile("Tệp danh sách thành viên")).set_input_files(
        _roster_file(tmp_path / "loi.xlsx", [[hamlet, "Lâm Thị Thu Trang", "Tổ viên", "12345"]])
    )
    page.get_by_role("button", name="Tải lên và xem trước").click()
    expect(page.get_by_text(re.compile("không hợp lệ"))).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Xác nhận"))).to_have_count(0)
    assert query("SELECT count(*) FROM users WHERE full_name = 'Lâm Thị Thu Trang'")[0][0] == 0

    page.goto("/import/members")
    choose_unit(page, "Xã Châu Thành")
    page.get_by_label(re.compile("Tệp danh sách thành viên")).set_input_files(
        _roster_file(tmp_path / "dung.xlsx", [[hamlet, "Lâm Thị Thu Trang", "Tổ viên", "0961 234 567"]])
    )
    page.get_by_role("button", name="Tải lên và xem trước").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Xem trước")
    page.get_by_role("button", name=re.compile("Xác nhận ghi 1 dòng mới")).click()
    expect(page.get_by_role("status").first).to_contain_text("Đã thêm 1 thành viên")

    page.get_by_role("link", name=team).click()
    expect(page.locator("table").first).to_contain_text("Lâm Thị Thu Trang")
    no_sideways_scroll(page)
