"""Who may do what: the one table of permissions per role.

Every public service function declares the permission it needs with ``@requires``; the
check runs before the function touches the database. ``tests/unit/test_permissions.py`` and ``tests/integration/test_permissions.py`` walk
every service function and every role against this table.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, TypeVar

from core.domain import Role
from core.errors import NotFound, PermissionDenied


class Permission(enum.StrEnum):
    READ = "read"  # models, Q&As, conversations, compilations, versions, history
    CHAT = "chat"  # take part in chats with users and arbiters
    EDIT_TRAINING = "edit_training"  # Q&As, training conversations, transcripts, Train AI
    COMPILE = "compile"  # pre-flight, start and cancel compilations
    MANAGE_MODELS = "manage_models"  # create, configure and delete AI models
    MANAGE_CONNECTIONS = "manage_connections"
    MANAGE_USERS = "manage_users"
    MANAGE_VERSIONS = "manage_versions"  # roll back, activate a held-back version
    OVERRIDE_BUDGET = "override_budget"
    VIEW_AUDIT = "view_audit"
    VIEW_CONNECTIONS = "view_connections"  # connection settings (never keys), costs, budgets


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.TRAINER: frozenset(
        {
            Permission.READ,
            Permission.CHAT,
            Permission.EDIT_TRAINING,
            Permission.COMPILE,
        }
    ),
    Role.MANAGER: frozenset(
        {
            Permission.READ,
            Permission.CHAT,
            Permission.VIEW_AUDIT,
            Permission.VIEW_CONNECTIONS,
        }
    ),
}


# The role table of the README, rendered from ROLE_PERMISSIONS by ``role_table()`` (a test
# checks that the README holds exactly that): each row names what a permission allows, and
# a row of several permissions shows, per role, the mark of the first one it has.
TABLE_ROWS: tuple[tuple[str, tuple[tuple[Permission, str], ...]], ...] = (
    ("read models, Q&As, conversations, history", ((Permission.READ, "✓"),)),
    ("chat with arbiters", ((Permission.CHAT, "✓"),)),
    ("edit Q&As, conversations, transcripts; Train AI", ((Permission.EDIT_TRAINING, "✓"),)),
    ("pre-flight, compile, cancel", ((Permission.COMPILE, "✓"),)),
    ("create and configure models", ((Permission.MANAGE_MODELS, "✓"),)),
    (
        "connections: settings, test, costs and budgets (never keys)",
        ((Permission.MANAGE_CONNECTIONS, "✓ manage"), (Permission.VIEW_CONNECTIONS, "read")),
    ),
    ("users", ((Permission.MANAGE_USERS, "✓"),)),
    ("roll back and activate versions", ((Permission.MANAGE_VERSIONS, "✓"),)),
    ("override budgets", ((Permission.OVERRIDE_BUDGET, "✓"),)),
    ("audit trail", ((Permission.VIEW_AUDIT, "✓"),)),
)


def role_table() -> str:
    """The role table as Markdown, from ``ROLE_PERMISSIONS``."""
    roles = list(Role)
    lines = [
        "| | " + " | ".join(r.value for r in roles) + " |",
        "|---|" + ":-:|" * len(roles),
    ]
    for label, marks in TABLE_ROWS:
        cells = [
            next((mark for p, mark in marks if p in ROLE_PERMISSIONS[role]), "") for role in roles
        ]
        lines.append(f"| {label} |" + "|".join(f" {c} " if c else " " for c in cells) + "|")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Actor:
    """Who is calling a service: a signed-in user, or the system itself (CLI, worker)."""

    user_id: int | None
    email: str
    role: Role
    display_name: str = ""

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(user_id=None, email=f"{name}@arbiter.local", role=Role.ADMIN, display_name=name)

    @property
    def is_system(self) -> bool:
        return self.user_id is None

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]


def authorize(actor: Actor | None, permission: Permission) -> Actor:
    if actor is None:
        raise PermissionDenied("Please sign in first.")
    if not actor.can(permission):
        raise PermissionDenied(
            f"Your role ({actor.role.value}) does not allow this ({permission.value})."
        )
    return actor


P = ParamSpec("P")
R = TypeVar("R")
U = TypeVar("U")

# Every guarded service function, by qualified name, with the permission it needs.
SERVICE_PERMISSIONS: dict[str, Permission] = {}


def requires(
    permission: Permission,
) -> Callable[[Callable[Concatenate[U, Actor, P], R]], Callable[Concatenate[U, Actor, P], R]]:
    """Guard a service function ``fn(uow, actor, ...)`` with a permission of the table."""

    def decorate(
        fn: Callable[Concatenate[U, Actor, P], R],
    ) -> Callable[Concatenate[U, Actor, P], R]:
        @functools.wraps(fn)
        def guarded(uow: U, actor: Actor, /, *args: P.args, **kwargs: P.kwargs) -> R:
            authorize(actor, permission)
            return fn(uow, actor, *args, **kwargs)

        guarded.required_permission = permission  # type: ignore[attr-defined]
        SERVICE_PERMISSIONS[f"{fn.__module__}.{fn.__qualname__}"] = permission
        return guarded

    return decorate


def public(fn: Callable[P, R]) -> Callable[P, R]:
    """Mark a service function that needs no signed-in user (e.g. logging in)."""
    fn.is_public = True  # type: ignore[attr-defined]
    return fn


def not_found(what: str, key: object) -> NotFound:
    return NotFound(f"{what} {key!r} was not found; it may have been deleted.")
