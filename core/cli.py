"""`flask serve`: the development server with Socket.IO (production uses gunicorn, see README)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from core.extensions import socketio


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Serve the app with Socket.IO on the threaded Werkzeug server (one process)."""
    click.echo(f"Thi đua số: http://{host}:{port}/  (Ctrl+C to stop)")
    socketio.run(current_app._get_current_object(), host=host, port=port, allow_unsafe_werkzeug=True)
