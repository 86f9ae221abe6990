"""Forms of the bank screens. They only carry what was typed: what makes a question or a category
valid is decided by quiz.bank, whose messages are attached to these fields by core.forms.show_error."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, FieldList, Form, RadioField, SelectMultipleField, StringField, TextAreaField

from core.downloads import XLSX_MIMETYPE
from core.forms import ChoiceField
from core.imports.forms import ConfirmForm
from quiz import bank
from quiz.models import Category, Question, QuestionStatus

_ANY = _l("— Tất cả —")


def _kind_choices() -> list[tuple[str, str]]:
    return [(str(kind), str(label)) for kind, label in bank.KIND_LABELS.items()]


def _difficulty_choices() -> list[tuple[str, str]]:
    return [(str(level), str(label)) for level, label in bank.DIFFICULTY_LABELS.items()]


def _status_choices() -> list[tuple[str, str]]:
    return [(str(status), str(label)) for status, label in bank.STATUS_LABELS.items()]


def _category_options(categories: list[Category]) -> list[tuple[int, str]]:
    return [(c.id, c.name if c.active else _("%(n)s (ngừng dùng)", n=c.name)) for c in categories]


class QuestionForm(FlaskForm):
    # No field validators: the form passes what was typed to bank.validate, which names the field
    # at fault in Vietnamese. validate_choice=False for the same reason.
    kind = RadioField(
        _l("Loại câu hỏi"), choices=_kind_choices, default=str(bank.QuestionKind.SINGLE), validate_choice=False
    )
    text = TextAreaField(_l("Nội dung câu hỏi"), render_kw={"rows": 4})
    choices = FieldList(StringField(), label=_l("Các phương án"), min_entries=bank.MAX_CHOICES,
                        max_entries=bank.MAX_CHOICES)
    correct = SelectMultipleField(
        _l("Đáp án đúng"), choices=list(bank.LETTERS), validate_choice=False
    )
    category_id = ChoiceField(_l("Lĩnh vực"), coerce=int, validate_choice=False)
    difficulty = ChoiceField(
        _l("Mức độ"), choices=lambda: [("", _("— Chọn mức độ —")), *_difficulty_choices()],
        validate_choice=False,
    )
    explanation = TextAreaField(_l("Giải thích đáp án"), render_kw={"rows": 3})
    source = StringField(_l("Nguồn tham khảo (không bắt buộc)"))
    tags = StringField(_l("Thẻ (không bắt buộc)"))

    def set_categories(self, current: Category | None = None) -> None:
        """Active categories; an inactive one stays offered to the question already in it."""
        categories = bank.categories()
        if current is not None and current not in categories:
            categories.append(current)
        self.category_id.choices = [(0, _("— Chọn lĩnh vực —")), *_category_options(categories)]

    def to_input(self) -> bank.QuestionInput:
        return bank.QuestionInput(
            text=self.text.data or "",
            choices=[choice or "" for choice in self.choices.data],
            correct=[bank.LETTERS.index(letter) for letter in self.correct.data or [] if letter in bank.LETTERS],
            category_id=self.category_id.data or None,
            difficulty=self.difficulty.data or "",
            kind=self.kind.data or None,
            explanation=self.explanation.data or "",
            source=self.source.data or "",
            tags=[self.tags.data or ""],
        )


def question_data(question: Question) -> dict[str, object]:
    """The edit form's starting values: the current version, choices padded to six boxes."""
    version = question.current
    return {
        "kind": version.kind, "text": version.text,
        "choices": version.choices + [""] * (bank.MAX_CHOICES - len(version.choices)),
        "correct": version.correct_letters, "category_id": version.category_id,
        "difficulty": version.difficulty, "explanation": version.explanation, "source": version.source,
        "tags": ", ".join(question.tag_names),
    }


class BankFilterForm(Form):
    """The bank's search and filters, read from the query string (a GET form needs no CSRF token).
    A value that is not one of the choices simply matches nothing."""

    q = StringField(_l("Tìm kiếm (không cần gõ dấu)"), render_kw={"type": "search"})
    category_id = ChoiceField(_l("Lĩnh vực"), coerce=int, default=0)
    difficulty = ChoiceField(_l("Mức độ"), choices=lambda: [("", str(_ANY)), *_difficulty_choices()], default="")
    status = ChoiceField(_l("Trạng thái"), choices=lambda: [("", str(_ANY)), *_status_choices()], default="")
    tag = StringField(_l("Thẻ"), render_kw={"list": "tag-list"})

    def set_categories(self) -> None:
        self.category_id.choices = [(0, str(_ANY)), *_category_options(bank.categories(active_only=False))]

    def criteria(self) -> bank.BankFilter:
        return bank.BankFilter(
            q=self.q.data or "", category_id=self.category_id.data or None,
            difficulty=self.difficulty.data or None, status=self.status.data or None, tag=self.tag.data or None,
        )

    def args(self) -> dict[str, str | int]:
        """The filters in use, for links that keep them (pages, the bulk action's way back)."""
        return {field.name: field.data for field in self if field.data}


class CategoryForm(FlaskForm):
    name = StringField(_l("Tên lĩnh vực"))
    description = TextAreaField(_l("Mô tả (không bắt buộc)"), render_kw={"rows": 3})
    active = BooleanField(_l("Đang dùng (câu hỏi mới được xếp vào lĩnh vực này)"), default=True)


# --- import and export ---------------------------------------------------------------------------

class UploadForm(FlaskForm):
    file = FileField(
        _l("Tệp câu hỏi (.xlsx hoặc .csv)"), validators=[FileRequired(_l("Hãy chọn tệp để tải lên."))],
        render_kw={"accept": f".xlsx,.csv,{XLSX_MIMETYPE},text/csv"},
    )
    status = ChoiceField(_l("Trạng thái của các câu hỏi nhập vào"), default=QuestionStatus.DRAFT)


class QuestionsConfirmForm(ConfirmForm):
    valid_only = BooleanField(_l("Chỉ nhập các dòng hợp lệ, bỏ qua các dòng lỗi"))


class ExportForm(FlaskForm):
    class Meta:
        csrf = False  # a GET download that changes nothing

    status = ChoiceField(_l("Trạng thái"), default="")
    category = ChoiceField(_l("Lĩnh vực"), default="")
