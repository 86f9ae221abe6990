"""The app as a real server process, for tests that need one (several workers, a browser).

``python -m tests.live_server --port N [--prepare] [--demo]`` with DATABASE_URL, REDIS_URL and
SECRET_KEY in the environment. --prepare migrates the database and creates the account
``LIVE_ADMIN`` / ``LIVE_PASSWORD``; --demo also loads the demo province.
"""

from __future__ import annotations

import argparse

from flask_migrate import upgrade

from core.accounts import service as accounts
from core.accounts.models import User
from core.app import create_app
from core.extensions import db, socketio

LIVE_ADMIN = "live.admin"
LIVE_PASSWORD = "live-password-1"  # noqa: S105 - test-only account


def prepare(demo: bool) -> None:
    upgrade()
    if db.session.query(User).filter_by(username=LIVE_ADMIN).first() is None:
        accounts.create_user("Quản trị kiểm thử", role="admin", username=LIVE_ADMIN, password=LIVE_PASSWORD)
        db.session.commit()
    if demo:
        from core.demo import load_demo

        load_demo()
        db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--prepare", action="store_true")
    parser.add_argument("--demo", action="store_true")
    args = parser.parse_args()
    app = create_app()
    if args.prepare:
        with app.app_context():
            prepare(args.demo)
        return
    socketio.run(app, host="127.0.0.1", port=args.port, allow_unsafe_werkzeug=True, log_output=False)


if __name__ == "__main__":
    main()
