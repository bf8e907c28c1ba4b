"""Sign-in under parallel load: every failure is counted under the user's row lock (no lost
count, no StaleDataError), the fifth locks the account and none after it counts; passwords
are verified outside the write transaction; a password change ends the other sessions."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import db, security
from core.domain import Role
from core.errors import AuthenticationFailed
from core.models import AuditEntry, User
from core.permissions import Actor
from core.services import accounts
from core.uow import UnitOfWork
from tests.conftest import make_user

Uows = Callable[[], UnitOfWork]
RIGHT = "correct horse battery"


def _parallel_wrong_passwords(new_uow: Uows, email: str, count: int) -> list[str]:
    """``count`` wrong passwords at once; what each attempt ended with."""
    start = threading.Barrier(count)

    def attempt(n: int) -> str:
        start.wait()
        try:
            accounts.log_in(new_uow(), email, f"wrong password {n}")
        except AuthenticationFailed:
            return "refused"
        except Exception as exc:
            return type(exc).__name__
        return "signed in"

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(attempt, range(count)))


def _state(new_uow: Uows, user_id: int) -> tuple[int, bool, int]:
    with new_uow() as uow:
        user = uow.session.get(User, user_id)
        assert user is not None
        locks = uow.session.scalar(
            select(func.count()).where(AuditEntry.action == "lock", AuditEntry.entity_id == user_id)
        )
        return user.failed_logins, user.locked_until is not None, locks or 0


def test_parallel_wrong_passwords_are_each_counted_once(new_uow: Uows, trainer: Actor) -> None:
    assert trainer.user_id is not None
    assert _parallel_wrong_passwords(new_uow, trainer.email, 4) == ["refused"] * 4
    # Four counted, none lost: not yet locked.
    assert _state(new_uow, trainer.user_id) == (4, False, 0)
    assert accounts.log_in(new_uow(), trainer.email, RIGHT).user_id == trainer.user_id


def test_twenty_parallel_wrong_passwords_lock_after_exactly_five(
    new_uow: Uows, trainer: Actor
) -> None:
    assert trainer.user_id is not None
    outcomes = _parallel_wrong_passwords(new_uow, trainer.email, 20)
    assert outcomes == ["refused"] * 20, outcomes
    # Locked once, by the fifth counted failure (which sets the count back to 0); the fifteen
    # after it were refused without being counted, or the count would have grown again.
    assert _state(new_uow, trainer.user_id) == (0, True, 1)
    with pytest.raises(AuthenticationFailed):
        accounts.log_in(new_uow(), trainer.email, RIGHT)


def test_the_password_is_verified_outside_the_write_transaction(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:

    factory = db.session_factory(db.make_engine(sqlite_url))
    actor = make_user(UnitOfWork(factory), "t@test.example", Role.TRAINER)
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    real_verify = security.verify_password
    writers: list[str] = []

    def verify_while_another_writes(password_hash: str | None, password: str) -> bool:
        # Another connection wants the write lock at once, as a trainer's save would.
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            writers.append("wrote")
        except sqlite3.OperationalError as exc:
            writers.append(str(exc))
        finally:
            other.close()
        return real_verify(password_hash, password)

    monkeypatch.setattr(security, "verify_password", verify_while_another_writes)
    accounts.log_in(UnitOfWork(factory), actor.email, RIGHT)
    with pytest.raises(AuthenticationFailed):
        accounts.log_in(UnitOfWork(factory), actor.email, "wrong")
    accounts.change_own_password(UnitOfWork(factory), actor, RIGHT, "another password 123")
    assert writers == ["wrote"] * 3


def test_changing_ones_own_password_ends_the_other_sessions(
    new_uow: Uows, trainer: Actor, admin: Actor
) -> None:
    here = accounts.start_session(new_uow(), trainer)
    stolen = accounts.start_session(new_uow(), trainer)
    elsewhere = accounts.start_session(new_uow(), admin)
    accounts.change_own_password(new_uow(), trainer, RIGHT, "a new password 123", keep_session=here)
    assert accounts.resume_session(new_uow(), here).user_id == trainer.user_id
    with pytest.raises(AuthenticationFailed, match="session has ended"):
        accounts.resume_session(new_uow(), stolen)
    # Another user's sessions are not touched.
    assert accounts.resume_session(new_uow(), elsewhere).user_id == admin.user_id
