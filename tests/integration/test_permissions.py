"""A role that has a use case's permission gets past its check, on a real database (the
refusals are unit tests: tests/unit/test_permissions.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core import db
from core.domain import Role
from core.errors import PermissionDenied
from core.permissions import ROLE_PERMISSIONS, Actor
from core.uow import UnitOfWork
from tests.unit.test_permissions import GUARDED

ALLOWED = [
    (name, fn, role)
    for name, fn in GUARDED
    for role in Role
    if getattr(fn, "required_permission") in ROLE_PERMISSIONS[role]  # noqa: B009
]


@pytest.mark.parametrize(
    ("name", "fn", "role"), ALLOWED, ids=[f"{name}-{role.value}" for name, _, role in ALLOWED]
)
def test_a_role_with_the_permission_gets_past_the_check(
    name: str, fn: Callable[..., Any], role: Role, sqlite_url: str
) -> None:
    """Past the check the call may fail for lack of arguments, which is fine here; what it
    must not do is cite the role table."""
    actor = Actor(user_id=10_000, email=f"{role.value}@test.example", role=role)
    engine = db.make_engine(sqlite_url)
    try:
        uow = UnitOfWork(db.session_factory(engine))
        try:
            fn(uow, actor)
        except PermissionDenied as exc:
            # Some use cases refine the table with ownership rules (own records only);
            # those say so in their message rather than citing the role table.
            assert "does not allow" not in exc.message, f"{name} refused {role.value}"
        except Exception:
            pass
    finally:
        engine.dispose()
