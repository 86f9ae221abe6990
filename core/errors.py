"""The error every service raises for bad input: a message for a person, tied to a field or a row."""

from __future__ import annotations

from flask_babel import gettext


class ValidationError(Exception):
    """Bad input. ``field`` names the form field, ``row`` the spreadsheet row (1-based, as Excel shows)."""

    def __init__(self, message: str, field: str | None = None, row: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.row = row

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return gettext("Dòng %(row)d: %(message)s", row=self.row, message=self.message)


class PermissionDenied(Exception):
    """The acting user may not do this to this object (outside their unit, not their team, ...)."""


class NotFound(ValidationError):
    """What the request names does not exist, or not for this caller (HTTP 404)."""
