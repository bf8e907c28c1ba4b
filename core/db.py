"""Engine, session factory and schema upgrades.

SQLite is the embedded default (a file under ``data/``); PostgreSQL is for scale-out.
On SQLite every transaction starts with ``BEGIN IMMEDIATE``: writers queue on the busy
timeout instead of failing half-way with "database is locked" when a read lock cannot be
upgraded, which is what makes concurrent editors and several workers safe on one file.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core import config
from core.errors import DatabaseBusy

if TYPE_CHECKING:
    from alembic.config import Config

SessionFactory = sessionmaker[Session]

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(config.sqlite_busy_seconds() * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _private_sqlite_file(url: str) -> None:
    """Create the database file 0600 before SQLite does (it would follow the umask, 0644),
    and tighten one left looser; SQLite gives its WAL and shared-memory files the same
    permissions as the database."""
    name = make_url(url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    if not path.parent.is_dir():
        return  # SQLite will say it cannot open the file
    try:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, config.PRIVATE_FILE_MODE))
    except OSError:
        return
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        config.make_private(file, config.PRIVATE_FILE_MODE)


def make_engine(url: str | None = None) -> Engine:
    url = url or config.database_url()
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": config.sqlite_busy_seconds()},
        )
        _configure_sqlite(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    return engine


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL and process (engines own connection pools)."""
    url = url or config.database_url()
    with _engines_lock:
        if url not in _engines:
            _engines[url] = make_engine(url)
        return _engines[url]


def dispose_engines() -> None:
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def session_factory(engine: Engine | None = None) -> SessionFactory:
    return sessionmaker(bind=engine or get_engine(), expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config(str(config.PROJECT_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(config.PROJECT_DIR / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


# PostgreSQL: serialization failure, deadlock, lock not available.
_BUSY_STATES = frozenset({"40001", "40P01", "55P03"})


def is_busy(exc: OperationalError) -> bool:
    """A lock wait that ran out (SQLite's busy timeout) or a deadlock: the transaction was
    rolled back whole and nothing of it was written."""
    if getattr(exc.orig, "sqlstate", None) in _BUSY_STATES:
        return True
    return "database is locked" in str(exc.orig) or "database table is locked" in str(exc.orig)


@contextmanager
def _busy_is_a_domain_error() -> Iterator[None]:
    # Every process upgrades the schema first, before any use case: a database locked by
    # another program must end there as a message too, not as a traceback.
    try:
        yield
    except OperationalError as exc:
        if not is_busy(exc):
            raise
        raise DatabaseBusy(
            "The database is locked by another process and the schema check could not wait "
            "any longer; nothing was changed. Try again when it is done."
        ) from exc


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    with _busy_is_a_domain_error(), _migration_lock(engine):
        command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    with _busy_is_a_domain_error(), _migration_lock(engine):
        command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
        return str(row[0]) if row else None


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Several app instances and workers may start at once: only one migrates at a time."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT pg_advisory_lock(727001)")
            try:
                yield
            finally:
                conn.exec_driver_sql("SELECT pg_advisory_unlock(727001)")
                conn.commit()
    else:
        yield
