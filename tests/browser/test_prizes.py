"""Prizes end to end: a Department admin takes the latest closed round of the demo from the
proposal to a published results page, on a phone; a visitor, not signed in, reads the winners."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.test_foundation import no_sideways_scroll, sign_in

# The latest closed weekly round: played by the demo (it has entries) and not awarded yet (the demo
# awards the one before it). Open rounds close later, so the earliest such round is the one.
UNAWARDED_CLOSED_ROUND = """
    SELECT r.id FROM rounds r WHERE r.status = 'published' AND r.period_kind = 'weekly'
      AND EXISTS (SELECT 1 FROM round_entries e WHERE e.round_id = r.id)
      AND NOT EXISTS (SELECT 1 FROM awards a WHERE a.round_id = r.id)
    ORDER BY r.closes_at LIMIT 1
"""


def test_a_closed_round_from_proposal_to_published_results(page, browser, live_url, query):  # noqa: ANN001
    round_id = query(UNAWARDED_CLOSED_ROUND)[0][0]
    page.on("dialog", lambda dialog: dialog.accept())  # "Phê duyệt và chốt danh sách đoạt giải?"
    sign_in(page, "admin")
    page.goto(f"/awards/new?round={round_id}&preset=weekly_individual")
    page.get_by_role("button", name="Lưu cơ cấu giải").click()
    page.wait_for_url(re.compile(r"/awards/\d+"))
    award_id = int(re.search(r"/awards/(\d+)", page.url).group(1))

    page.goto(f"/awards/{award_id}/review")
    no_sideways_scroll(page)
    expect(page.locator("body")).to_contain_text("Giải Nhất")
    while page.locator("input[name=decision][value=add]").count():  # a tie at a boundary: everyone wins
        tie = page.locator("form", has=page.locator("input[name=decision][value=add]")).first
        tie.locator("input[name=decision][value=add]").check()
        tie.locator("textarea[name=reason]").fill("Bằng điểm, bằng thời gian: ban tổ chức thêm giải.")
        tie.get_by_role("button", name="Lưu quyết định").click()
        expect(page.locator("body")).to_contain_text("Đã xử lý trường hợp đồng hạng.")
    page.get_by_role("button", name="Phê duyệt danh sách đoạt giải").click()
    expect(page.locator("body")).to_contain_text("Đã phê duyệt danh sách đoạt giải.")
    page.get_by_role("button", name="Công bố kết quả và thông báo cho người đoạt giải").click()
    expect(page.locator("body")).to_contain_text("Đã công bố kết quả và gửi thông báo cho người đoạt giải.")

    first = query("SELECT name, phone FROM prize_winners WHERE award_id = ? ORDER BY position LIMIT 1", award_id)[0]
    visitor = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN", base_url=live_url)
    results = visitor.new_page()
    results.goto(f"/prizes/{award_id}")
    expect(results.locator("body")).to_contain_text(first[0])
    if first[1]:
        assert first[1] not in results.content()  # phone numbers masked on the public page
    no_sideways_scroll(results)
    assert query("SELECT status FROM awards WHERE id = ?", award_id) == [("published",)]
    visitor.close()
