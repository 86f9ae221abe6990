"""The prize structure form: the owner (fixed once chosen), the prize rows and the eligibility
settings. It carries what was typed; competitions.prizes.structures decides what is valid and its
messages land on the field, or the prize row, they name."""

from __future__ import annotations

import math

from flask import flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, StringField
from wtforms.fields import DecimalField

from competitions.emulation.periods import Period
from competitions.emulation.schemes import scheme_for
from competitions.forms import NumberField
from competitions.prizes import structures
from competitions.prizes.models import Audience, AwardOwner
from competitions.prizes.structures import AwardInput, AwardSettings, TierInput
from core.errors import ValidationError
from core.forms import ChoiceField, show_error

TIER_ROWS = 8  # rows of the prize editor: the largest preset (4 prizes) and room to add, no JavaScript needed
SPARE_ROWS = 2  # empty rows after a structure's own prizes


def _labelled(labels: dict) -> list[tuple[str, str]]:
    return [(str(value), str(label)) for value, label in labels.items()]


class MoneyField(StringField):
    """An amount in đồng as people type it: 1.000.000, 1,000,000 or 1000000; empty is None."""

    def process_formdata(self, valuelist: list[str]) -> None:
        text = "".join(valuelist).strip().replace(".", "").replace(",", "").replace(" ", "")
        self.data = None
        if not text:
            return
        digits = text[1:] if text.startswith("-") else text
        if not digits.isdigit():
            raise ValueError(str(_l("Hãy nhập số tiền bằng chữ số (đồng), ví dụ 500.000.")))
        self.data = int(text)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:,}".replace(",", ".")


class PercentField(DecimalField):
    """A percentage typed 50 or 50,5; empty is None."""

    def __init__(self, label: str | None = None, **kwargs: object) -> None:
        super().__init__(label, places=None, render_kw={"inputmode": "decimal", "size": 5}, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        text = "".join(valuelist).strip().replace(",", ".").rstrip("%").strip()
        self.data = None
        if not text:
            return
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ValueError(str(_l("Hãy nhập một số.")))
        self.data = value

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{float(self.data):g}"


class TierRowForm(Form):
    audience = ChoiceField(_l("Đối tượng"), choices=lambda: _labelled(structures.AUDIENCE_LABELS),
                           validate_choice=False)
    title = StringField(_l("Tên giải"))  # not "label": a FormField has its own
    count = NumberField(_l("Số lượng"), render_kw={"min": 1, "inputmode": "numeric", "size": 4})
    value_vnd = MoneyField(_l("Giá trị mỗi giải (đồng)"), render_kw={"inputmode": "numeric", "size": 11})

    def is_blank(self) -> bool:
        """A row without a name, a number or an amount is an empty (or emptied, so removed) row."""
        return not (self.title.data or "").strip() and self.count.data is None and self.value_vnd.data is None

    def typed_errors(self) -> list[str]:
        return [*self.count.errors, *self.value_vnd.errors]


class AwardForm(FlaskForm):
    """No field validators: the service names the faults."""

    owner = HiddenField()
    round_id = HiddenField()
    series_id = HiddenField()
    period = HiddenField()
    scope_unit_id = HiddenField()
    version = HiddenField()
    title = StringField(_l("Tên giải thưởng (không bắt buộc)"))
    tiers = FieldList(FormField(TierRowForm), label=_l("Cơ cấu giải"), min_entries=TIER_ROWS)
    exclude_staff = BooleanField(_l("Không xét giải cho cán bộ, người tổ chức cuộc thi"), default=True)
    series_rule = ChoiceField(_l("Trong mùa thi"), choices=lambda: _labelled(structures.SERIES_RULE_LABELS),
                              validate_choice=False)
    min_participation = PercentField(_l("Tỷ lệ thành viên tham gia tối thiểu của tổ (%)"))
    min_band = ChoiceField(_l("Mức xếp loại thi đua tối thiểu của tổ"), validate_choice=False)
    collective_scoring = ChoiceField(_l("Xếp hạng giải tập thể theo"),
                                     choices=lambda: _labelled(structures.SCORING_LABELS), validate_choice=False)
    points_per_winner = NumberField(_l("Điểm cộng cho mỗi cá nhân đạt giải của đơn vị"),
                                    render_kw={"min": 0, "inputmode": "numeric", "size": 4})

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.tier_errors: list[str] = []  # about the prizes as a whole (none at all, a frozen award)
        self.row_errors: dict[int, str] = {}  # form row index -> the service's message
        self._rows: list[int] = []  # the form row of each prize passed to the service

    def set_choices(self, period: str | None) -> None:
        """The bands of the scheme in force for an emulation period (none for a round or season)."""
        bands = [str(b["name"]) for b in scheme_for(Period.parse(period)).bands] if period else []
        current = self.min_band.data
        if current and current not in bands:
            bands.append(current)  # kept so that the service names it
        self.min_band.choices = [("", _("— Không yêu cầu —")), *[(b, b) for b in bands]]

    def row_messages(self, index: int) -> list[str]:
        entry = self.tiers.entries[index].form
        return entry.typed_errors() + ([self.row_errors[index]] if index in self.row_errors else [])

    def tier_inputs(self) -> list[TierInput]:
        rows = []
        self._rows = []
        for index, entry in enumerate(self.tiers):
            if entry.form.is_blank():
                continue
            rows.append(TierInput(entry.audience.data or "", entry.title.data or "", entry.count.data,
                                  entry.value_vnd.data))
            self._rows.append(index)
        return rows

    def to_input(self) -> AwardInput:
        return AwardInput(
            title=self.title.data or "",
            owner=self.owner.data or "",
            round_id=_int(self.round_id.data),
            series_id=_int(self.series_id.data),
            period=self.period.data or None,
            scope_unit_id=_int(self.scope_unit_id.data),
            settings=AwardSettings(
                exclude_staff=bool(self.exclude_staff.data),
                series_rule=self.series_rule.data or "",
                min_participation=self.min_participation.data,
                min_band=self.min_band.data or None,
                collective_scoring=self.collective_scoring.data or "",
                points_per_winner=self.points_per_winner.data,
            ),
        )

    def seen_version(self) -> int | None:
        return _int(self.version.data)

    def show_error(self, error: ValidationError) -> None:
        if error.field == "tiers" and error.row is not None and error.row <= len(self._rows):
            self.row_errors[self._rows[error.row - 1]] = error.message
        elif error.field in ("tiers", "preset"):
            self.tier_errors.append(error.message)
        elif error.field in ("owner", "round_id", "series_id", "period", "scope_unit_id") or error.field is None:
            flash(error.message, "error")  # hidden fields: the message goes on top
        else:
            show_error(self, error)


def _int(text: object) -> int | None:
    try:
        return int(str(text)) if text not in (None, "") else None
    except ValueError:
        return None


def form_data(data: AwardInput, tiers: list[TierInput], version: int | None = None) -> dict[str, object]:
    """An award's input as form data, with empty rows to add prizes to."""
    rows = [{"audience": t.audience, "title": t.label, "count": t.count, "value_vnd": t.value_vnd} for t in tiers]
    blank = {"audience": str(Audience.TEAM if data.owner == AwardOwner.EMULATION else Audience.INDIVIDUAL)}
    rows += [blank] * max(TIER_ROWS - len(rows), SPARE_ROWS)
    settings = data.settings
    return {
        "owner": data.owner, "round_id": data.round_id or "", "series_id": data.series_id or "",
        "period": data.period or "", "scope_unit_id": data.scope_unit_id or "", "version": version or "",
        "title": data.title, "tiers": rows,
        "exclude_staff": settings.exclude_staff, "series_rule": settings.series_rule,
        "min_participation": settings.min_participation, "min_band": settings.min_band or "",
        "collective_scoring": settings.collective_scoring, "points_per_winner": settings.points_per_winner,
    }
