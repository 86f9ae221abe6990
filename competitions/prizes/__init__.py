"""Prizes and awards: prize structures, proposals from the final rankings, review, approval,
publication, certificates and the decision list."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the prizes' tables and screens (called by competitions.init_app)."""
    from competitions.prizes import (
        models,  # noqa: F401 - tables registered for the migrations
        output_views,
        public_views,
        review_views,
        structure_views,
    )

    for module in (structure_views, review_views, public_views, output_views):
        app.register_blueprint(module.bp)
