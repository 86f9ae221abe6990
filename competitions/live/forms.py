"""Forms of the live contest pages: preparing a contest (its settings, questions picked from the bank
and/or drawn at random), and the PIN a player types. Whether a contest is valid is decided by
competitions.live.contests, whose messages land on the field they name (``show_error``)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, FieldList, Form, FormField, SelectMultipleField, StringField

from competitions.forms import NumberField, PlanRowForm, plan_row_messages
from competitions.live import contests
from competitions.live.contests import ContestInput
from competitions.live.models import ContestMode
from core.errors import ValidationError
from core.extensions import db
from core.forms import ChoiceField, show_error
from quiz import bank
from quiz.attempts import DrawRule
from quiz.models import Question, QuestionStatus

DRAW_ROWS = 3  # rows of the draw editor, no JavaScript needed
SEARCH_LIMIT = 40  # questions listed per search: enough to pick from, short enough for a phone
DEFAULTS = {"mode": ContestMode.INDIVIDUAL.value, "seconds_per_question": 20, "streak_bonus": 100,
            "max_players": 5000}


class IdsField(SelectMultipleField):
    """Checkboxes posting question ids; the service checks each one (approved, in the bank)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            self.data = list(dict.fromkeys(int(value) for value in valuelist))
        except ValueError as exc:
            raise ValueError(str(_l("Lựa chọn không hợp lệ."))) from exc

    def pre_validate(self, form: Form) -> None:
        return None  # any id reaches the service, which names the faulty one


class ContestForm(FlaskForm):
    title = StringField(_l("Tên cuộc thi"))
    mode = ChoiceField(_l("Hình thức thi"), validate_choice=False,
                       choices=lambda: [(str(k), str(v)) for k, v in contests.MODE_LABELS.items()])
    seconds_per_question = NumberField(
        _l("Thời gian mỗi câu (giây)"),
        render_kw={"min": contests.MIN_SECONDS, "max": contests.MAX_SECONDS, "inputmode": "numeric"},
    )
    allow_guests = BooleanField(_l("Cho phép khách (không cần đăng nhập) tham gia"))
    streak_bonus = NumberField(_l("Điểm thưởng chuỗi trả lời đúng"),
                               render_kw={"min": 0, "max": 500, "inputmode": "numeric"})
    max_players = NumberField(_l("Số người chơi tối đa"), render_kw={"min": 2, "max": 20000, "inputmode": "numeric"})
    question_ids = IdsField(_l("Câu hỏi chọn từ ngân hàng"), coerce=int, validate_choice=False)
    q = StringField(_l("Tìm câu hỏi đã duyệt"))
    category_id = ChoiceField(_l("Lĩnh vực"), coerce=int, validate_choice=False)
    draw = FieldList(FormField(PlanRowForm), label=_l("Rút ngẫu nhiên từ ngân hàng"), min_entries=DRAW_ROWS)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.draw_errors: list[str] = []
        self.row_errors: dict[int, str] = {}

    def set_choices(self) -> None:
        options = [(0, _("Mọi lĩnh vực")), *[(c.id, c.name) for c in bank.categories()]]
        self.category_id.choices = options
        for entry in self.draw:
            entry.category_id.choices = options

    def row_messages(self, index: int) -> list[str]:
        return plan_row_messages(self.draw, self.row_errors, index)

    def draw_rules(self) -> list[DrawRule] | None:
        """The rows filled in, or None when one of them is wrong (its message is on its row)."""
        rules = []
        for index, entry in enumerate(self.draw):
            if entry.form.is_blank():
                continue  # an emptied row is a removed row
            count = entry.count.data
            if count is None or not 1 <= count <= contests.MAX_QUESTIONS:
                self.row_errors[index] = _("Số câu phải từ 1 đến %(n)d.", n=contests.MAX_QUESTIONS)
                continue
            rules.append(DrawRule(count, entry.category_id.data or None, entry.difficulty.data or None))
        return None if self.row_errors else rules

    def to_input(self) -> ContestInput | None:
        rules = self.draw_rules()
        if rules is None:
            return None
        return ContestInput(
            title=self.title.data or "",
            mode=self.mode.data or "",
            seconds_per_question=self.seconds_per_question.data,
            allow_guests=bool(self.allow_guests.data),
            streak_bonus=self.streak_bonus.data,
            max_players=self.max_players.data,
            question_ids=list(self.question_ids.data or []),
            draw=rules,
        )

    def show_error(self, error: ValidationError) -> None:
        if error.field == "draw":
            self.draw_errors.append(error.message)
        else:
            show_error(self, error)

    # --- the question picker -------------------------------------------------------------------

    def picked(self) -> list[Question]:
        """The questions ticked so far, in the order they were ticked."""
        ids = list(self.question_ids.data or [])
        found = {q.id: q for q in bank.questions_by_ids(ids)}
        return [found[qid] for qid in ids if qid in found]

    def found(self) -> tuple[list[Question], int]:
        """Approved questions matching the search (but those already ticked), and how many match."""
        criteria = bank.BankFilter(q=self.q.data or "", category_id=self.category_id.data or None,
                                   status=QuestionStatus.APPROVED)
        query = bank.filter_query(criteria)
        ticked = list(self.question_ids.data or [])
        if ticked:
            query = query.where(Question.id.not_in(ticked))
        total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
        return list(db.session.scalars(query.limit(SEARCH_LIMIT))), total


class PinForm(Form):
    """The 6-digit PIN shown on the projector; sent with GET so that it works without JavaScript."""

    pin = StringField(_l("Mã PIN"), render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 6,
                                               "pattern": "[0-9]*", "placeholder": "123456"})
