"""A database of its own for tests of two transactions at once (two officers verifying one report,
two admins approving one decision): the usual test session is one rolled-back transaction, so a
race needs committed rows and a connection per thread."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask_sqlalchemy.session import Session
from sqlalchemy.engine import make_url

from core.extensions import db
from tests.conftest import PG_URL


class _EngineSession(Session):
    def get_bind(self, *args: object, **kwargs: object) -> sa.Engine:  # type: ignore[override]
        return self.bind  # type: ignore[return-value]


def _copy_seed_rows(source: sa.Engine, target: sa.Engine) -> None:
    """The rows the migrations insert (roles, categories, the activity catalogue, the scheme, badge
    rules, ...): the test database holds nothing else outside a test's rolled-back transaction."""
    with source.connect() as reading, target.begin() as writing:
        for table in db.metadata.sorted_tables:
            rows = reading.execute(table.select()).mappings().all()
            if not rows:
                continue
            writing.execute(table.insert(), [dict(row) for row in rows])
            if "id" in table.c and isinstance(table.c.id.type, sa.Integer):
                writing.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                        f"(SELECT max(id) FROM {table.name}))"))


@contextmanager
def race_database(suffix: str) -> Iterator[sa.Engine]:
    """A PostgreSQL database of its own (``<test db>_<suffix>``) with the seed rows, and
    ``db.session`` bound to it: each thread (own app context) gets its own session and connection,
    as two requests would. Skips the test on SQLite."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("two concurrent transactions need PostgreSQL's row locks")
    name = f"{make_url(PG_URL).database}_{suffix}"
    admin = sa.create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine = sa.create_engine(make_url(PG_URL).set(database=name))
    db.metadata.create_all(engine)
    _copy_seed_rows(db.engine, engine)
    original = db.session
    db.session = db._make_scoped_session({"bind": engine, "class_": _EngineSession})
    try:
        yield engine
    finally:
        db.session.remove()
        db.session = original
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
