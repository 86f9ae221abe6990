"""A board open on a big screen moves while a member, in another browser, submits an attempt."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.test_foundation import SHOWCASE, sign_in
from tests.browser.test_take_quiz import _live_round

# The showcase team's second demo member: not the one tests/browser/test_take_quiz.py plays with
# (nor one that other browser tests add to the team, who has no password).
SECOND_MEMBER = """
    SELECT u.phone, u.full_name FROM users u JOIN memberships m ON m.user_id = u.id JOIN teams t ON t.id = m.team_id
    WHERE t.name = ? AND m.status = 'active' AND m.role = 'member' ORDER BY u.id LIMIT 1 OFFSET 1
"""


def test_a_board_moves_while_another_browser_submits(page, browser, live_db, live_url, query):  # noqa: ANN001
    phone, name = query(SECOND_MEMBER, SHOWCASE)[0]
    round_id = _live_round(live_db, "--browser", phone)
    screen = browser.new_context(viewport={"width": 1280, "height": 720}, locale="vi-VN", base_url=live_url)
    board = screen.new_page()
    board.goto(f"/boards/round:{round_id}:people")
    expect(board.locator("[data-live-status]")).to_have_text("Trực tiếp: bảng tự cập nhật khi có kết quả mới.")
    size = int(board.locator("[data-size]").inner_text())
    expect(board.locator("table.board")).not_to_contain_text(name)

    sign_in(page, phone)
    page.goto(f"/rounds/{round_id}")
    prediction = page.get_by_label("Câu hỏi dự đoán")
    if prediction.count():
        prediction.fill("120")
    page.get_by_role("button", name="Bắt đầu làm bài").click()
    page.wait_for_url(re.compile(r"/rounds/\d+/play$"))
    heading = page.locator("#question-heading")
    expect(heading).to_have_text(re.compile(r"^Câu 1/\d+$"))
    total = int(heading.inner_text().split("/")[1])
    for number in range(1, total + 1):
        page.locator(".choice").first.click()
        expect(page.locator("#save-status")).to_have_text("Đã lưu")
        if number < total:
            page.get_by_role("button", name="Câu tiếp ›").click()
    page.get_by_role("button", name="Xem lại và nộp bài").click()
    page.get_by_role("button", name="Nộp bài", exact=True).click()
    page.get_by_role("button", name="Nộp bài ngay").click()
    expect(page.get_by_role("heading", name="Kết quả")).to_be_focused()

    # No reload: the update reaches the open board within an interval or two.
    expect(board.locator("[data-size]")).to_have_text(str(size + 1), timeout=10_000)
    score = query(
        "SELECT a.score FROM attempts a JOIN users u ON u.id = a.user_id WHERE u.phone = ? AND a.context = ?",
        phone, f"round:{round_id}",
    )[0][0]
    best = board.locator("table.board tbody tr").first.locator("td").nth(2).inner_text()
    if score > int(best.split("/")[0]):  # the member now leads the board: their row is there
        expect(board.locator("table.board")).to_contain_text(name)
    screen.close()
