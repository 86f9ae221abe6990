"""A whole live contest in real browsers: the organiser's host screen on a projector (1280×720) and
two phones (360×740): a signed-in demo member and a guest with a nickname. The lobby fills, the
host starts, both answer, the reveal shows the distribution, the leaderboard, the next question ...
to the podium on the projector and on the phones; one phone reloads mid-contest and comes back as
the same player with the same score. The server runs its real timers: both players answer every
question, so each reveal comes at once."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from playwright.sync_api import expect

from competitions.demo import HOST
from tests.browser.test_foundation import SHOWCASE, no_sideways_scroll, sign_in
from tests.servers import ROOT, server_env

# A member of the showcase team that the other browser tests do not play with.
MEMBER = """
    SELECT u.phone, u.full_name FROM users u JOIN memberships m ON m.user_id = u.id JOIN teams t ON t.id = m.team_id
    WHERE t.name = ? AND m.status = 'active' AND m.role = 'member' ORDER BY u.id LIMIT 1 OFFSET 2
"""
GUEST = "Khách Minh Anh"
GUEST_TEAM = "Tổ CNSCĐ Ấp Tân Hòa – Xã Châu Thành"


def _prepare(live_db) -> int:  # noqa: ANN001
    done = subprocess.run(
        [sys.executable, "-m", "tests.competitions.live_prepare"], env=server_env(f"sqlite:///{live_db}"),
        cwd=ROOT, check=True, timeout=60, capture_output=True, text=True,
    )
    return int(done.stdout.split()[0])


def _correct(query, contest_id: int) -> list[int]:  # noqa: ANN001
    version_ids = json.loads(query("SELECT version_ids FROM live_contests WHERE id = ?", contest_id)[0][0])
    return [json.loads(query("SELECT correct FROM question_versions WHERE id = ?", vid)[0][0])[0]
            for vid in version_ids]


def _phone(browser, live_url: str):  # noqa: ANN001, ANN202
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN", base_url=live_url)
    context.set_default_timeout(10_000)
    return context, context.new_page()


def _answer(phone, choice: int) -> None:  # noqa: ANN001
    button = phone.locator(".live-answer").nth(choice)
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")


def test_a_live_contest_from_the_lobby_to_the_podium(browser, live_db, live_url, query):  # noqa: ANN001
    contest_id = _prepare(live_db)
    right = _correct(query, contest_id)
    phone_number, member_name = query(MEMBER, SHOWCASE)[0]

    screen = browser.new_context(viewport={"width": 1280, "height": 720}, locale="vi-VN", base_url=live_url)
    screen.set_default_timeout(10_000)
    host = screen.new_page()
    sign_in(host, HOST)
    host.goto(f"/live/contests/{contest_id}")
    host.get_by_role("button", name="Mở phòng chờ").click()
    expect(host.locator(".flash-success")).to_contain_text("Phòng chờ đã mở với mã PIN")
    host.get_by_role("link", name="Mở màn hình trình chiếu").click()
    pin = host.locator("#pin").inner_text()
    assert re.fullmatch(r"\d{6}", pin)
    expect(host.locator(".live-qr svg")).to_be_visible()
    expect(host.locator("#player-count")).to_have_text("0")
    expect(host.get_by_role("button", name="Bắt đầu")).to_be_disabled()

    # the member types the PIN on the PIN page; the guest opens the join link of the QR code
    member_context, member = _phone(browser, live_url)
    sign_in(member, phone_number)
    member.goto("/live")
    member.get_by_label("Mã PIN").fill("000000")
    member.get_by_role("button", name="Tiếp tục").click()
    expect(member.locator("#pin-error")).to_have_text("Mã PIN không đúng hoặc cuộc thi đã kết thúc.")
    member.get_by_label("Mã PIN").fill(pin)
    member.get_by_role("button", name="Tiếp tục").click()
    member.get_by_role("button", name="Vào thi").click()
    expect(member.get_by_role("heading", name="Bạn đã vào phòng chờ")).to_be_visible()
    no_sideways_scroll(member)

    guest_context, guest = _phone(browser, live_url)
    guest.goto(f"/live/join?pin={pin}")
    guest.get_by_label("Biệt danh").fill("A")
    guest.get_by_label("Tổ của bạn").select_option(label=GUEST_TEAM)
    guest.get_by_role("button", name="Vào thi").click()
    expect(guest.locator("#nickname-error")).to_have_text("Biệt danh dài từ 2 đến 20 ký tự.")
    guest.get_by_label("Biệt danh").fill(GUEST)
    guest.get_by_role("button", name="Vào thi").click()
    expect(guest.get_by_role("heading", name="Bạn đã vào phòng chờ")).to_be_visible()
    expect(guest.locator("#me-name")).to_have_text(GUEST)

    players = host.locator("#players")
    expect(players).to_contain_text(member_name[:20])
    expect(players).to_contain_text(GUEST)
    expect(host.locator("#player-count")).to_have_text("2")
    host.get_by_role("button", name="Bắt đầu").click()

    # question 1: the member right, the guest wrong
    for phone in (member, guest):
        expect(phone.locator("#question-heading")).to_have_text("Câu 1/3")
        expect(phone.locator(".live-answer")).to_have_count(4)
        assert phone.locator(".live-answer").first.bounding_box()["height"] >= 64
    expect(host.locator("#q-number")).to_have_text("Câu 1/3")
    expect(host.locator("#q-choices .live-shape")).to_have_text(["▲", "◆", "●", "■"])
    expect(host.locator("#q-timer")).to_have_text(re.compile(r"^(60|59|58|57|56|55)$"))
    no_sideways_scroll(guest)
    _answer(member, right[0])
    expect(member.locator("#question-note")).to_have_text("Đã gửi câu trả lời. Chờ công bố đáp án…")
    expect(host.locator("#q-answers")).to_have_text("1/2 đã trả lời")
    _answer(guest, (right[0] + 1) % 4)

    reveal = host.locator("#r-choices")
    expect(reveal.locator(".live-bar-count")).to_have_text(
        ["1" if i in (right[0], (right[0] + 1) % 4) else "0" for i in range(4)])
    expect(reveal.locator(".live-choice.right")).to_have_count(1)
    expect(reveal.locator(".live-choice").nth(right[0])).to_have_class(re.compile("right"))
    expect(host.locator("#r-answered")).to_have_text("2/2 người đã trả lời")
    expect(member.get_by_role("heading", name="Chính xác!")).to_be_visible()
    expect(guest.get_by_role("heading", name="Chưa đúng")).to_be_visible()
    expect(guest.locator("#result-points")).to_have_text("+0 điểm")
    points = int(member.locator("#result-points").inner_text().strip("+ điểm"))
    assert 500 <= points <= 1000
    expect(member.locator("#me-score")).to_have_text(str(points))
    expect(member.locator("#result-rank")).to_have_text("1/2")

    host.get_by_role("button", name="Xem bảng xếp hạng").click()
    top = host.locator("#top tr")
    expect(top.first).to_contain_text(member_name[:20])
    expect(top.first).to_contain_text(str(points))
    expect(host.locator("#teams tr")).to_have_count(2)
    expect(host.locator("#board-screen .live-team-rule")).to_have_text(
        "Điểm đội = trung bình điểm các thành viên, đội đông người không có lợi thế")
    host.get_by_role("button", name="Câu tiếp").click()

    # question 2: the member's phone reloads before answering and comes back with the same score
    expect(member.locator("#question-heading")).to_have_text("Câu 2/3")
    member.reload()
    expect(member.locator("#question-heading")).to_have_text("Câu 2/3")
    expect(member.locator("#me-score")).to_have_text(str(points))
    expect(member.locator("#me-name")).to_have_text(member_name[:20])
    expect(member.locator("#join-screen")).to_be_hidden()
    _answer(member, right[1])
    _answer(guest, right[1])
    expect(member.get_by_role("heading", name="Chính xác!")).to_be_visible()
    expect(guest.get_by_role("heading", name="Chính xác!")).to_be_visible()
    expect(member.locator("#result-streak")).to_have_text("2 câu liên tiếp")
    expect(host.locator("#r-choices .live-bar-count").nth(right[1])).to_have_text("2")
    host.get_by_role("button", name="Xem bảng xếp hạng").click()
    expect(host.locator("#top tr")).to_have_count(2)
    host.get_by_role("button", name="Câu tiếp").click()

    # question 3, then the podium
    expect(guest.locator("#question-heading")).to_have_text("Câu 3/3")
    _answer(member, right[2])
    _answer(guest, (right[2] + 2) % 4)
    expect(guest.get_by_role("heading", name="Chưa đúng")).to_be_visible()
    final = int(member.locator("#result-score").inner_text())
    host.get_by_role("button", name="Xem bảng xếp hạng").click()
    host.get_by_role("button", name="Kết thúc và trao giải").click()

    expect(host.get_by_role("heading", name="Bục vinh quang")).to_be_visible()
    expect(host.locator("#podium li.place-1")).to_contain_text(member_name[:20])
    expect(host.locator("#podium li.place-2")).to_contain_text(GUEST)
    expect(host.locator("#podium-teams li")).to_have_count(2)
    expect(host.locator("#final tr").first).to_contain_text(str(final))
    expect(host.get_by_role("link", name="Xem kết quả và tải Excel")).to_be_visible()
    for phone in (member, guest):
        expect(phone.get_by_role("heading", name="Kết thúc! Bục vinh quang")).to_be_visible()
        expect(phone.locator("#podium li").first).to_contain_text(member_name[:20])
    expect(member.locator("#podium-mine")).to_have_text(f"Bạn đạt {final} điểm, hạng 1.")

    stored = query("SELECT nickname, score FROM live_players WHERE contest_id = ? ORDER BY score DESC", contest_id)
    assert stored == [(member_name[:20], final), (GUEST, stored[1][1])] and stored[1][1] > 0
    host.get_by_role("link", name="Xem kết quả và tải Excel").click()
    expect(host.locator("table.live-results tbody tr")).to_have_count(2)
    for context in (member_context, guest_context, screen):
        context.close()
