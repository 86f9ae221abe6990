"""Scheme screens: the version in force, the history of versions, one version, and the form for the
next version (admins only). Everybody signed in reads the scheme: teams must understand their points.
The rules are in competitions.emulation.schemes; the form only carries what was typed."""

from __future__ import annotations

import math

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import FieldList, Form, FormField, StringField, TextAreaField
from wtforms.fields import DecimalField

from competitions.emulation import schemes
from competitions.emulation.models import ActivityKind, CriterionKind, Scheme
from competitions.emulation.periods import current_month
from core.accounts.permissions import SIGNED_IN, access
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.errors import ValidationError
from core.extensions import db
from core.forms import ChoiceField

bp = Blueprint("schemes", __name__, url_prefix="/emulation/schemes")
SPARE_CRITERIA, SPARE_BANDS = 2, 1  # empty rows to add to without JavaScript; an emptied row is removed


class _Number(DecimalField):
    """A number typed the Vietnamese way (0,85) or the other (0.85); empty is None and the service
    says what is missing."""

    def __init__(self, label: str | None = None, **kwargs: object) -> None:
        super().__init__(label, places=None, render_kw={"inputmode": "decimal"}, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        text = "".join(valuelist).strip().replace(",", ".")
        if not text:
            self.data = None
            return
        try:
            self.data = float(text)
        except ValueError:
            self.data = None
        if self.data is None or not math.isfinite(self.data):  # "nan" and "inf" parse as floats
            self.data = None
            raise ValueError(str(_l("Hãy nhập một số.")))

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{float(self.data):g}"


class CriterionRowForm(Form):
    kind = ChoiceField(_l("Tiêu chí"), validate_choice=False)
    activity_id = ChoiceField(_l("Hoạt động"), coerce=int, validate_choice=False)
    points = _Number(_l("Điểm tối đa"))
    cap = _Number(_l("Mức trần"))

    def is_blank(self) -> bool:
        return not self.kind.data  # "— Bỏ dòng này —": the row is removed, whatever else it holds


class BandRowForm(Form):
    title = StringField(_l("Mức xếp loại"))
    min_points = _Number(_l("Điểm tối thiểu"))
    min_ratio = _Number(_l("Tỷ lệ tối thiểu mỗi tiêu chí"))

    def is_blank(self) -> bool:
        return not (self.title.data or "").strip()  # a band without a name is a removed band


class SchemeForm(FlaskForm):
    name = StringField(_l("Tên bộ tiêu chí"))
    effective_from = StringField(_l("Áp dụng từ tháng"), render_kw={"type": "month"})
    criteria = FieldList(FormField(CriterionRowForm), label=_l("Tiêu chí"))
    bands = FieldList(FormField(BandRowForm), label=_l("Mức xếp loại"))
    note = TextAreaField(_l("Ghi chú (không bắt buộc)"), render_kw={"rows": 2})

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.group_errors: dict[str, list[str]] = {"criteria": [], "bands": []}
        self.row_errors: dict[tuple[str, int], str] = {}
        self._rows: dict[str, list[int]] = {"criteria": [], "bands": []}  # the form row of each row sent

    def set_choices(self) -> None:
        kinds = [("", _("— Bỏ dòng này —")), *[(str(k), str(label)) for k, label in schemes.KIND_LABELS.items()]]
        activities = db.session.scalars(select(ActivityKind).where(ActivityKind.active).order_by(ActivityKind.position))
        options = [(0, _("— Không áp dụng —")), *[(a.id, a.name) for a in activities]]
        for entry in self.criteria:
            entry.kind.choices = kinds
            entry.activity_id.choices = options

    def to_input(self) -> schemes.SchemeInput:
        criteria, bands = [], []
        self._rows = {"criteria": [], "bands": []}
        for index, entry in enumerate(self.criteria):
            if not entry.form.is_blank():
                criteria.append(schemes.CriterionInput(entry.kind.data or "", entry.points.data,
                                                       entry.activity_id.data or None, entry.cap.data))
                self._rows["criteria"].append(index)
        for index, entry in enumerate(self.bands):
            if not entry.form.is_blank():
                bands.append(schemes.BandInput(entry.title.data or "", entry.min_points.data, entry.min_ratio.data))
                self._rows["bands"].append(index)
        return schemes.SchemeInput(self.name.data or "", self.effective_from.data or "", criteria, bands,
                                   self.note.data or "")

    def points_sum(self) -> float:
        return sum(entry.points.data or 0 for entry in self.criteria if entry.kind.data)

    def show_error(self, error: ValidationError) -> None:
        if error.field in self.group_errors:
            if error.row is not None:
                self.row_errors[(error.field, self._rows[error.field][error.row - 1])] = error.message
            else:
                self.group_errors[error.field].append(error.message)
        elif error.field and hasattr(getattr(self, error.field, None), "errors"):
            field = getattr(self, error.field)
            field.errors = [*field.errors, error.message]
        else:
            flash(error.message, "error")


def _starting_data(scheme: Scheme) -> dict[str, object]:
    """The version in force, to be changed into the next one, from the current month."""
    data = schemes.scheme_input(scheme, current_month(utcnow()).key)
    return {
        "name": data.name, "effective_from": data.effective_from, "note": "",
        "criteria": [{"kind": c.kind, "activity_id": c.activity_id or 0, "points": c.points, "cap": c.cap}
                     for c in data.criteria] + [{"kind": "", "activity_id": 0}] * SPARE_CRITERIA,
        "bands": [{"title": b.name, "min_points": b.min_points, "min_ratio": b.min_ratio}
                  for b in data.bands] + [{"title": ""}] * SPARE_BANDS,
    }


def _page(scheme: Scheme, **extra: object) -> str:
    return render_template(
        "emulation/scheme.html", scheme=scheme, current=schemes.current_scheme(), versions=schemes.history(),
        labels=schemes.KIND_LABELS, rules=schemes.KIND_RULES, criterion_label=schemes.criterion_label,
        can_change=schemes.can_change(current_user), not_done=schemes.NOT_DONE, **extra,
    )


@bp.route("/")
@access(SIGNED_IN)
def current() -> str:
    return _page(schemes.current_scheme())


@bp.route("/<int:scheme_id>")
@access(SIGNED_IN)
def version(scheme_id: int) -> str:
    return _page(db.get_or_404(Scheme, scheme_id))


@bp.route("/new", methods=["GET", "POST"])
@access(RoleCode.ADMIN)
def create() -> str | Response:
    in_force = schemes.current_scheme()
    form = SchemeForm(data=_starting_data(in_force) if request.method == "GET" else None)
    form.set_choices()
    if form.validate_on_submit():
        created = _save(form)
        if created is not None:
            flash(_("Đã tạo phiên bản %(v)d, áp dụng từ %(m)s.", v=created.version, m=created.effective_from),
                  "success")
            return redirect(url_for("schemes.version", scheme_id=created.id))
    return render_template("emulation/scheme_form.html", form=form, in_force=in_force,
                           kinds=CriterionKind, rules=schemes.KIND_RULES)


def _save(form: SchemeForm) -> Scheme | None:
    try:
        created = schemes.create_version(form.to_input(), current_user)
    except ValidationError as error:
        db.session.rollback()
        form.show_error(error)
        return None
    db.session.commit()
    return created
