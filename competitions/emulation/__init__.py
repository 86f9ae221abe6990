"""Emulation (thi đua): activity catalogue, targets, activity reports, the scheme, standings, badges."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register emulation's tables, screens and boards (called by competitions.init_app)."""
    from competitions.emulation import (
        badge_views,
        badges,
        catalogue_views,
        export_views,
        models,  # noqa: F401 - tables registered for the migrations
        progress_views,
        report_views,
        scheme_views,
        standings,
        standings_views,
        targets_views,
    )

    for module in (catalogue_views, targets_views, progress_views, report_views, scheme_views, standings_views,
                   badge_views, export_views):
        app.register_blueprint(module.bp)
    standings.register(app)
    badges.connect()
