"""Forms of the round screens. They carry what was typed, converted to UTC; whether a round is valid is
decided by competitions.rounds, whose messages land on the field they name (``show_error``).

Times are typed in local time (Asia/Ho_Chi_Minh). The closing time is typed as the last minute the
round is open ("Chủ nhật 23:59") and stored as the next minute, the exclusive bound (Monday 00:00).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, replace
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, FieldList, Form, FormField, StringField, TextAreaField
from wtforms.fields import DateTimeLocalField, IntegerField

from competitions import rounds
from competitions.models import AttemptPolicy, PeriodKind, Round, TieBreak
from competitions.rounds import RoundInput, SeriesInput, Settings
from core.accounts.models import User
from core.errors import ValidationError
from core.extensions import db
from core.forms import ChoiceField, show_error
from core.org import service as org
from core.org.models import Unit
from core.timeutil import from_local, to_local, week_start
from quiz import bank
from quiz.attempts import DrawRule
from quiz.models import Category

PLAN_ROWS = 6  # rows of the draw-plan editor: enough for five categories plus one, no JavaScript needed
DEFAULT_MAX_ATTEMPTS = 3  # offered when switching a round to "best of N"
#: datetime-local sends the first; phones without a picker may type the others.
TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M"]


class _BlankIsNone:
    """Left empty, the field is None and the service says what is missing (in Vietnamese)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist and not "".join(valuelist).strip():
            self.data = None
            return
        super().process_formdata(valuelist)  # type: ignore[misc]


class NumberField(_BlankIsNone, IntegerField):
    def __init__(self, label: str | None = None, **kwargs: object) -> None:
        super().__init__(label, invalid_value_message=_l("Hãy nhập một số nguyên."), **kwargs)


class LocalTimeField(_BlankIsNone, DateTimeLocalField):
    def __init__(self, label: str | None = None, **kwargs: object) -> None:
        super().__init__(
            label, format=TIME_FORMATS,
            invalid_value_message=_l("Thời gian không hợp lệ; nhập theo dạng ngày/tháng/năm giờ:phút."), **kwargs,
        )


def _labelled(labels: Mapping[str, object]) -> list[tuple[str, str]]:
    return [(str(value), str(label)) for value, label in labels.items()]


class PlanRowForm(Form):
    """One row of the draw plan: how many questions, of which category and difficulty ("any" allowed)."""

    count = NumberField(_l("Số câu"), render_kw={"min": 1, "max": rounds.MAX_QUESTIONS, "inputmode": "numeric"})
    category_id = ChoiceField(_l("Lĩnh vực"), coerce=int, validate_choice=False)
    difficulty = ChoiceField(
        _l("Mức độ"), choices=lambda: [("", _("Mọi mức độ")), *_labelled(bank.DIFFICULTY_LABELS)],
        validate_choice=False,
    )

    def is_blank(self) -> bool:
        return not self.count.data and not self.category_id.data and not self.difficulty.data


def plan_row_messages(rows: FieldList, row_errors: dict[int, str], index: int) -> list[str]:
    """What is wrong with one row of a draw plan: unreadable input, or the service's message."""
    entry = rows.entries[index]
    typed = [*entry.count.errors, *entry.category_id.errors, *entry.difficulty.errors]
    return typed + ([row_errors[index]] if index in row_errors else [])


class RoundSettingsForm(FlaskForm):
    """The settings a round and a series share; no field validators, the service names the faults."""

    scope_unit_id = ChoiceField(_l("Phạm vi (đơn vị tổ chức)"), coerce=int, validate_choice=False)
    description = TextAreaField(_l("Mô tả, thể lệ (không bắt buộc)"), render_kw={"rows": 3})
    draw_plan = FieldList(FormField(PlanRowForm), label=_l("Cơ cấu đề"), min_entries=PLAN_ROWS)
    time_limit_minutes = NumberField(
        _l("Thời gian làm bài (phút)"),
        render_kw={"min": rounds.MIN_TIME_LIMIT, "max": rounds.MAX_TIME_LIMIT, "inputmode": "numeric"},
    )
    attempt_policy = ChoiceField(
        _l("Số lượt thi"), choices=lambda: _labelled(rounds.POLICY_LABELS), validate_choice=False
    )
    max_attempts = NumberField(
        _l("Số lượt tối đa N (khi cho thi nhiều lượt)"),
        render_kw={"min": 2, "max": rounds.MAX_ATTEMPTS, "inputmode": "numeric"},
    )
    allow_public = BooleanField(_l("Cho phép cả người ngoài tổ (khách) tham gia"))
    prediction_kind = ChoiceField(
        _l("Câu hỏi dự đoán"),
        choices=lambda: [("", _("Không có")), *_labelled(rounds.PREDICTION_LABELS)],
        validate_choice=False,
    )
    prediction_question = StringField(_l("Nội dung câu hỏi dự đoán (không bắt buộc)"))
    tie_breaks = FieldList(
        ChoiceField(choices=lambda: [("", _("— Không dùng —")), *_labelled(rounds.TIE_BREAK_LABELS)],
                    validate_choice=False),
        label=_l("Thứ tự xếp hạng"), min_entries=len(TieBreak),
    )
    reveal = ChoiceField(_l("Công bố đáp án"), choices=lambda: _labelled(rounds.REVEAL_LABELS), validate_choice=False)
    live_board = BooleanField(_l("Công khai bảng xếp hạng trực tiếp trong khi thi"), default=True)
    team_scoring = ChoiceField(
        _l("Cách tính điểm tổ"), choices=lambda: _labelled(rounds.TEAM_SCORING_LABELS), validate_choice=False
    )
    best_k = NumberField(_l("K (khi tính theo K người điểm cao nhất)"), render_kw={"min": 1, "inputmode": "numeric"})

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Messages of the draw plan and the ranking order (groups of inputs), and per plan row.
        self.group_errors: dict[str, list[str]] = {"draw_plan": [], "tie_breaks": []}
        self.row_errors: dict[int, str] = {}
        self._plan_rows: list[int] = []  # the form row of each rule passed to the service

    def set_choices(self, user: User, editing: Round | None = None) -> None:
        """Scope: the province, district and commune-level units in the user's scope, indented as in
        the tree (and the edited round's own unit). Categories: the active ones, and those the
        edited round's plan uses."""
        nodes = org.flatten(org.scope_tree(user, active_only=True, kinds=rounds.SCOPE_KINDS))
        base = min((node.unit.depth for node in nodes), default=0)
        units = [(node.unit.id, "\u00a0\u00a0" * (node.unit.depth - base) + node.unit.name) for node in nodes]
        scope = editing.scope_unit if editing is not None else None
        if scope is not None and scope.id not in {unit_id for unit_id, _name in units}:
            units.insert(0, (scope.id, scope.name))
        self.scope_unit_id.choices = [(0, _("— Chọn đơn vị —")), *units]
        categories = bank.categories()
        used = [rule.category_id for rule in rounds.plan_rules(editing) if rule.category_id] if editing else []
        if used:
            categories += [c for c in db.session.scalars(select(Category).where(Category.id.in_(used)))
                           if c not in categories]
        options = [(0, _("Mọi lĩnh vực")), *[(c.id, c.name) for c in categories]]
        for entry in self.draw_plan:
            entry.category_id.choices = options

    def row_messages(self, index: int) -> list[str]:
        return plan_row_messages(self.draw_plan, self.row_errors, index)

    def settings(self) -> Settings:
        plan = []
        self._plan_rows = []
        for index, entry in enumerate(self.draw_plan):
            if entry.form.is_blank():
                continue  # an emptied row is a removed row
            plan.append(DrawRule(entry.count.data or 0, entry.category_id.data or None, entry.difficulty.data or None))
            self._plan_rows.append(index)
        return Settings(
            scope_unit_id=self.scope_unit_id.data or None,
            draw_plan=plan,
            time_limit_minutes=self.time_limit_minutes.data,
            description=self.description.data or "",
            allow_public=bool(self.allow_public.data),
            attempt_policy=self.attempt_policy.data or "",
            max_attempts=self.max_attempts.data,
            prediction_kind=self.prediction_kind.data or None,
            prediction_question=self.prediction_question.data or "",
            tie_breaks=[item for item in self.tie_breaks.data if item],
            reveal=self.reveal.data or "",
            live_board=bool(self.live_board.data),
            team_scoring=self.team_scoring.data or "",
            best_k=self.best_k.data,
        )

    def show_error(self, error: ValidationError) -> None:
        if error.field == "draw_plan" and error.row is not None:
            self.row_errors[self._plan_rows[error.row - 1]] = error.message
        elif error.field in self.group_errors:
            self.group_errors[error.field].append(error.message)
        else:
            show_error(self, error)


def settings_data(settings: Settings) -> dict[str, object]:
    """The settings as form data (the blank choices the selects use for None)."""
    data = asdict(settings)
    data["draw_plan"] = [
        {**row, "category_id": row["category_id"] or 0, "difficulty": row["difficulty"] or ""}
        for row in data["draw_plan"]
    ]
    data["scope_unit_id"] = settings.scope_unit_id or 0
    data["prediction_kind"] = settings.prediction_kind or ""
    data["tie_breaks"] = settings.tie_breaks + [""] * (len(TieBreak) - len(settings.tie_breaks))
    if settings.attempt_policy != AttemptPolicy.BEST_OF_N:
        data["max_attempts"] = DEFAULT_MAX_ATTEMPTS
    return data


def default_settings(user: User) -> Settings:
    """A new round's starting point: the user's unit (an admin's: the first province), 2 questions of
    each active category, 10 minutes, one attempt."""
    plan = [DrawRule(2, category.id) for category in bank.categories()[:PLAN_ROWS]]
    scope = user.unit_id or db.session.scalar(
        select(Unit.id).where(Unit.parent_id.is_(None), Unit.active).order_by(Unit.name).limit(1)
    )
    return Settings(scope_unit_id=scope, draw_plan=plan, time_limit_minutes=10)


def _local_input(moment: datetime) -> datetime:
    return to_local(moment).replace(tzinfo=None)


class RoundForm(RoundSettingsForm):
    title = StringField(_l("Tên đợt thi"))
    period_kind = ChoiceField(_l("Loại đợt thi"), choices=lambda: _labelled(rounds.PERIOD_LABELS),
                              validate_choice=False)
    opens_at = LocalTimeField(_l("Mở lúc"))
    closes_at = LocalTimeField(_l("Đóng lúc (hết phút này)"))

    def to_input(self) -> RoundInput:
        opens, last = self.opens_at.data, self.closes_at.data
        return RoundInput(
            title=self.title.data or "",
            opens_at=from_local(opens) if opens else None,
            closes_at=rounds.closing_after(from_local(last)) if last else None,
            settings=self.settings(),
            period_kind=self.period_kind.data or "",
        )

    def frozen_input(self, current: RoundInput) -> RoundInput:
        """After the first attempt only the title and description are on the form; the rest stays."""
        return replace(
            current, title=self.title.data or "",
            settings=replace(current.settings, description=self.description.data or ""),
        )


def round_data(data: RoundInput) -> dict[str, object]:
    return {
        **settings_data(data.settings),
        "title": data.title,
        "period_kind": data.period_kind,
        "opens_at": _local_input(data.opens_at) if data.opens_at else None,
        "closes_at": _local_input(rounds.last_open_minute(data.closes_at)) if data.closes_at else None,
    }


def new_round_data(user: User, today: date) -> dict[str, object]:
    """Next week, Monday 00:00 to Sunday 23:59, with the default settings."""
    monday = week_start(today) + timedelta(days=7)
    return {
        **settings_data(default_settings(user)),
        "period_kind": PeriodKind.WEEKLY,
        "opens_at": datetime.combine(monday, time.min),
        "closes_at": datetime.combine(monday + timedelta(days=6), time(23, 59)),
    }


class SeriesForm(RoundSettingsForm):
    title = StringField(_l("Tên mùa thi (không bắt buộc)"))
    period_kind = ChoiceField(
        _l("Các đợt trong mùa"),
        choices=lambda: [
            (PeriodKind.WEEKLY.value, _("Các tuần của một quý (thứ Hai 00:00 đến Chủ nhật 23:59)")),
            (PeriodKind.MONTHLY.value, _("12 tháng của một năm")),
            (PeriodKind.QUARTERLY.value, _("4 quý của một năm")),
        ],
        validate_choice=False,
    )
    year = NumberField(_l("Năm"), render_kw={"min": rounds.MIN_YEAR, "max": rounds.MAX_YEAR, "inputmode": "numeric"})
    quarter = ChoiceField(
        _l("Quý (với các đợt tuần)"), coerce=int, validate_choice=False,
        choices=lambda: [(q, _("Quý %(q)d", q=q)) for q in range(1, 5)],
    )

    def to_input(self) -> SeriesInput:
        return SeriesInput(
            period_kind=self.period_kind.data or "",
            year=self.year.data,
            quarter=self.quarter.data,
            settings=self.settings(),
            title=self.title.data or "",
        )


def new_series_data(user: User, today: date) -> dict[str, object]:
    """The weekly season of the quarter that today's week belongs to."""
    monday = week_start(today)
    return {
        **settings_data(default_settings(user)),
        "period_kind": PeriodKind.WEEKLY,
        "year": monday.year,
        "quarter": rounds.quarter_of(monday),
    }
