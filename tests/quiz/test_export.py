"""Exporting the bank: the import layout, filters, and export → import into an empty bank round-trips."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import delete, update

from quiz import bank
from quiz.exporter import export_questions
from quiz.importer import HEADERS, import_questions, read_questions_file
from quiz.models import Difficulty, Question, QuestionStatus, QuestionTag, QuestionVersion


def _variety(quiz) -> list[Question]:
    """Every kind, 2 and 6 choices, line breaks, text that looks like a formula or a number, tags."""
    hard = quiz.category("Kỹ năng số & an toàn thông tin").id
    return [
        quiz.question(text="Dòng một\nDòng hai: ứng dụng nào?", tags=["vneid", "định danh"]),
        quiz.question(text="=5+3 là phép tính gì?", choices=["=8", "0123", "1/2", "Không biết"], correct=[0],
                      explanation="", source="", tags=[], difficulty=Difficulty.MEDIUM),
        quiz.question(text="Chọn các mật khẩu mạnh.", choices=["123456", "Ab#9kLm!2", "matkhau", "T0i@Yeu#VN", "abc",
                                                               "qwerty"],
                      correct=[1, 3], category_id=hard, difficulty=Difficulty.HARD,
                      explanation="Dài, có chữ hoa, số\nvà ký tự đặc biệt.", source="Cẩm nang an toàn thông tin"),
        quiz.question(text="VNeID miễn phí.", choices=["Đúng", "Sai"], correct=[0], status=QuestionStatus.DRAFT),
    ]


def _retired(quiz, make) -> Question:
    question = quiz.question(text="Câu đã ngừng sử dụng?")
    bank.retire([question], make.admin())
    return question


def _snapshot(questions: list[Question]) -> list[tuple]:
    rows = []
    for question in questions:
        v = question.current
        rows.append((v.text, v.choices, v.correct, v.kind, v.category.name, v.difficulty, v.explanation, v.source,
                     sorted(question.tag_names)))
    return sorted(rows)


def _empty_the_bank(session) -> None:
    session.execute(update(Question).values(current_version_id=None))
    for model in (QuestionTag, QuestionVersion, Question):
        session.execute(delete(model))
    session.expunge_all()


def test_export_then_import_into_an_empty_bank_round_trips_field_by_field(session, quiz, make):
    questions = _variety(quiz)
    _retired(quiz, make)
    expected = _snapshot(questions)
    data = export_questions()
    _empty_the_bank(session)
    table = read_questions_file("xuat.xlsx", io.BytesIO(data))
    plan = import_questions(table.rows, None, headers=table.headers)
    assert plan.written, plan.error_lines()
    assert _snapshot(bank.questions_by_ids(plan.question_ids)) == expected  # the retired question was not exported


def test_the_file_has_a_title_the_layout_header_and_keeps_formula_like_text_as_text(session, quiz):
    _variety(quiz)
    sheet = load_workbook(io.BytesIO(export_questions())).active
    assert sheet["A1"].value.startswith("NGÂN HÀNG CÂU HỎI") and sheet["A2"].value.startswith("Xuất ngày")
    assert [cell.value for cell in sheet[3]] == HEADERS
    assert [sheet.cell(row=r, column=1).value for r in range(4, 8)] == [1, 2, 3, 4]
    formula_like = sheet["B5"]
    assert (formula_like.value, formula_like.data_type) == ("=5+3 là phép tính gì?", "s")
    assert [sheet["C4"].value, sheet["J6"].value, sheet["L6"].value, sheet["O4"].value] == [
        "Một đáp án", "B, D", "Khó", "vneid, định danh"]


def test_export_filters_by_status_and_category(session, quiz, make):
    _variety(quiz)
    _retired(quiz, make)

    def texts(**filters) -> list[str]:
        sheet = load_workbook(io.BytesIO(export_questions(**filters))).active
        return [row[1] for row in sheet.iter_rows(min_row=4, values_only=True)]

    assert texts(status="draft") == ["VNeID miễn phí."]
    assert texts(status="retired") == ["Câu đã ngừng sử dụng?"]
    assert len(texts()) == 4 and len(texts(status="approved")) == 3
    assert texts(category_id=quiz.category("Kỹ năng số & an toàn thông tin").id) == ["Chọn các mật khẩu mạnh."]
