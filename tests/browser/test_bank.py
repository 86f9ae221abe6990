"""The question bank on a 360-px phone, as the Department's admin uses it: searching without
accents and filtering, a question's page, importing a spreadsheet in the Department's own layout
(preview with every problem, then confirm), and retiring questions in bulk from the list."""

from __future__ import annotations

import re

import openpyxl
from playwright.sync_api import expect

from core.demo import DEMO_PASSWORD
from tests.browser.test_foundation import no_sideways_scroll, sign_in

ADMIN = "admin"  # the demo's Department admin
POLICY = "Chủ trương – chính sách"
NATIONAL_DAY = "Ngày Chuyển đổi số quốc gia là ngày nào hằng năm?"  # demo bank: policy, easy, answer B
PILLARS = "Ba trụ cột của chuyển đổi số quốc gia gồm những trụ cột nào?"  # demo bank: policy, easy
SOCIETY = "Theo hướng dẫn của Bộ Thông tin và Truyền thông, Tổ công nghệ số cộng đồng"  # demo: Xã hội số

# The Department's layout: its own header names, in its own order, with no "Loại câu hỏi" column.
DEPARTMENT_HEADERS = [
    "STT", "Lĩnh vực", "Mức độ", "Nội dung câu hỏi", "Đáp án A", "Đáp án B", "Đáp án C", "Đáp án D",
    "Đáp án đúng", "Giải thích",
]
TAG = "(kiểm thử nhập tệp)"  # in the new questions' text only: no demo question has all four words
MARKER = "kiem thu nhap tep"  # ... and the bank finds them by it, typed without accents
PHISHING = f"Khi nhận tin nhắn báo trúng thưởng kèm đường link lạ, người dân nên làm gì trước tiên? {TAG}"
OTP = f"Mã OTP ngân hàng gửi qua tin nhắn được phép cung cấp cho ai? {TAG}"
NEW_QUESTIONS = [
    ["Kỹ năng số và an toàn thông tin", "Dễ", PHISHING, "Bấm vào link để nhận thưởng ngay",
     "Không bấm link, kiểm tra lại với tổng đài chính thức", "Chuyển tiếp cho người thân", "Trả lời tin nhắn",
     "B", "Tin nhắn trúng thưởng kèm link lạ thường là lừa đảo; không bấm link, hãy hỏi tổng đài chính thức."],
    ["Kỹ năng số & an toàn thông tin", "Trung bình", OTP, "Nhân viên ngân hàng gọi điện hỏi",
     "Công an xã khi được yêu cầu", "Người thân trong gia đình", "Không cung cấp cho bất kỳ ai",
     "D", "Mã OTP chỉ dùng để chính chủ xác nhận giao dịch; ngân hàng không bao giờ hỏi mã OTP."],
]
QUESTION_COUNT = "SELECT count(*) FROM questions"
IMPORTED = """
    SELECT q.id, q.status FROM questions q JOIN question_versions v ON v.id = q.current_version_id
    WHERE v.text IN (?, ?) ORDER BY q.id
"""


def _bank_file(path, rows) -> str:  # noqa: ANN001
    """An .xlsx as the Department writes it: a banner row above the header row, then numbered rows."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["NGÂN HÀNG CÂU HỎI THI ĐUA TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG NĂM 2026"])
    sheet.append(DEPARTMENT_HEADERS)
    for number, row in enumerate(rows, start=1):
        sheet.append([number, *row])
    book.save(path)
    return str(path)


def _upload(page, path: str, status: str | None = None) -> None:  # noqa: ANN001
    page.goto("/bank/")
    page.get_by_role("link", name="Nhập từ tệp").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nhập câu hỏi từ bảng tính")
    page.get_by_label(re.compile("Tệp câu hỏi")).set_input_files(path)
    if status:
        page.get_by_label("Trạng thái của các câu hỏi nhập vào").select_option(label=status)
    page.get_by_role("button", name="Tải lên và xem trước").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Xem trước")


def _preview_row(page, number: int):  # noqa: ANN001, ANN202 - a Locator
    """The preview's row for a spreadsheet row, found by its row header (the row number in Excel)."""
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=str(number), exact=True))


def _import_new_questions(page, tmp_path) -> None:  # noqa: ANN001
    _upload(page, _bank_file(tmp_path / "moi.xlsx", NEW_QUESTIONS), status="Đã duyệt")
    expect(page.get_by_text("2 hợp lệ", exact=True)).to_be_visible()
    expect(page.get_by_text("0 lỗi", exact=True)).to_be_visible()
    expect(page.get_by_text("nhập với trạng thái: đã duyệt")).to_be_visible()
    no_sideways_scroll(page)
    page.get_by_role("button", name="Xác nhận nhập 2 câu hỏi").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ngân hàng câu hỏi")
    expect(page.get_by_role("status").first).to_contain_text("Đã nhập 2 câu hỏi (đã duyệt); bỏ qua 0 dòng lỗi.")


def test_admin_searches_without_accents_filters_and_opens_a_question(page, query):  # noqa: ANN001
    sign_in(page, ADMIN, DEMO_PASSWORD)
    page.goto("/bank/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ngân hàng câu hỏi")
    no_sideways_scroll(page)

    search = page.get_by_role("search")
    search.get_by_label("Tìm kiếm (không cần gõ dấu)").fill("chuyen doi so")
    search.get_by_role("button", name="Lọc").click()
    questions = page.get_by_role("table").get_by_role("link")
    expect(questions.filter(has_text=NATIONAL_DAY)).to_have_count(1)  # "chuyển đổi số", typed without accents
    expect(questions.filter(has_text=PILLARS)).to_have_count(1)
    expect(questions.filter(has_text=SOCIETY)).to_have_count(1)
    unfiltered = questions.count()

    search.get_by_label("Lĩnh vực").select_option(label=POLICY)
    search.get_by_label("Mức độ").select_option(label="Dễ")
    search.get_by_role("button", name="Lọc").click()
    expect(search.get_by_label("Tìm kiếm (không cần gõ dấu)")).to_have_value("chuyen doi so")  # filters kept
    expect(questions.filter(has_text=SOCIETY)).to_have_count(0)  # another category
    expect(questions.filter(has_text=NATIONAL_DAY)).to_have_count(1)
    rows = page.get_by_role("table").locator("tbody tr")
    shown = rows.count()
    assert 2 <= shown < unfiltered
    expect(page.get_by_role("status")).to_have_text(f"{shown} câu hỏi")
    for index in range(shown):
        cells = rows.nth(index).get_by_role("cell")
        expect(cells.nth(3)).to_have_text(POLICY)  # checkbox, #, question, category, difficulty, ...
        expect(cells.nth(4)).to_have_text("Dễ")
    no_sideways_scroll(page)

    questions.filter(has_text=NATIONAL_DAY).click()
    question_id = query(
        "SELECT question_id FROM question_versions WHERE text = ? ORDER BY id DESC LIMIT 1", NATIONAL_DAY
    )[0][0]
    expect(page).to_have_url(re.compile(rf"/bank/{question_id}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Câu hỏi #{question_id}")
    expect(page.get_by_text(NATIONAL_DAY)).to_be_visible()
    choices = page.locator("section.card ol").first.get_by_role("listitem")
    expect(choices).to_have_count(4)
    expect(choices.nth(0)).to_have_text("02/9")
    expect(choices.nth(1)).to_have_text(re.compile(r"^10/10\s+✓ Đáp án đúng$"))
    for index in (0, 2, 3):
        expect(choices.nth(index)).not_to_contain_text("Đáp án đúng")
    facts = page.locator("section.card dl.facts").first
    expect(facts.locator("dt:has-text('Đáp án đúng') + dd")).to_have_text("B")
    expect(facts.locator("dt:has-text('Lĩnh vực') + dd")).to_have_text(POLICY)
    expect(facts.locator("dt:has-text('Giải thích') + dd")).to_have_text(
        "Thủ tướng Chính phủ quyết định lấy ngày 10 tháng 10 hằng năm là Ngày Chuyển đổi số quốc gia."
    )
    no_sideways_scroll(page)


def test_admin_imports_the_departments_spreadsheet_with_preview_then_confirm(page, query, tmp_path):  # noqa: ANN001
    sign_in(page, ADMIN, DEMO_PASSWORD)
    before = query(QUESTION_COUNT)[0][0]
    duplicate_id = query(
        "SELECT question_id FROM question_versions WHERE text = ? ORDER BY id LIMIT 1", NATIONAL_DAY
    )[0][0]

    # Row 3 is fine, row 4 names a fifth choice that is not there, row 5 is already in the bank
    # (typed in lower case without its question mark: still the same question).
    bad_letter = [*NEW_QUESTIONS[0][:7], "E", NEW_QUESTIONS[0][8]]
    bad_letter[2] = f"Câu hỏi có đáp án đúng là một phương án không tồn tại {TAG}"
    duplicate = [POLICY, "Dễ", NATIONAL_DAY.lower().rstrip("?"), "02/9", "10/10", "19/8", "01/7", "B", ""]
    _upload(page, _bank_file(tmp_path / "loi.xlsx", [NEW_QUESTIONS[0], bad_letter, duplicate]), status="Đã duyệt")
    expect(page.get_by_text("1 hợp lệ", exact=True)).to_be_visible()
    expect(page.get_by_text("2 lỗi", exact=True)).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Tệp còn 2 dòng lỗi nên chưa ghi gì")
    expect(_preview_row(page, 3)).to_contain_text("Hợp lệ")
    expect(_preview_row(page, 4)).to_contain_text("Lỗi")
    expect(_preview_row(page, 4)).to_contain_text("Đáp án đúng: Đáp án đúng E không có phương án tương ứng.")
    expect(_preview_row(page, 5)).to_contain_text("Lỗi")
    expect(_preview_row(page, 5)).to_contain_text(
        f"Nội dung câu hỏi: Câu hỏi đã có trong ngân hàng (câu #{duplicate_id})."
    )
    no_sideways_scroll(page)
    assert query(QUESTION_COUNT)[0][0] == before

    # Confirming without "valid rows only" still writes nothing.
    page.get_by_role("button", name="Xác nhận nhập 1 câu hỏi").click()
    expect(page.get_by_role("alert").first).to_contain_text("Tệp còn lỗi nên chưa ghi gì")
    assert query(QUESTION_COUNT)[0][0] == before

    _import_new_questions(page, tmp_path)
    imported = query(IMPORTED, PHISHING, OTP)
    assert [status for _id, status in imported] == ["approved", "approved"]
    assert query(QUESTION_COUNT)[0][0] == before + 2

    search = page.get_by_role("search")
    search.get_by_label("Tìm kiếm (không cần gõ dấu)").fill(MARKER)
    search.get_by_role("button", name="Lọc").click()
    expect(page.get_by_role("status")).to_have_text("2 câu hỏi")
    table = page.get_by_role("table")
    expect(table.get_by_role("link", name=PHISHING)).to_be_visible()
    expect(table.get_by_role("link", name=OTP)).to_be_visible()
    expect(table.locator("tbody tr").filter(has_text=OTP)).to_contain_text("Đã duyệt")
    no_sideways_scroll(page)


def test_admin_retires_the_imported_questions_in_bulk(page, query, tmp_path):  # noqa: ANN001
    sign_in(page, ADMIN, DEMO_PASSWORD)
    if len(query(IMPORTED, PHISHING, OTP)) < 2:  # run on its own: import them first
        _import_new_questions(page, tmp_path)
    ids = [question_id for question_id, _status in query(IMPORTED, PHISHING, OTP)]

    page.goto("/bank/")
    search = page.get_by_role("search")
    search.get_by_label("Tìm kiếm (không cần gõ dấu)").fill(MARKER)
    search.get_by_role("button", name="Lọc").click()
    for question_id in ids:
        page.get_by_role("checkbox", name=f"Chọn câu #{question_id}").check()
    page.get_by_role("button", name="Ngừng sử dụng các câu đã chọn").click()
    expect(page.get_by_role("status").first).to_have_text("Đã ngừng sử dụng 2 câu hỏi.")
    expect(search.get_by_label("Tìm kiếm (không cần gõ dấu)")).to_have_value(MARKER)  # back to the same list
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(2)
    for index in range(2):
        expect(rows.nth(index)).to_contain_text("Ngừng sử dụng")
    no_sideways_scroll(page)

    found = query("SELECT status, retired_by_id IS NOT NULL FROM questions WHERE id IN (?, ?)", *ids)
    assert found == [("retired", 1), ("retired", 1)]
