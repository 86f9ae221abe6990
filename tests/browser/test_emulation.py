"""Emulation end to end: a team leader files the month's activity report on a phone, the commune
officer verifies it in another browser, and the commune's standings board, open on a third screen,
moves the team's points without a reload."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from tests.browser.test_foundation import MEMBER_OF, SHOWCASE, no_sideways_scroll, sign_in

OFFICER = "canbo.chauthanh"  # the demo's officer of Xã Châu Thành, the showcase team's commune


def _team_row(board, team: str):  # noqa: ANN001, ANN202 - Playwright objects
    return board.locator("table.board tbody tr", has_text=team)


def test_a_verified_report_moves_the_team_on_the_standings_board(page, browser, live_url, query):  # noqa: ANN001
    leader = query(MEMBER_OF, SHOWCASE, "leader")[0][0]
    commune_id = query("SELECT id FROM units WHERE name = 'Xã Châu Thành'")[0][0]
    month = (datetime.now(UTC) + timedelta(hours=7)).strftime("%Y-%m")  # this month, Asia/Ho_Chi_Minh
    screen = browser.new_context(viewport={"width": 1280, "height": 720}, locale="vi-VN", base_url=live_url)
    board = screen.new_page()
    board.goto(f"/boards/emulation:{month}:teams:u{commune_id}")
    expect(board.locator("[data-live-status]")).to_have_text("Trực tiếp: bảng tự cập nhật khi có kết quả mới.")
    points_before = _team_row(board, SHOWCASE).locator("td").nth(2).inner_text()

    # The leader, on a 360 px phone: the team's reports, then the form.
    sign_in(page, leader)
    page.goto("/emulation/reports/mine")
    page.get_by_role("link", name="Gửi báo cáo kết quả hoạt động").first.click()
    # this month's (in a month's first days the form offers last month's report first)
    page.get_by_label("Tháng báo cáo").select_option(month)
    page.get_by_label(re.compile("VNeID")).fill("40")
    page.get_by_label(re.compile("hồ sơ dịch vụ công")).fill("25")
    page.get_by_label(re.compile("Ghi chú")).fill("Tuần này tổ hỗ trợ tại nhà văn hóa ấp.")
    no_sideways_scroll(page)
    page.get_by_role("button", name="Gửi báo cáo", exact=True).click()
    expect(page.locator("body")).to_contain_text("đang chờ xã xác nhận")
    report_url = page.url
    report_id = int(re.search(r"/emulation/reports/(\d+)", report_url).group(1))

    # The officer, in another browser: the queue lists it; verifying it counts it.
    officer = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN", base_url=live_url)
    desk = officer.new_page()
    sign_in(desk, OFFICER)
    desk.goto("/emulation/reports/review")
    desk.locator(f"a[href$='/emulation/reports/{report_id}']").first.click()
    desk.get_by_role("button", name="Xác nhận báo cáo").click()
    expect(desk.locator("body")).to_contain_text("Đã xác nhận báo cáo")
    assert query("SELECT status FROM activity_reports WHERE id = ?", report_id) == [("verified",)]

    # No reload: the board moves within an interval or two (the team's points rise).
    expect(_team_row(board, SHOWCASE).locator("td").nth(2)).not_to_have_text(points_before, timeout=15_000)
    after = float(_team_row(board, SHOWCASE).locator("td").nth(2).inner_text().replace(",", "."))
    assert after > float(points_before.replace(",", "."))
    officer.close()
    screen.close()
