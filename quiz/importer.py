"""Importing questions from a spreadsheet: one question per row, the layout Department staff use.

Every row goes through ``bank.validate``, the same rules as the question form, and every problem is
reported at once with its row and column. Duplicates are compared on normalised text
(``bank.fingerprint``) within the file and against the whole bank, with one query per 500 rows.
The write is all-or-nothing, inside one SAVEPOINT; writing only the valid rows is an explicit choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from core.accounts.models import User
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from core.imports.plan import ImportPlan, PlanRow, RowStatus
from core.spreadsheet import Row, Table, build_template, read_table
from core.text import clean
from quiz.bank import (
    KIND_LABELS,
    LETTERS,
    MIN_CHOICES,
    QuestionInput,
    can_author,
    can_review,
    categories,
    category_key,
    create_questions,
    difficulty_label,
    fingerprint,
    kind_label,
    parse_difficulty,
    parse_kind,
    parse_letters,
    parse_tags,
    validate,
)
from quiz.models import Category, Difficulty, Question, QuestionStatus

CHOICE_KEYS = tuple(f"choice_{letter.lower()}" for letter in LETTERS)

#: key -> header names accepted (case, accents, "(…)" and ":" ignored); the first is the layout's own
QUESTION_COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("STT", "TT", "Số TT", "Số thứ tự"),
    "text": ("Câu hỏi", "Nội dung câu hỏi", "Nội dung", "Question"),
    "kind": ("Loại câu hỏi", "Loại", "Kiểu câu hỏi", "Dạng câu hỏi", "Kind"),
    **{
        key: (f"Phương án {letter}", f"Đáp án {letter}", letter, f"Lựa chọn {letter}", f"Option {letter}")
        for key, letter in zip(CHOICE_KEYS, LETTERS, strict=True)
    },
    "correct": ("Đáp án đúng", "Đáp án", "Phương án đúng", "Correct", "Answer"),
    "category": ("Lĩnh vực", "Chủ đề", "Category"),
    "difficulty": ("Mức độ", "Độ khó", "Difficulty"),
    "explanation": ("Giải thích", "Giải thích đáp án", "Explanation"),
    "source": ("Nguồn", "Căn cứ", "Nguồn/Căn cứ", "Căn cứ pháp lý", "Source"),
    "tags": ("Thẻ", "Từ khóa", "Tags"),
}
QUESTION_REQUIRED = {"text", "choice_a", "choice_b", "correct", "category", "difficulty"}
#: the layout's header row, as the export and the template write it
HEADERS = [names[0] for names in QUESTION_COLUMNS.values()]
IMPORT_STATUSES = (QuestionStatus.DRAFT, QuestionStatus.APPROVED)

# Where bank.validate's ValidationError.field sits in the file ("choices" is placed per row).
_FIELD_COLUMNS = {"text": "text", "correct": "correct", "kind": "kind", "category_id": "category",
                  "difficulty": "difficulty", "explanation": "explanation", "source": "source"}
_POSITION = {key: index for index, key in enumerate(QUESTION_COLUMNS)}
_CHUNK = 500  # fingerprints per IN (...) query


def read_questions_file(filename: str, stream: IO[bytes]) -> Table:
    """The rows of a question file; ValidationError (field "file") for a file that cannot be imported,
    including formulas or merged cells in the body: each row must carry its own typed values."""
    return read_table(
        filename, stream, QUESTION_COLUMNS, QUESTION_REQUIRED, current_app.config["IMPORT_MAX_ROWS"],
        refuse_formulas=True, refuse_merged=True,
    )


@dataclass
class QuestionPlan(ImportPlan):
    status: QuestionStatus = QuestionStatus.DRAFT
    question_ids: list[int] = field(default_factory=list)  # the ones written, in file order


@dataclass(eq=False)
class _Item:
    row: PlanRow
    data: QuestionInput | None = None  # validated; None when the row has an error
    fingerprint: str = ""


def import_questions(
    rows: list[Row],
    author: User | None,
    status: QuestionStatus | str = QuestionStatus.DRAFT,
    headers: dict[str, str] | None = None,
    dry_run: bool = False,
    valid_only: bool = False,
) -> QuestionPlan:
    """Check every row; unless ``dry_run``, write the questions with ``status`` (flushed, not committed:
    the caller commits). A plan with errors writes nothing unless ``valid_only``, which writes the
    rows without errors. ``headers`` (Table.headers) names columns in messages as the file does.
    ``author`` None is the command line or the demo; an organiser may only import drafts."""
    if status not in IMPORT_STATUSES:
        raise ValidationError(_("Câu hỏi nhập vào chỉ có thể là bản nháp hoặc đã duyệt."), field="status")
    approving = status == QuestionStatus.APPROVED
    if author is not None and (not can_author(author) or (approving and not can_review(author))):
        raise PermissionDenied
    plan = QuestionPlan.from_rows(_named_columns(headers), rows)
    plan.status = QuestionStatus(status)
    by_key = {category_key(category.name): category for category in categories(active_only=False)}
    items = [_check_row(plan, row, by_key) for row in plan.rows]
    _check_duplicates(plan, items)
    names = {category.id: category.name for category in by_key.values()}
    for item in items:
        item.row.errors.sort(key=lambda error: _POSITION.get(error.column, len(_POSITION)))  # as the columns go
        if item.row.status == RowStatus.NEW and item.data is not None:
            item.row.note = _note(item.data, names)
    writable = [item.data for item in items if item.row.status == RowStatus.NEW and item.data is not None]
    if dry_run or not writable or not (plan.ok or valid_only):
        return plan
    with db.session.begin_nested():  # all rows or none, even if a write fails half-way
        plan.question_ids = create_questions(writable, author, plan.status)
    plan.written = True
    return plan


def _named_columns(headers: dict[str, str] | None) -> dict[str, tuple[str, ...]]:
    """The aliases with the file's own header first, so that messages name the column as written."""
    return {
        key: (headers[key], *names) if headers and headers.get(key) else names
        for key, names in QUESTION_COLUMNS.items()
    }


def _check_row(plan: QuestionPlan, row: PlanRow, by_key: dict[str, Category]) -> _Item:
    values = row.values
    item = _Item(row, fingerprint=fingerprint(values.get("text", "")))
    kind_text = values.get("kind", "")
    kind = parse_kind(kind_text) if kind_text else None
    if kind_text and kind is None:
        labels = ", ".join(str(label) for label in KIND_LABELS.values())
        plan.fail(row, "kind", _("Loại câu hỏi “%(k)s” không rõ; hãy ghi %(labels)s.", k=kind_text, labels=labels))
    correct = parse_letters(values.get("correct", ""))
    if correct is None:
        plan.fail(
            row, "correct",
            _("Không đọc được đáp án đúng “%(a)s”; hãy ghi chữ cái của phương án, ví dụ “B” hoặc “A, C”.",
              a=values.get("correct", "")),
        )
    category = _category(plan, row, by_key)
    difficulty = _difficulty(plan, row)
    choices = [values.get(key, "") for key in CHOICE_KEYS]
    try:
        data = validate(QuestionInput(
            text=values.get("text", ""), choices=choices, correct=correct or [],
            category_id=category.id if category else None, difficulty=difficulty or "", kind=kind,
            explanation=values.get("explanation", ""), source=values.get("source", ""),
            tags=parse_tags(values.get("tags", "")),
        ))
    except ValidationError as error:
        column = _choices_column(choices) if error.field == "choices" else _FIELD_COLUMNS.get(error.field or "")
        if column is None or column not in row.error_columns:  # not said already by the checks above
            plan.fail(row, column, error.message)
        return item
    if row.status != RowStatus.ERROR:
        item.data = data
    return item


def _category(plan: QuestionPlan, row: PlanRow, by_key: dict[str, Category]) -> Category | None:
    written = row.values.get("category", "")
    category = by_key.get(category_key(written)) if written else None
    if not written:
        plan.fail(row, "category", _("Chưa ghi lĩnh vực."))
    elif category is None:
        names = "; ".join(c.name for c in by_key.values() if c.active)
        plan.fail(row, "category", _("Không có lĩnh vực “%(c)s”; các lĩnh vực hiện có: %(names)s.",
                                     c=written, names=names))
    elif not category.active:
        plan.fail(row, "category", _("Lĩnh vực “%(c)s” đã ngừng sử dụng.", c=category.name))
        return None
    return category


def _difficulty(plan: QuestionPlan, row: PlanRow) -> Difficulty | None:
    written = row.values.get("difficulty", "")
    difficulty = parse_difficulty(written) if written else None
    if difficulty is None:
        levels = ", ".join(difficulty_label(level) for level in Difficulty)
        plan.fail(
            row, "difficulty",
            _("Mức độ “%(d)s” không rõ; hãy ghi %(levels)s.", d=written, levels=levels) if written
            else _("Chưa ghi mức độ (%(levels)s).", levels=levels),
        )
    return difficulty


def _choices_column(choices: list[str]) -> str:
    """The choice cell a "choices" error is about: the first blank one among those needed, else A."""
    filled = [bool(clean(choice)) for choice in choices]
    last = max((index for index, full in enumerate(filled) if full), default=-1)
    blank = next((index for index in range(max(last, MIN_CHOICES - 1) + 1) if not filled[index]), 0)
    return CHOICE_KEYS[blank]


def _check_duplicates(plan: QuestionPlan, items: list[_Item]) -> None:
    """The same question twice in the file, or already in the bank (any status: a retired question
    is not typed in again by mistake either)."""
    first_row: dict[str, PlanRow] = {}
    for item in items:
        if item.fingerprint:
            first = first_row.setdefault(item.fingerprint, item.row)
            if first is not item.row:
                plan.fail(item.row, "text", _("Câu hỏi trùng với dòng %(n)d của tệp.", n=first.number))
    in_bank = _bank_fingerprints(sorted(first_row))
    for item in items:
        question_id = in_bank.get(item.fingerprint)
        if question_id is not None:
            plan.fail(item.row, "text", _("Câu hỏi đã có trong ngân hàng (câu #%(id)d).", id=question_id))


def _bank_fingerprints(fingerprints: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(fingerprints), _CHUNK):
        query = select(Question.fingerprint, Question.id).where(
            Question.fingerprint.in_(fingerprints[start:start + _CHUNK])
        ).order_by(Question.id.desc())
        found.update((text, question_id) for text, question_id in db.session.execute(query))  # oldest id last: wins
    return found


def _note(data: QuestionInput, category_names: dict[int, str]) -> str:
    category = category_names[data.category_id]
    letters = ", ".join(LETTERS[index] for index in data.correct)
    return _("%(kind)s · %(category)s · %(level)s · đáp án %(letters)s", kind=kind_label(data.kind),
             category=category, level=difficulty_label(data.difficulty), letters=letters)


def questions_template() -> bytes:
    """The import layout with one example question and a sheet of instructions."""
    names = [category.name for category in categories()]
    kinds = [str(label) for label in KIND_LABELS.values()]
    levels = [difficulty_label(level) for level in Difficulty]
    example = [
        1, _("Ứng dụng nào là ứng dụng định danh điện tử quốc gia do Bộ Công an phát triển?"), kinds[0],
        "VssID", "VNeID", "eTax Mobile", "Zalo", "", "", "B", names[0] if names else "", levels[0],
        _("VNeID là ứng dụng định danh điện tử quốc gia; VssID là ứng dụng của Bảo hiểm xã hội Việt Nam."),
        "Quyết định 06/QĐ-TTg", "vneid, định danh điện tử",
    ]
    column = {key: index for index, key in enumerate(QUESTION_COLUMNS, start=1)}
    return build_template(
        _("NGÂN HÀNG CÂU HỎI"),
        HEADERS,
        text_columns=[column[key] for key in (*CHOICE_KEYS, "correct")],  # "10" or "1/2" stay as typed
        choices={column["kind"]: kinds, column["category"]: names, column["difficulty"]: levels},
        widths={column["number"]: 6, column["text"]: 50, column["explanation"]: 40, column["source"]: 24},
        example=example,
        notes=[
            _("Mỗi dòng là một câu hỏi. Dòng 3 là ví dụ: hãy xóa hoặc thay bằng câu hỏi của bạn trước khi nhập."),
            _("Các cột có thể theo thứ tự bất kỳ; các dòng tiêu đề phía trên dòng tên cột được bỏ qua. "
              "Bắt buộc: Câu hỏi, Phương án A, Phương án B, Đáp án đúng, Lĩnh vực, Mức độ."),
            _("Phương án: từ 2 đến 6 (A đến F), ghi liền nhau từ A, không để trống ở giữa."),
            _("Đáp án đúng: chữ cái của phương án đúng, ví dụ “B”; nhiều đáp án ghi “A, C”."),
            _("Loại câu hỏi (không bắt buộc): %(kinds)s. Để trống thì hệ thống tự nhận: phương án “Đúng”, “Sai” "
              "là câu Đúng/Sai, nhiều đáp án đúng là câu Nhiều đáp án.", kinds=", ".join(kinds)),
            _("Lĩnh vực: %(names)s.", names="; ".join(names)),
            _("Mức độ: %(levels)s.", levels=", ".join(levels)),
            _("Thẻ (không bắt buộc): các từ khóa cách nhau bởi dấu phẩy."),
            _("Ô phải chứa giá trị, không chứa công thức; không gộp ô trong phần danh sách câu hỏi."),
            _("Câu hỏi trùng nội dung với một dòng khác hoặc với câu đã có trong ngân hàng sẽ bị báo lỗi."),
        ],
    )
