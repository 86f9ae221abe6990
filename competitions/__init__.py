"""Rounds, team scoring, live contests, emulation, prizes (built on core, quiz and leaderboard)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing to register yet."""
