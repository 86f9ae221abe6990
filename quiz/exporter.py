"""Exporting the bank to .xlsx in the import layout, so that an export imports back unchanged."""

from __future__ import annotations

import io
from collections.abc import Iterable

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import Select
from sqlalchemy.orm import selectinload

from core.db_types import utcnow
from core.extensions import db
from core.timeutil import to_local
from quiz.bank import LETTERS, MAX_CHOICES, BankFilter, difficulty_label, filter_query, kind_label, status_label
from quiz.importer import HEADERS
from quiz.models import Question, QuestionStatus

_WIDTHS = {"A": 6, "B": 60, "C": 14, **dict.fromkeys("DEFGHI", 24), "M": 50, "N": 28, "O": 24}
_BATCH = 1000  # questions loaded per query: memory stays flat for a big bank
_WRAP = Alignment(wrap_text=True, vertical="top")
_WRAP_FROM = 40  # characters; shorter one-line cells are left unstyled (styling costs more than writing)


def _export_query(status: str | None = None, category_id: int | None = None) -> Select[tuple[Question]]:
    """The questions to export, oldest first: ``status`` None means every question not retired."""
    query = filter_query(BankFilter(status=status, category_id=category_id)).order_by(None).order_by(Question.id)
    if status is None:
        query = query.where(Question.status != QuestionStatus.RETIRED)
    return query.options(selectinload(Question.tags))


def _question_row(number: int, question: Question) -> list[str | int]:
    """One question in the layout's columns (quiz.importer.HEADERS)."""
    version = question.current
    assert version is not None
    choices = [*version.choices, *[""] * (MAX_CHOICES - len(version.choices))]
    return [
        number, version.text, kind_label(version.kind), *choices,
        ", ".join(LETTERS[index] for index in version.correct), version.category.name,
        difficulty_label(version.difficulty), version.explanation, version.source, ", ".join(question.tag_names),
    ]


def export_questions(status: str | None = None, category_id: int | None = None) -> bytes:
    """An .xlsx of the bank: a title, the date, the header row, one question per row."""
    workbook = Workbook(write_only=True)  # streams rows out: a large bank costs little memory
    sheet = workbook.create_sheet(_("Ngân hàng câu hỏi"))
    for letter, width in _WIDTHS.items():
        sheet.column_dimensions[letter].width = width
    which = status_label(status) if status else _("tất cả, trừ câu ngừng sử dụng")
    sheet.append([_cell(sheet, _("NGÂN HÀNG CÂU HỎI (%(which)s)", which=which), Font(bold=True, size=13))])
    sheet.append([_("Xuất ngày %(d)s", d=to_local(utcnow()).strftime("%d/%m/%Y %H:%M"))])
    sheet.append([_cell(sheet, header, Font(bold=True)) for header in HEADERS])
    for number, question in enumerate(_in_batches(_export_query(status, category_id)), start=1):
        sheet.append([_cell(sheet, value) for value in _question_row(number, question)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _in_batches(query: Select[tuple[Question]]) -> Iterable[Question]:
    last_id = 0
    while True:
        batch = list(db.session.scalars(query.where(Question.id > last_id).limit(_BATCH)))
        yield from batch
        if len(batch) < _BATCH:
            return
        last_id = batch[-1].id


def _cell(sheet: WriteOnlyWorksheet, value: str | int, font: Font | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        if value.startswith("="):
            cell.data_type = "s"  # text, never a formula: a question may begin with "=", a file must not compute
        if "\n" in value or len(value) > _WRAP_FROM:
            cell.alignment = _WRAP
    if font is not None:
        cell.font = font
    return cell
