"""WSGI entry point: ``gunicorn -k gevent -w 1 core.wsgi:app`` (see README, running at scale)."""

from core.app import create_app

app = create_app()
