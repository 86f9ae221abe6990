"""Rank store and live boards; knows board names and members, not rounds or teams."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing to register yet."""
