"""Glue between service errors and WTForms."""

from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm

from core.errors import ValidationError


def show_error(form: FlaskForm, error: ValidationError) -> None:
    """Attach a service's ValidationError to the form field it names, else show it at the top."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")
