from __future__ import annotations

from flask.cli import AppGroup

users_cli = AppGroup("users", help="Manage user accounts.")
