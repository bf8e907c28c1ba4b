"""One migration history for both databases: upgrade, downgrade and upgrade again, and the
migrations describe exactly the ORM."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from core import db
from core.models import Base


def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    engine = db.make_engine(db_url)
    try:
        db.upgrade(engine)
        assert db.current_revision(engine) is not None
        db.downgrade(engine, "base")
        assert db.current_revision(engine) is None
        with engine.connect() as conn:
            assert not set(inspect(conn).get_table_names()) & set(Base.metadata.tables)
        db.upgrade(engine)
        with engine.connect() as conn:
            assert set(Base.metadata.tables) <= set(inspect(conn).get_table_names())
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == [], f"the ORM and the migrations differ: {diff}"
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(db_url: str) -> None:
    engine = db.make_engine(db_url)
    try:
        db.upgrade(engine)
        first = db.current_revision(engine)
        db.upgrade(engine)
        assert db.current_revision(engine) == first
    finally:
        engine.dispose()
