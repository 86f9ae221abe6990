"""Question bank and the attempt engine (built on core)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the bank's screens, its commands and its demo part (called by core.app.create_app)."""
    from core.demo import register_part
    from quiz import (
        models,  # noqa: F401 - tables registered for the migrations
        pool,
        transfer_views,  # noqa: F401 - adds the import/export routes to quiz.views.bp
    )
    from quiz.cli import quiz_cli
    from quiz.demo import DEMO_BANK
    from quiz.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(quiz_cli)
    register_part(DEMO_BANK)
    pool.watch()
