"""Alembic environment: one migration history for SQLite and PostgreSQL.

``render_as_batch`` lets the same scripts alter tables on SQLite (which rebuilds them).
Foreign keys are switched off on SQLite while migrating, since a table rebuild would
otherwise trip over rows that reference it.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine

from core.db import make_engine
from core.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine: Engine = context.config.attributes.get("engine") or make_engine()
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Must happen outside any transaction to take effect.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            _run(connection)
            connection.commit()
        finally:
            if connection.dialect.name == "sqlite":
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run them online.")
run_migrations_online()
