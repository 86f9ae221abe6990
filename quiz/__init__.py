"""Question bank and the attempt engine (built on core)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from quiz import models  # noqa: F401 - tables registered for the migrations

