"""Importing questions from a spreadsheet: the layout, every rule with its row and column, duplicates,
all-or-nothing and "valid rows only", and files that cannot be imported."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from core.accounts.roles import RoleCode
from core.errors import PermissionDenied, ValidationError
from quiz import importer
from quiz.bank import questions_by_ids
from quiz.importer import HEADERS, import_questions, read_questions_file
from quiz.models import Question, QuestionStatus
from tests.core.sheets import csv_bytes, xlsx_bytes

# STT, Câu hỏi, Loại, A..F, Đáp án đúng, Lĩnh vực, Mức độ, Giải thích, Nguồn, Thẻ
GOOD = ["1", "Ứng dụng định danh điện tử quốc gia là ứng dụng nào?", "", "VssID", "VNeID", "Zalo", "", "", "",
        "B", "Chính quyền số", "Dễ", "VNeID do Bộ Công an phát triển.", "Nghị định 69/2024/NĐ-CP", "vneid"]
COLUMN = {header: index for index, header in enumerate(HEADERS)}


def row(text: str | None = None, **cells: str) -> list[str]:
    """A valid row of the layout with ``cells`` changed, by header ("Đáp án đúng": "C")."""
    values = list(GOOD)
    if text is not None:
        values[COLUMN["Câu hỏi"]] = text
    for header, value in cells.items():
        values[COLUMN[header]] = value
    return values


def sheet(*rows: list[str], header: list[str] = HEADERS) -> list[list[str]]:
    return [["NGÂN HÀNG CÂU HỎI THI TÌM HIỂU CHUYỂN ĐỔI SỐ"], ["Ngày 20/4/2025"], [], header, *rows]


def table(data: bytes, name: str = "cau-hoi.xlsx"):
    return read_questions_file(name, io.BytesIO(data))


def check(data: bytes, name: str = "cau-hoi.xlsx", **kwargs):
    found = table(data, name)
    return import_questions(found.rows, None, headers=found.headers, **kwargs)


def written(plan) -> list[Question]:
    return sorted(questions_by_ids(plan.question_ids), key=lambda q: plan.question_ids.index(q.id))


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Question))


def test_staff_layout_title_rows_skipped_headers_in_any_order_and_spelling(session, quiz):
    header = ["Đáp án đúng (ghi chữ cái)", "NOI DUNG CAU HOI", "Đáp án A", "Đáp án B", "Đáp án C", "chủ đề", "Mức độ:",
              "Căn cứ", "Giải thích", "Thẻ", "Loại câu hỏi", "Ghi chú"]
    rows = [
        ["A, C", "Những ứng dụng nào\ndo cơ quan nhà nước phát triển?", "VNeID", "TikTok", "VssID",
         "xa hoi so", "KHÓ", "Đề án 06", "VNeID: Bộ Công an.\nVssID: BHXH Việt Nam.", "vneid, VssID", "",
         "bỏ qua cột này"],
        [None] * 12,  # a blank row in the middle
        ["a", "Câu Đúng/Sai: VNeID miễn phí.", "Đúng", "Sai", None, "Chính quyền số", "dễ", None, None, None,
         "Đúng/Sai", None],
    ]
    plan = check(xlsx_bytes(sheet(*rows, header=header), merge="A1:L1"), status=QuestionStatus.APPROVED)
    assert plan.ok and plan.written, plan.error_lines()
    assert [r.number for r in plan.rows] == [5, 7]
    questions = written(plan)
    first, second = (q.current for q in questions)
    assert (first.text, first.choices, first.correct, first.kind) == (
        "Những ứng dụng nào\ndo cơ quan nhà nước phát triển?", ["VNeID", "TikTok", "VssID"], [0, 2], "multiple")
    assert (first.category.name, first.difficulty, first.source) == ("Xã hội số", "hard", "Đề án 06")
    assert first.explanation == "VNeID: Bộ Công an.\nVssID: BHXH Việt Nam."
    assert questions[0].tag_names == ["vneid", "vssid"]
    assert (second.kind, second.choices, second.correct, second.difficulty) == (
        "true_false", ["Đúng", "Sai"], [0], "easy")
    assert {q.status for q in questions} == {QuestionStatus.APPROVED} and all(q.approved_at for q in questions)
    assert [v.number for v in questions[0].versions] == [1]
    assert plan.rows[0].note == "Nhiều đáp án · Xã hội số · Khó · đáp án A, C"


@pytest.mark.parametrize("bom", [True, False], ids=["bom", "no-bom"])
def test_csv_utf8_with_or_without_bom(session, bom):
    data = csv_bytes(sheet(row(), row("Câu hỏi số hai, có dấu phẩy?")), bom=bom)
    plan = check(data, "cau-hoi.csv")
    questions = written(plan)
    assert plan.written and [q.current.text for q in questions] == [GOOD[1], "Câu hỏi số hai, có dấu phẩy?"]
    assert questions[0].current.category.name == "Chính quyền số"


@pytest.mark.parametrize(("cells", "column", "message"), [
    ({"Đáp án đúng": "E"}, "Đáp án đúng", "Đáp án đúng E không có phương án tương ứng."),
    ({"Đáp án đúng": ""}, "Đáp án đúng", "Chưa chọn đáp án đúng."),
    ({"Đáp án đúng": "A hoặc B"}, "Đáp án đúng", "Không đọc được đáp án đúng “A hoặc B”"),
    ({"Phương án B": "", "Phương án C": ""}, "Phương án B", "Câu hỏi cần ít nhất 2 phương án."),
    ({"Phương án B": ""}, "Phương án B", "Phương án B để trống trong khi các phương án sau có nội dung."),
    ({"Phương án C": "vneid"}, "Phương án A", "Có hai phương án giống nhau."),
    ({"Đáp án đúng": "A, B", "Loại câu hỏi": "Một đáp án"}, "Đáp án đúng", "Câu một đáp án chỉ có một đáp án đúng."),
    ({"Loại câu hỏi": "Tự luận"}, "Loại câu hỏi", "Loại câu hỏi “Tự luận” không rõ; hãy ghi Một đáp án, Nhiều"),
    ({"Lĩnh vực": "Thể thao"}, "Lĩnh vực", "Không có lĩnh vực “Thể thao”; các lĩnh vực hiện có: Chính quyền số;"),
    ({"Lĩnh vực": ""}, "Lĩnh vực", "Chưa ghi lĩnh vực."),
    ({"Mức độ": "Siêu khó"}, "Mức độ", "Mức độ “Siêu khó” không rõ; hãy ghi Dễ, Trung bình, Khó."),
    ({"Mức độ": ""}, "Mức độ", "Chưa ghi mức độ (Dễ, Trung bình, Khó)."),
    ({"Câu hỏi": "   "}, "Câu hỏi", "Chưa nhập nội dung câu hỏi."),
], ids=["letter-without-choice", "no-correct", "unreadable-letters", "one-choice", "gap", "same-choices",
        "single-two-correct", "kind", "category", "no-category", "difficulty", "no-difficulty", "no-text"])
def test_each_problem_is_reported_with_its_row_and_column_and_nothing_is_written(session, cells, column, message):
    before = count(session)
    plan = check(xlsx_bytes(sheet(row("Câu đúng thứ nhất?"), row(**cells), row("Câu đúng thứ hai?"))))
    assert not plan.written and count(session) == before
    assert [r.number for r in plan.error_rows] == [6]
    (line,) = plan.error_lines()
    assert line.startswith(f"row 6: “{column}”: {message}"), line


def test_every_problem_of_a_row_is_reported_not_just_the_first(session):
    plan = check(xlsx_bytes(sheet(row(**{"Đáp án đúng": "Z", "Lĩnh vực": "Thể thao", "Mức độ": "?"}))))
    assert {error.column for error in plan.rows[0].errors} == {"correct", "category", "difficulty"}


def test_messages_name_the_column_as_the_file_writes_it(session):
    header = ["Nội dung câu hỏi", *HEADERS[2:]]
    plan = check(csv_bytes(sheet(row("")[1:], header=header)), "cau-hoi.csv")
    assert plan.error_lines() == ["row 5: “Nội dung câu hỏi”: Chưa nhập nội dung câu hỏi."]


def test_valid_only_writes_the_good_rows_and_reports_the_others(session):
    before = count(session)
    data = xlsx_bytes(sheet(row("Câu tốt một?"), row(**{"Mức độ": "?"}), row("Câu tốt hai?")))
    plan = check(data, valid_only=True)
    assert plan.written and not plan.ok
    assert [q.current.text for q in written(plan)] == ["Câu tốt một?", "Câu tốt hai?"]
    assert count(session) == before + 2 and [r.number for r in plan.error_rows] == [6]


def test_a_write_failing_half_way_leaves_nothing_behind(session, monkeypatch):
    real = importer.create_questions

    def written_then_broken(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(importer, "create_questions", written_then_broken)
    with pytest.raises(RuntimeError):
        check(xlsx_bytes(sheet(row("Câu một?"), row("Câu hai?"))))
    assert count(session) == 0


def test_dry_run_writes_nothing(session):
    before = count(session)
    plan = check(xlsx_bytes(sheet(row())), dry_run=True)
    assert plan.ok and not plan.written and count(session) == before


def test_duplicates_within_the_file_and_against_the_bank_on_normalised_text(session, quiz):
    existing = quiz.question(text="Ngày Chuyển đổi số quốc gia là ngày nào?", status=QuestionStatus.RETIRED)
    data = xlsx_bytes(sheet(
        row("Mật khẩu mạnh cần có những gì?"),
        row("  ngay chuyen doi so QUỐC GIA la ngay nao ?? "),
        row("MẬT KHẨU MẠNH cần có những gì"),
    ))
    plan = check(data)
    assert plan.error_lines() == [
        f"row 6: “Câu hỏi”: Câu hỏi đã có trong ngân hàng (câu #{existing.id}).",
        "row 7: “Câu hỏi”: Câu hỏi trùng với dòng 5 của tệp.",
    ]


def test_organisers_import_drafts_only_and_members_not_at_all(session, make):
    rows = table(xlsx_bytes(sheet(row()))).rows
    organiser = make.user(RoleCode.ORGANISER)
    with pytest.raises(PermissionDenied):
        import_questions(rows, organiser, QuestionStatus.APPROVED)
    with pytest.raises(PermissionDenied):
        import_questions(rows, make.user(RoleCode.MEMBER), QuestionStatus.DRAFT)
    plan = import_questions(rows, organiser, QuestionStatus.DRAFT)
    (question,) = written(plan)
    assert (question.status, question.author_id) == ("draft", organiser.id)
    with pytest.raises(ValidationError):
        import_questions(rows, None, QuestionStatus.RETIRED)


def test_an_inactive_category_is_refused(session):
    from quiz.bank import find_category

    find_category("Kinh tế số").active = False
    plan = check(xlsx_bytes(sheet(row(**{"Lĩnh vực": "kinh te so"}))))
    assert plan.error_lines() == ["row 5: “Lĩnh vực”: Lĩnh vực “Kinh tế số” đã ngừng sử dụng."]


# ---- files that cannot be imported: a clear message, nothing read ----------------------------

def _formula_workbook() -> bytes:
    workbook = Workbook()
    ws = workbook.active
    for values in sheet(row(), row("Câu hai?")):
        ws.append(values)
    ws["A1"] = '="NGÂN HÀNG CÂU HỎI " & TEXT(TODAY(), "yyyy")'  # in a title row: harmless
    ws["J6"] = '=J5'
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("cau-hoi.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096),
     "có mật khẩu hoặc là định dạng Excel cũ (.xls)"),
    ("cau-hoi.csv", csv_bytes(sheet(row())).decode().encode("cp1258", errors="replace"), "không dùng bảng mã UTF-8"),
    ("cau-hoi.xlsx", bytes(range(256)) * 64, "không phải bảng tính"),
    ("cau-hoi.xlsx", _formula_workbook(), "ô chứa công thức, hãy dán giá trị"),
    ("cau-hoi.xlsx", xlsx_bytes(sheet(row(), row("Câu hai?")), merge="K5:K6"), "ô gộp (merge)"),
    ("cau-hoi.csv", csv_bytes([["Câu hỏi", "Đáp án"], ["Một?", "A"]]), "thiếu cột bắt buộc"),
], ids=["password-or-xls", "not-utf8", "junk", "formula", "merged-body", "not-the-layout"])
def test_malformed_files_are_refused_with_a_clear_message(app, name, data, expected):
    with pytest.raises(ValidationError) as caught:
        table(data, name)
    assert expected in caught.value.message and caught.value.field == "file"


def test_formula_and_merged_messages_name_the_cells(session):
    with pytest.raises(ValidationError, match=r"ô J6 \(dòng 6, cột “Đáp án đúng”\)") as caught:
        table(_formula_workbook())
    assert "A1" not in caught.value.message
    with pytest.raises(ValidationError, match="K5:K6"):
        table(xlsx_bytes(sheet(row(), row("Câu hai?")), merge="K5:K6"))
