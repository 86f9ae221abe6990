"""Rounds, team scoring, live contests, emulation, prizes (built on core, quiz and leaderboard)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the rounds' tables (called by core.app.create_app)."""
    from competitions import models  # noqa: F401 - tables registered for the migrations
