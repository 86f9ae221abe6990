"""Test harness (DESIGN.md, Tests).

One app per backend for the whole session: SQLite always; PostgreSQL when reachable at
TEST_DATABASE_URL (required when CI is set). The schema comes from the Alembic migrations, so the
migrations are tested too. Every test runs inside one outer transaction that is rolled back at the
end; service code that commits only releases a SAVEPOINT.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, g
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session

from core.app import create_app
from core.config import Config
from core.extensions import db, limiter
from quiz import pool
from tests.factories import Factory, QuizFactory

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_reason() -> str | None:
    """None when PostgreSQL is usable, else why not."""
    try:
        engine = sa.create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        return f"PostgreSQL not reachable at {PG_URL}: {exc.__class__.__name__}"
    return None


REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


def _redis_reason() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        return f"Redis not reachable at {REDIS_URL}: {exc.__class__.__name__}"
    return None


PG_UNAVAILABLE = _postgres_reason()
REDIS_UNAVAILABLE = _redis_reason()
if IN_CI and (PG_UNAVAILABLE or REDIS_UNAVAILABLE):
    raise RuntimeError(f"CI requires PostgreSQL and Redis: {PG_UNAVAILABLE or REDIS_UNAVAILABLE}")

BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(bool(PG_UNAVAILABLE), reason=PG_UNAVAILABLE or "")),
]


def make_config(database_url: str, **overrides: object) -> Config:
    settings: dict[str, object] = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "REDIS_URL": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": "localhost",
        "BOARD_BROADCASTER": False,  # tests call leaderboard.broadcast.tick themselves
        "BOARD_INFO_CACHE_SECONDS": 0,  # tests change rounds and look at their boards at once
        "LIVE_TIMERS": False,  # and reveal live contest questions with competitions.live.events.reveal_if_due
    }
    return Config(**{**settings, **overrides})


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    else:
        url = PG_URL
        _reset_postgres(url)
    application = create_app(make_config(url))
    with application.app_context():
        upgrade()
        yield application
        db.session.remove()
        db.engine.dispose()


class _ConnectionBoundSession(Session):
    """Flask-SQLAlchemy's Session picks an engine itself; in tests it must use our connection."""

    def get_bind(self, *args: object, **kwargs: object) -> sa.engine.Connection:  # type: ignore[override]
        return self.bind  # type: ignore[return-value]


@pytest.fixture
def session(app: Flask) -> Iterator[sa.orm.scoped_session]:
    connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = db._make_scoped_session(
        {"bind": connection, "join_transaction_mode": "create_savepoint", "class_": _ConnectionBoundSession}
    )
    limiter.reset()
    pool.forget(app)  # ids a rolled-back test read
    try:
        yield db.session
    finally:
        db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()


@pytest.fixture
def make(session: sa.orm.scoped_session) -> Factory:
    return Factory()


@pytest.fixture
def quiz(make: Factory) -> QuizFactory:
    """Questions in the bank (approved by default) and submitted attempts at them."""
    return QuizFactory(make)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A real Redis database of its own (index 15 by default), flushed before and after each test."""
    if REDIS_UNAVAILABLE:
        pytest.skip(REDIS_UNAVAILABLE)
    import redis

    conn = redis.Redis.from_url(REDIS_URL)
    conn.flushdb()
    yield REDIS_URL
    conn.flushdb()
    conn.close()


@pytest.fixture(params=["database", "redis"])
def answer_store(request: pytest.FixtureRequest, app: Flask) -> Iterator[str]:
    """Runs the test twice: answers of attempts in progress saved to the database (no Redis, as
    ``make run``), and kept in a real Redis until the attempt closes (as in production)."""
    saved = app.config["REDIS_URL"]
    if request.param == "redis":
        app.config["REDIS_URL"] = request.getfixturevalue("redis_url")
    try:
        yield request.param
    finally:
        app.config["REDIS_URL"] = saved


class _IsolatedClient(FlaskClient):
    """Requests in tests share the session-wide app context, hence ``g``; Flask-Login caches the
    signed-in user there, Flask-Babel the locale and Flask-WTF the CSRF token, so each request must
    start without them, as in production."""

    _PER_REQUEST = ("_login_user", "_flask_babel", "csrf_token")

    def open(self, *args: object, **kwargs: object):  # noqa: ANN201
        for name in self._PER_REQUEST:
            g.pop(name, None)
        try:
            return super().open(*args, **kwargs)
        finally:
            for name in self._PER_REQUEST:
                g.pop(name, None)


@pytest.fixture
def client(app: Flask, session: sa.orm.scoped_session) -> FlaskClient:
    app.test_client_class = _IsolatedClient
    return app.test_client()


@pytest.fixture
def login(client: FlaskClient):  # noqa: ANN201 - returns a helper
    """``login(user)`` signs the test client in as ``user`` (password set by the factory)."""

    def sign_in(user: object, password: str = Factory.PASSWORD) -> FlaskClient:
        response = client.post("/login", data={"login": user.login_name, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return sign_in


def pytest_report_header() -> list[str]:
    pg = "PostgreSQL: " + (PG_UNAVAILABLE or f"used ({PG_URL})")
    rd = "Redis: " + (REDIS_UNAVAILABLE or f"used ({REDIS_URL})")
    return [pg, rd, f"CI: {IN_CI}", f"repo: {Path(__file__).resolve().parent.parent}"]
