"""Helpers shared by the services (not use cases themselves)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.errors import EditConflict, FieldChange, NotFound
from core.models import Base, Chat, User

T = TypeVar("T")
M = TypeVar("M", bound=Base)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows, with the total that match (for "showing 1–500 of 12,345")."""

    rows: list[T]
    total: int
    offset: int
    limit: int


# Keys of the PostgreSQL advisory locks taken by ``one_at_a_time`` (727001: migrations).
BUDGET_CHECK_LOCK = 727002
BASE_MODEL_LIST_LOCK = 727003


def one_at_a_time(session: Session, key: int) -> None:
    """Serialise this transaction with every other one that asks for the same key, until it
    ends: for read-then-insert work that several worker processes may start at once.
    SQLite needs nothing: its transactions begin with BEGIN IMMEDIATE (one writer)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def get_or_404(session: Session, cls: type[M], key: int, what: str) -> M:
    obj = session.get(cls, key)
    if obj is None:
        raise NotFound(f"{what} #{key} was not found; it may have been deleted.")
    return obj


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj: Base, fields: Iterable[str]) -> dict[str, Any]:
    """The audited fields of a record as JSON-friendly values."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [key for key in after if before.get(key) != after.get(key)]


def check_row_version(
    obj: Any,
    expected_version: int | None,
    *,
    entity: str,
    seen: dict[str, Any] | None = None,
    attempted: dict[str, Any] | None = None,
) -> None:
    """Refuse to overwrite a record that changed since the caller read it."""
    if expected_version is None or obj.row_version == expected_version:
        return
    seen = seen or {}
    attempted = attempted or {}
    changes = [
        FieldChange(
            field=name, seen=seen.get(name), stored=_plain(getattr(obj, name)), attempted=value
        )
        for name, value in attempted.items()
    ]
    raise EditConflict(
        f"This {entity} was changed by someone else since you opened it "
        f"(version {expected_version} → {obj.row_version}). Nothing was overwritten.",
        entity=entity,
        entity_id=obj.id,
        stored_version=obj.row_version,
        changes=changes,
    )


def user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.query(User.id, User.display_name).filter(User.id.in_(wanted))
    return {uid: name for uid, name in rows}


def chat_titles(session: Session, refs: Iterable[Mapping[str, Any] | None]) -> dict[int, str]:
    """Titles of the chats that origin references point to (to name them in labels)."""
    ids = {int(r["chat_id"]) for r in refs if r and "chat_id" in r}
    if not ids:
        return {}
    return dict(session.execute(select(Chat.id, Chat.title).where(Chat.id.in_(ids))).all())
