"""SQLite as a real transactional database: foreign keys on, and SAVEPOINT working.

pysqlite's own transaction handling breaks SAVEPOINT (used by nested transactions and the
test isolation); the SQLAlchemy-documented fix is to let SQLAlchemy emit BEGIN itself.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection: object, _record: object) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 5000")
        cursor.close()


@event.listens_for(Engine, "begin")
def _on_begin(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")
