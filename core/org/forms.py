"""Forms of the org tree screens. Rules (allowed parents, cycles, duplicate names) live in
core.org.service; these forms only carry the input."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional

from core.forms import ChoiceField
from core.org.service import KIND_LABELS

NO_PARENT = 0  # the value of "no parent" in a parent select (a province is a root)


def kind_choices() -> list[tuple[str, str]]:
    return [(str(kind), str(label)) for kind, label in KIND_LABELS.items()]


class UnitCreateForm(FlaskForm):
    name = StringField(
        _l("Tên đơn vị"),
        validators=[
            DataRequired(_l("Chưa nhập tên đơn vị.")),
            Length(max=200, message=_l("Tên đơn vị dài quá 200 ký tự.")),
        ],
    )
    kind = ChoiceField(_l("Cấp đơn vị"), choices=kind_choices)
    parent = ChoiceField(_l("Trực thuộc"), coerce=int, validate_choice=False)
    code = StringField(
        _l("Mã đơn vị (không bắt buộc)"),
        validators=[Optional(), Length(max=20, message=_l("Mã đơn vị dài quá 20 ký tự."))],
    )


class UnitEditForm(FlaskForm):
    name = StringField(
        _l("Tên đơn vị"),
        validators=[
            DataRequired(_l("Chưa nhập tên đơn vị.")),
            Length(max=200, message=_l("Tên đơn vị dài quá 200 ký tự.")),
        ],
    )
    code = StringField(
        _l("Mã đơn vị (không bắt buộc)"),
        validators=[Optional(), Length(max=20, message=_l("Mã đơn vị dài quá 20 ký tự."))],
    )


class UnitMoveForm(FlaskForm):
    parent = ChoiceField(_l("Chuyển đến đơn vị cấp trên"), coerce=int, validate_choice=False)

