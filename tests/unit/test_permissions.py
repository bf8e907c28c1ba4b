"""Every use case checks the caller's role against the one table in ``core.permissions``,
before it touches the database: tested for every use case and every role that lacks the
permission, against a unit of work that fails if it is opened. (Roles that have the
permission get past the check: tests/integration/test_permissions.py.)"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

import pytest

import core.services
from core.domain import Role
from core.errors import PermissionDenied
from core.permissions import ROLE_PERMISSIONS, SERVICE_PERMISSIONS, Actor, Permission
from tests.unit.fakes import UntouchedUnitOfWork


def service_functions() -> list[tuple[str, Callable[..., Any]]]:
    """Every use case: the functions each domain package exports."""
    found: list[tuple[str, Callable[..., Any]]] = []
    for info in pkgutil.iter_modules(core.services.__path__):
        if not info.ispkg:
            continue
        package = importlib.import_module(f"core.services.{info.name}")
        for name in package.__all__:
            fn = getattr(package, name)
            if inspect.isfunction(fn):
                found.append((f"{fn.__module__}.{fn.__name__}", fn))
    return found


SERVICES = service_functions()
GUARDED = [(name, fn) for name, fn in SERVICES if hasattr(fn, "required_permission")]
DENIED = [
    (name, fn, role)
    for name, fn in GUARDED
    for role in Role
    if getattr(fn, "required_permission") not in ROLE_PERMISSIONS[role]  # noqa: B009
]


def test_every_use_case_is_guarded_or_explicitly_public() -> None:
    unguarded = [
        name
        for name, fn in SERVICES
        if not hasattr(fn, "required_permission") and not getattr(fn, "is_public", False)
    ]
    assert unguarded == [], "declare @requires(...) or @public on these"
    assert len(GUARDED) >= 20
    assert {name for name, _ in GUARDED} <= set(SERVICE_PERMISSIONS)


def test_the_table_gives_admins_everything_and_others_less() -> None:
    assert ROLE_PERMISSIONS[Role.ADMIN] == frozenset(Permission)
    assert Permission.MANAGE_USERS not in ROLE_PERMISSIONS[Role.TRAINER]
    assert Permission.EDIT_TRAINING not in ROLE_PERMISSIONS[Role.MANAGER]
    assert Permission.COMPILE not in ROLE_PERMISSIONS[Role.MANAGER]
    # Connections (where keys and endpoints point) and deployments (billed per hour): admins only.
    for permission in (Permission.MANAGE_CONNECTIONS, Permission.MANAGE_VERSIONS):
        assert [r for r in Role if permission in ROLE_PERMISSIONS[r]] == [Role.ADMIN]


@pytest.mark.parametrize(
    ("name", "fn", "role"), DENIED, ids=[f"{name}-{role.value}" for name, _, role in DENIED]
)
def test_a_role_without_the_permission_is_refused_before_any_transaction(
    name: str, fn: Callable[..., Any], role: Role
) -> None:
    uow = UntouchedUnitOfWork()
    actor = Actor(user_id=10_000, email=f"{role.value}@test.example", role=role)
    with pytest.raises(PermissionDenied, match="does not allow"):
        fn(uow, actor)
    assert uow.opened == 0


@pytest.mark.parametrize(("name", "fn"), GUARDED, ids=[name for name, _ in GUARDED])
def test_anonymous_callers_are_refused(name: str, fn: Callable[..., Any]) -> None:
    with pytest.raises(PermissionDenied, match="sign in"):
        fn(UntouchedUnitOfWork(), None)


def test_the_fake_fails_a_use_case_that_opens_it() -> None:
    from core.services import accounts

    admin = Actor(user_id=1, email="admin@test.example", role=Role.ADMIN)
    with pytest.raises(AssertionError, match="opened a transaction"):
        accounts.list_users(UntouchedUnitOfWork(), admin)


def test_the_readme_role_table_is_the_one_in_the_code() -> None:
    from core.permissions import TABLE_ROWS, role_table
    from tests.paths import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert role_table() in readme
    # Every permission has its row, so the table cannot leave one out.
    assert {p for _, marks in TABLE_ROWS for p, _ in marks} == set(Permission)


def test_trainers_cannot_read_connection_settings() -> None:
    from core.services import catalog

    for read in (catalog.list_connections, catalog.get_connection, catalog.test_connection):
        assert getattr(read, "required_permission", None) == Permission.VIEW_CONNECTIONS
    assert not Actor(1, "t@x", Role.TRAINER).can(Permission.VIEW_CONNECTIONS)
