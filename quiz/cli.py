"""`flask quiz …`: scripting the bank."""

from __future__ import annotations

from flask.cli import AppGroup

quiz_cli = AppGroup("quiz", help="The question bank.")
