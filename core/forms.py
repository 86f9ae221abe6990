"""Glue between service errors and WTForms."""

from __future__ import annotations

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import ValidationError as FieldError

from core.errors import ValidationError


def show_error(form: FlaskForm, error: ValidationError) -> None:
    """Attach a service's ValidationError to the form field it names, else show it at the top."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


class ChoiceField(SelectField):
    """A select whose errors speak Vietnamese (WTForms ships no Vietnamese catalogue).

    With ``validate_choice=False`` any posted value reaches the view, which resolves it and lets
    the service give the specific message (wrong kind of parent, a cycle, outside scope)."""

    def pre_validate(self, form: FlaskForm) -> None:
        try:
            super().pre_validate(form)
        except FieldError as exc:
            raise FieldError(str(_l("Lựa chọn không hợp lệ."))) from exc

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(str(_l("Lựa chọn không hợp lệ."))) from exc
