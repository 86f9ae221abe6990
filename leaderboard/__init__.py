"""Rank store and live boards; knows board names and members, not rounds or teams."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the board pages, the ``/boards`` Socket.IO namespace and the CLI (create_app)."""
    from leaderboard import broadcast, events
    from leaderboard.cli import leaderboard_cli
    from leaderboard.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(leaderboard_cli)
    events.register()
    app.before_request(lambda: broadcast.start(app))
