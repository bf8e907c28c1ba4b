"""Shared fixtures: real databases (a SQLite file and a throwaway PostgreSQL database),
units of work, and one actor per role.

``db_url`` runs a test on both backends. PostgreSQL tests skip when no server answers,
unless REQUIRE_POSTGRES=1 (CI), where a skip would hide a failure and so fails instead.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

# Before anything imports core: cheap password hashing, no background thread in pages.
os.environ.setdefault("ARBITER_FAST_PASSWORD_HASH", "1")
os.environ.setdefault("ARBITER_EMBEDDED_WORKER", "0")
# Seeded demo studios without the fine-tuned arbiter, whose queued training a studio's worker
# would run; the tests of that arbiter switch it on (tests/browser/test_demo_fine_tune.py).
os.environ.setdefault("ARBITER_DEMO_FINE_TUNE", "0")
# One thread per torch/BLAS user (chat in a test, a training, an app server): two xdist
# workers share two cores, and threads beyond them wait on each other (tests/lora_helpers.py).
os.environ.setdefault("OMP_NUM_THREADS", "1")

# ARBITER_TEST_CLOCK=2027-03-02T12:00:00Z runs the suite at that moment (see make test-clock):
# here, and in every Python process the tests start.
if os.environ.get("ARBITER_TEST_CLOCK"):
    _CLOCK_SITE = str(Path(__file__).resolve().parent / "clock_site")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (_CLOCK_SITE, os.environ.get("PYTHONPATH")) if p
    )
    import tests.clock_site.sitecustomize  # noqa: F401  (starts this process's clock)

import pytest
from sqlalchemy import create_engine, text

from core import db
from core.domain import Role
from core.models import Base, User
from core.permissions import Actor
from core.security import hash_password
from core.uow import UnitOfWork

# Importing it sets the tests' base-model catalogue for this process and every process the
# tests start (see the module).
from tests.catalogue_site import SHIPPED_CATALOGUE

# Keeps each xdist_group on one worker under pytest 9.2 (see the module).
pytest_plugins = ("tests.xdist_groups",)

PG_ADMIN_URL = os.environ.get(
    "ARBITER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _require(env: str) -> bool:
    return os.environ.get(env) == "1"


def skip_or_fail(env: str, reason: str) -> None:
    if _require(env):
        pytest.fail(f"{reason} (and {env}=1 forbids skipping)")
    pytest.skip(reason)


# --- SQLite -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file migrated to head once per session; tests get copies."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "arbiter.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


# --- PostgreSQL ---------------------------------------------------------------------------


def _pg_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A throwaway database for this test process, migrated to head; dropped at the end."""
    if not _pg_available():
        skip_or_fail("REQUIRE_POSTGRES", f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
    name = f"arbiter_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    yield url
    db.dispose_engines()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def truncate_all(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE TABLE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def pg_url(pg_database: str) -> str:
    truncate_all(pg_database)
    return pg_database


# --- Both ---------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def engine_for(db_url: str) -> Iterator[Callable[[], UnitOfWork]]:
    engine = db.make_engine(db_url)
    factory = db.session_factory(engine)
    yield lambda: UnitOfWork(factory)
    engine.dispose()


@pytest.fixture
def new_uow(engine_for: Callable[[], UnitOfWork]) -> Callable[[], UnitOfWork]:
    """A factory of units of work on the test database (one per use case, as pages do)."""
    return engine_for


@pytest.fixture
def uow(new_uow: Callable[[], UnitOfWork]) -> UnitOfWork:
    return new_uow()


def make_user(
    uow: UnitOfWork, email: str, role: Role, password: str = "correct horse battery"
) -> Actor:
    with uow:
        user = User(
            email=email,
            display_name=email.split("@")[0].title(),
            role=role,
            password_hash=hash_password(password),
        )
        uow.session.add(user)
        uow.commit()
        return Actor(
            user_id=user.id, email=user.email, role=user.role, display_name=user.display_name
        )


@pytest.fixture
def admin(uow: UnitOfWork) -> Actor:
    return make_user(uow, "admin@test.example", Role.ADMIN)


@pytest.fixture
def trainer(uow: UnitOfWork) -> Actor:
    return make_user(uow, "trainer@test.example", Role.TRAINER)


@pytest.fixture
def manager(uow: UnitOfWork) -> Actor:
    return make_user(uow, "manager@test.example", Role.MANAGER)


@pytest.fixture
def catalogue_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The base-model catalogue read from a file of the test's own (empty at first), instead
    of the one the project ships: for tests of the stored layer and of the merge."""
    from core.providers import catalogue

    path = tmp_path / "catalogue.toml"
    path.write_text("models = []\n", encoding="utf-8")
    monkeypatch.setenv(catalogue.CATALOGUE_ENV, str(path))
    catalogue.load.cache_clear()
    yield path
    catalogue.load.cache_clear()


@pytest.fixture
def shipped_catalogue(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The catalogue the project ships, with its real cut-off dates (see the top of this file)."""
    from core.providers import catalogue

    monkeypatch.setenv(catalogue.CATALOGUE_ENV, str(SHIPPED_CATALOGUE))
    catalogue.load.cache_clear()
    yield SHIPPED_CATALOGUE
    catalogue.load.cache_clear()
