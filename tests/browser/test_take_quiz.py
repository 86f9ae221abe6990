"""A member takes a whole quiz on a 360-px phone: answers saved as chosen, a reload and a second
phone in the middle (same questions, picks and remaining time), the network lost and back, free
navigation, the review screen, submitting, the score."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.browser.test_foundation import MEMBER_OF, SHOWCASE, no_sideways_scroll, sign_in
from tests.servers import ROOT, server_env


@pytest.fixture
def member_phone(query) -> str:  # noqa: ANN001
    return query(MEMBER_OF, SHOWCASE, "member")[0][0]


def _live_round(live_db, *args: str) -> int:  # noqa: ANN001
    """A round id from tests.competitions.play_live, run on the live server's database."""
    found = subprocess.run(
        [sys.executable, "-m", "tests.competitions.play_live", *args], env=server_env(f"sqlite:///{live_db}"),
        cwd=ROOT, check=True, timeout=60, capture_output=True, text=True,
    )
    return int(found.stdout.split()[-1])


@pytest.fixture
def quiz_round(live_db, live_url, member_phone) -> int:  # noqa: ANN001
    """The demo's open round (one is added when the demo has none the member may still take)."""
    return _live_round(live_db, "--browser", member_phone)


def _seconds_left(page) -> int:  # noqa: ANN001
    minutes, seconds = page.locator("#timer-text").inner_text().split(":")
    return int(minutes) * 60 + int(seconds)


def _expect_question(page, number: int, text: str, picked: str | None) -> None:  # noqa: ANN001
    expect(page.locator("#question-heading")).to_have_text(re.compile(rf"^Câu {number}/\d+$"))
    expect(page.locator("#question-text")).to_have_text(text)
    if picked is not None:
        expect(page.locator('.choice[aria-pressed="true"]')).to_have_text(picked)


def test_a_member_takes_a_whole_quiz_on_a_phone(page, browser, live_url, query, member_phone, quiz_round):  # noqa: ANN001
    sign_in(page, member_phone)
    page.goto(f"/rounds/{quiz_round}")
    expect(page.get_by_role("heading", level=2, name="Thể lệ")).to_be_visible()
    no_sideways_scroll(page)
    prediction = page.get_by_label("Câu hỏi dự đoán")
    if prediction.count():
        prediction.fill("khoảng trăm")
        page.get_by_role("button", name="Bắt đầu làm bài").click()
        expect(page.locator("#prediction-error")).to_contain_text("số nguyên không âm")
        prediction.fill("1.250")
    page.get_by_role("button", name="Bắt đầu làm bài").click()
    page.wait_for_url(re.compile(r"/rounds/\d+/play$"))

    heading = page.locator("#question-heading")
    expect(heading).to_have_text(re.compile(r"^Câu 1/\d+$"))
    total = int(heading.inner_text().split("/")[1])
    status = page.locator("#save-status")
    seen: list[tuple[str, str]] = []  # (question, the choice picked) for questions 1-3
    for number in (1, 2, 3):
        choice = page.locator(".choice").nth(number % 2)
        choice.click()
        expect(choice).to_have_attribute("aria-pressed", "true")
        expect(status).to_have_text("Đã lưu")
        seen.append((page.locator("#question-text").inner_text(), choice.text_content()))
        page.get_by_role("button", name="Câu tiếp ›").click()
        expect(heading).to_be_focused()
    expect(page.locator("#progress-label")).to_have_text(f"Đã trả lời 3/{total} câu")
    fourth = page.locator("#question-text").inner_text()
    no_sideways_scroll(page)

    # The network drops: the pick waits and is retried; back online, it is saved.
    page.context.set_offline(True)
    page.locator(".choice").first.click()
    expect(status).to_have_text("Mất kết nối, sẽ thử lại")
    page.context.set_offline(False)
    expect(status).to_have_text("Đã lưu", timeout=20_000)
    seen.append((fourth, page.locator(".choice").first.text_content()))

    # Reload: the same question, the same picks, the time still running from the server's deadline.
    left = _seconds_left(page)
    page.reload()
    _expect_question(page, 4, fourth, seen[3][1])
    assert left - 15 <= _seconds_left(page) <= left
    for number in (3, 2, 1):
        page.get_by_role("button", name="‹ Câu trước").click()
        expect(heading).to_be_focused()
        _expect_question(page, number, *seen[number - 1])
    expect(page.get_by_role("button", name="‹ Câu trước")).to_be_disabled()

    # Another phone signed in as the same member continues the same attempt.
    other = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN", base_url=live_url)
    phone = other.new_page()
    sign_in(phone, member_phone)
    phone.goto(f"/rounds/{quiz_round}")
    phone.get_by_role("link", name="Làm tiếp").click()
    _expect_question(phone, 1, *seen[0])
    expect(phone.locator("#progress-label")).to_have_text(f"Đã trả lời 4/{total} câu")
    other.close()

    page.get_by_role("button", name="Xem lại và nộp bài").click()
    expect(page.get_by_role("heading", name="Xem lại bài làm")).to_be_focused()
    expect(page.locator("#review-summary")).to_have_text(f"Bạn đã trả lời 4/{total} câu.")
    expect(page.locator(".review-item.answered")).to_have_count(4)
    page.get_by_role("button", name="Câu 5 chưa trả lời").click()
    _expect_question(page, 5, page.locator("#question-text").inner_text(), None)
    page.locator(".choice").first.click()
    expect(status).to_have_text("Đã lưu")
    page.get_by_role("button", name="Xem lại và nộp bài").click()
    page.get_by_role("button", name="Nộp bài", exact=True).click()
    expect(page.locator("#confirm-text")).to_contain_text(f"Còn {total - 5} câu chưa trả lời")
    page.get_by_role("button", name="Nộp bài ngay").click()

    expect(page.get_by_role("heading", name="Kết quả")).to_be_focused()
    score = query(
        "SELECT a.score FROM attempts a JOIN users u ON u.id = a.user_id WHERE u.phone = ? AND a.context = ?",
        member_phone, f"round:{quiz_round}",
    )
    assert len(score) == 1
    expect(page.locator("#result-score")).to_have_text(f"Điểm: {score[0][0]}/{total}")
    expect(page.locator("#result-time")).to_contain_text("Thời gian làm bài:")
    no_sideways_scroll(page)
    page.get_by_role("link", name="Về trang đợt thi").click()
    expect(page.locator("table")).to_contain_text(f"{score[0][0]}/{total}")


def test_at_the_deadline_the_page_submits_by_itself(page, live_db, live_url, member_phone):  # noqa: ANN001
    round_id = _live_round(live_db, "--closing-in", "20")  # the attempt's deadline is the round's closing
    sign_in(page, member_phone)
    page.goto(f"/rounds/{round_id}")
    page.get_by_role("button", name="Bắt đầu làm bài").click()
    page.wait_for_url(re.compile(r"/rounds/\d+/play$"))
    expect(page.locator("#question-heading")).to_have_text("Câu 1/10")
    assert _seconds_left(page) <= 20
    page.locator(".choice").first.click()
    expect(page.locator("#announce")).to_have_text("Còn 10 giây làm bài.", timeout=25_000)
    expect(page.get_by_role("heading", name="Kết quả")).to_be_visible(timeout=20_000)
    expect(page.locator("#result-score")).to_have_text(re.compile(r"^Điểm: [01]/10$"))
    expect(page.locator("#announce")).to_have_text("Hết giờ! Bài thi đang được nộp.")
