"""Rounds, team scoring, live contests, emulation, prizes (built on core, quiz and leaderboard)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the rounds' tables, screens, API, commands and demo parts (called by create_app)."""
    from competitions import (
        board_feed,
        emulation,
        models,  # noqa: F401 - tables registered for the migrations
        prizes,
    )
    from competitions.boards import CompetitionBoards
    from competitions.demo import DEMO_ROUNDS
    from competitions.emulation.demo import DEMO_EMULATION
    from competitions.live import events as live_events
    from competitions.live import models as live_models  # noqa: F401 - tables registered for the migrations
    from competitions.live.demo import DEMO_LIVE
    from competitions.live.views import bp as live_bp
    from competitions.play_demo import DEMO_ATTEMPTS
    from competitions.play_views import api_bp, play_bp
    from competitions.prizes.demo import DEMO_PRIZES
    from competitions.result_views import results_bp
    from competitions.views import bp as rounds_bp
    from core.demo import register_part
    from leaderboard.sources import register_source

    for blueprint in (rounds_bp, play_bp, api_bp, results_bp, live_bp):
        app.register_blueprint(blueprint)
    boards = CompetitionBoards()
    register_source(app, "round", boards)
    register_source(app, "series", boards)
    board_feed.connect()
    live_events.register()
    emulation.init_app(app)
    prizes.init_app(app)
    register_part(DEMO_ROUNDS)
    register_part(DEMO_ATTEMPTS)  # after the rounds part: it plays the demo's rounds
    register_part(DEMO_LIVE)  # a launched live contest, ready to host
    register_part(DEMO_EMULATION)  # after the attempts: badges are evaluated over the demo's rounds
    register_part(DEMO_PRIZES)  # a closed round's prizes, decided and published
