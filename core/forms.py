"""Glue between service errors and WTForms."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import ValidationError as FieldError

from core.errors import ValidationError
from core.extensions import db

T = TypeVar("T")


def show_error(form: FlaskForm, error: ValidationError) -> None:
    """Attach a service's ValidationError to the form field it names, else show it at the top."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


def saved(
    action: Callable[[], T], success: str | Callable[[T], str] | None = None, form: FlaskForm | None = None
) -> T | None:
    """Run one service call as a unit of work: commit it and flash ``success`` (a text, or a
    function of the result), or undo it and show the service's message, on the form field it
    names or as a flash, and return None. Service functions return what they changed, so a
    successful call is never None."""
    try:
        result = action()
    except ValidationError as error:
        db.session.rollback()
        if form is not None:
            show_error(form, error)
        else:
            flash(error.message, "error")
        return None
    message = success(result) if callable(success) else success
    db.session.commit()
    if message:
        flash(message, "success")
    return result


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
