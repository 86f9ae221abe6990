from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField
from wtforms.validators import DataRequired

from core.forms import ChoiceField

_FILE_ATTRS = {"accept": ".xlsx,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv"}


class UnitsUploadForm(FlaskForm):
    file = FileField(
        _l("Tệp danh sách đơn vị (.xlsx hoặc .csv)"),
        validators=[FileRequired(_l("Hãy chọn tệp để tải lên."))], render_kw=_FILE_ATTRS,
    )


class MembersUploadForm(FlaskForm):
    # the view checks the choice itself and says which list to pick from
    unit_id = ChoiceField(_l("Nhập vào đơn vị"), coerce=int, validate_choice=False)
    file = FileField(
        _l("Tệp danh sách thành viên (.xlsx hoặc .csv)"),
        validators=[FileRequired(_l("Hãy chọn tệp để tải lên."))], render_kw=_FILE_ATTRS,
    )


class ConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
