"""Bulk actions on chosen Q&As or on every row matching a query: set section or type,
(de)activate, delete, copy and move. Each is journalled so that it can be undone
(``core.services.qas.undo``); rows someone changed since they were shown are never touched."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, any_, delete, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from core.domain import as_utc, utcnow
from core.errors import Conflict, Problem, ValidationFailed
from core.models import QA, AIModel, QABulkJournal
from core.permissions import Actor, Permission, requires
from core.qa_rules import FieldError, clean_field
from core.services.accounts.audit import record_audit
from core.services.qas.editing import audit_values
from core.services.qas.query import QAQuery, conditions, dialect_of
from core.services.shared import get_or_404
from core.uow import UnitOfWork

# Bound parameters per statement stay far below SQLite's limit of 32,766.
_CHUNK = 5_000


_JOURNAL_KEEP = timedelta(days=7)


class BulkAction(enum.StrEnum):
    SET_SECTION = "set_section"
    SET_TYPE = "set_type"
    ACTIVATE = "activate"
    DEACTIVATE = "deactivate"
    DELETE = "delete"
    COPY = "copy"
    MOVE = "move"


@dataclass(frozen=True)
class Selection:
    """Rows chosen in the grid (``ids``), or every row of the model that matches ``query``.
    Only the model's own rows are ever touched.

    ``versions`` (row id → the row version the person saw) guards chosen rows as a cell save
    is guarded: if any of them was changed or removed since, the action is refused and
    nothing is written, so that no one's later edit is deleted or overwritten unseen."""

    model_id: int
    ids: tuple[int, ...] = ()
    query: QAQuery | None = None
    versions: Mapping[int, int] | None = None

    @property
    def all_matching(self) -> bool:
        return self.query is not None


@dataclass(frozen=True)
class BulkResult:
    action: str
    changed: int
    skipped: int = 0
    journal_id: int | None = None
    message: str = ""


def _selectionconditions(session: Session, selection: Selection) -> list[ColumnElement[bool]]:
    if selection.query is not None:
        own = replace(selection.query, model_id=selection.model_id, include_related=False)
        return conditions(own, [selection.model_id], dialect_of(session))
    return [QA.model_id == selection.model_id, id_in(session, selection.ids or (-1,))]


def _locked(session: Session, stmt: Any) -> Any:
    """Lock the rows read, until the transaction ends (PostgreSQL; SQLite transactions
    already hold the one write lock): two people acting on the same rows at once then
    act one after the other, and the second sees what the first did."""
    return stmt.with_for_update() if dialect_of(session) == "postgresql" else stmt


def _refuse_if_changed_since(session: Session, selection: Selection) -> None:
    if selection.versions is None:
        return
    ids = sorted(set(selection.ids) | set(selection.versions))
    found: dict[int, int] = {}
    for chunk in chunks(ids):
        found.update(
            session.execute(
                _locked(
                    session,
                    select(QA.id, QA.row_version)
                    .where(QA.model_id == selection.model_id, id_in(session, chunk))
                    .order_by(QA.id),
                )
            ).all()
        )
    changed = [i for i in ids if found.get(i) != selection.versions.get(i)]
    if changed:
        sample = ", ".join(f"#{i}" for i in changed[:5]) + ("…" if len(changed) > 5 else "")
        raise Conflict(
            f"{len(changed):,} of the chosen Q&As were changed or removed by someone else "
            f"since you loaded them ({sample}). Nothing was done; reload to see their changes."
        )


@requires(Permission.READ)
def count_selection(uow: UnitOfWork, actor: Actor, selection: Selection) -> int:
    """How many of the model's own rows a bulk action would touch (for the confirmation)."""
    with uow:
        where = _selectionconditions(uow.session, selection)
        return uow.session.scalar(select(func.count()).where(*where)) or 0


def id_in(session: Session, ids: Sequence[int]) -> ColumnElement[bool]:
    """``QA.id IN (...)``; on PostgreSQL as ``= ANY`` of one array parameter: thousands of
    separate parameters (a bulk action over 10,000 rows) cost more to render and send than
    the update itself."""
    if dialect_of(session) == "postgresql":
        return QA.id == any_(literal(list(ids), ARRAY(Integer)))
    return QA.id.in_(ids)


def chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def write_journal(
    session: Session,
    actor: Actor,
    model_id: int,
    action: str,
    summary: str,
    count: int,
    payload: dict[str, Any],
) -> int:
    # Undo is meant for "right after"; old journals only take space.
    session.execute(
        delete(QABulkJournal).where(QABulkJournal.created_at < utcnow() - _JOURNAL_KEEP)
    )
    entry = QABulkJournal(
        model_id=model_id,
        actor_id=actor.user_id,
        action=action,
        summary=summary,
        row_count=count,
        payload=payload,
    )
    session.add(entry)
    session.flush()
    return entry.id


def _audit_ids(ids: Sequence[int]) -> dict[str, Any]:
    return {"count": len(ids), "ids": list(ids[:1000]), "ids_truncated": len(ids) > 1000}


_UPDATES: dict[BulkAction, tuple[str, str]] = {
    BulkAction.SET_SECTION: ("section", "set the section"),
    BulkAction.SET_TYPE: ("qa_type", "set the type"),
    BulkAction.ACTIVATE: ("is_active", "activated"),
    BulkAction.DEACTIVATE: ("is_active", "deactivated"),
}


def _bulk_update(
    session: Session,
    actor: Actor,
    model: AIModel,
    where: list[ColumnElement[bool]],
    action: BulkAction,
    raw_value: Any,
) -> BulkResult:
    name, verb = _UPDATES[action]
    if action == BulkAction.ACTIVATE:
        raw_value = True
    elif action == BulkAction.DEACTIVATE:
        raw_value = False
    try:
        value = clean_field(name, raw_value)
    except FieldError as exc:
        raise ValidationFailed("The bulk action was not run.", [Problem(name, str(exc))]) from None
    column = getattr(QA, name)
    lock = select(QA.id, QA.row_version, column, QA.deactivated_at).where(*where, column != value)
    rows = session.execute(_locked(session, lock.order_by(QA.id))).all()
    skipped = (session.scalar(select(func.count()).where(*where)) or 0) - len(rows)
    ids = [r.id for r in rows]
    now = utcnow()
    values: dict[str, Any] = {
        name: value,
        "changed_by_id": actor.user_id,
        "changed_at": now,
        "row_version": QA.row_version + 1,
    }
    if name == "is_active":
        values["deactivated_at"] = None if value else now
    for chunk in chunks(ids):
        session.execute(
            update(QA).where(id_in(session, chunk)).values(**values),
            execution_options={"synchronize_session": False},
        )
    shown = value.value if isinstance(value, enum.Enum) else value
    to = f" to {shown!r}" if name in ("section", "qa_type") else ""
    summary = f"{verb}{to} on {len(ids):,} Q&As of {model.name}"
    payload = {
        "kind": "update",
        "field": name,
        "rows": [
            [
                r.id,
                r.row_version + 1,
                audit_values({name: r[2]})[name],
                r.deactivated_at.isoformat() if r.deactivated_at else None,
            ]
            for r in rows
        ],
    }
    journal_id = write_journal(session, actor, model.id, action.value, summary, len(ids), payload)
    record_audit(
        session,
        actor,
        f"bulk_{action.value}",
        "qa",
        None,
        summary,
        before={"journal": journal_id},
        after={name: shown, **_audit_ids(ids)},
    )
    return BulkResult(action.value, len(ids), skipped, journal_id, summary)


_COPIED = (
    "section",
    "question",
    "answer",
    "question_key",
    "qa_type",
    "is_active",
    "deactivated_at",
    "notes",
)


_ALL_COLUMNS = ("id", "model_id", *_COPIED, "added_by_id", "added_at", "changed_by_id")


def _target(session: Session, selection: Selection, target_model_id: int | None) -> AIModel:
    if target_model_id is None:
        raise ValidationFailed("Choose the model to copy or move to.", [Problem("model", "empty")])
    if target_model_id == selection.model_id:
        raise ValidationFailed(
            "Choose another model.", [Problem("model", "the rows are already in this model")]
        )
    return get_or_404(session, AIModel, target_model_id, "Model")


def _bulk_copy(
    session: Session,
    actor: Actor,
    model: AIModel,
    where: list[ColumnElement[bool]],
    target: AIModel,
) -> BulkResult:
    columns = [getattr(QA, c) for c in _COPIED]
    rows = session.execute(select(QA.id, *columns).where(*where).order_by(QA.id)).all()
    in_target: list[ColumnElement[bool]] = [QA.model_id == target.id]
    if len(rows) < _CHUNK:
        in_target.append(QA.question_key.in_({r.question_key for r in rows}))
    existing: set[tuple[str, str]] = {
        (k, a) for k, a in session.execute(select(QA.question_key, QA.answer).where(*in_target))
    }
    now = utcnow()
    fresh: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set(existing)
    for r in rows:
        if (r.question_key, r.answer) in seen:
            continue
        seen.add((r.question_key, r.answer))
        values = {c: getattr(r, c) for c in _COPIED}
        fresh.append(
            {
                **values,
                "model_id": target.id,
                "added_by_id": actor.user_id,
                "added_at": now,
                "changed_by_id": actor.user_id,
                "changed_at": now,
                "row_version": 1,
            }
        )
    created: list[int] = []
    for start in range(0, len(fresh), 1_000):
        result = session.execute(insert(QA).returning(QA.id), fresh[start : start + 1_000])
        created += list(result.scalars())
    skipped = len(rows) - len(created)
    summary = f"copied {len(created):,} Q&As from {model.name} to {target.name}"
    if skipped:
        summary += f" ({skipped:,} already there)"
    journal_id = write_journal(
        session,
        actor,
        model.id,
        BulkAction.COPY.value,
        summary,
        len(created),
        {"kind": "copy", "target": target.id, "created": created},
    )
    record_audit(
        session,
        actor,
        "bulk_copy",
        "qa",
        None,
        summary,
        before={"journal": journal_id, "source_ids": [r.id for r in rows][:1000]},
        after={"model_id": target.id, **_audit_ids(created)},
    )
    return BulkResult(BulkAction.COPY.value, len(created), skipped, journal_id, summary)


def _bulk_move(
    session: Session,
    actor: Actor,
    model: AIModel,
    where: list[ColumnElement[bool]],
    target: AIModel,
) -> BulkResult:
    rows = session.execute(
        _locked(session, select(QA.id, QA.row_version).where(*where).order_by(QA.id))
    ).all()
    ids = [r.id for r in rows]
    now = utcnow()
    for chunk in chunks(ids):
        session.execute(
            update(QA)
            .where(id_in(session, chunk))
            .values(
                model_id=target.id,
                changed_by_id=actor.user_id,
                changed_at=now,
                row_version=QA.row_version + 1,
            ),
            execution_options={"synchronize_session": False},
        )
    summary = f"moved {len(ids):,} Q&As from {model.name} to {target.name}"
    payload = {
        "kind": "move",
        "source": model.id,
        "rows": [[r.id, r.row_version + 1] for r in rows],
    }
    journal_id = write_journal(session, actor, model.id, "move", summary, len(ids), payload)
    record_audit(
        session,
        actor,
        "bulk_move",
        "qa",
        None,
        summary,
        before={"journal": journal_id, "model_id": model.id},
        after={"model_id": target.id, **_audit_ids(ids)},
    )
    return BulkResult(BulkAction.MOVE.value, len(ids), 0, journal_id, summary)


def _plain_row(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in (*_ALL_COLUMNS, "changed_at", "row_version"):
        value = getattr(row, name)
        if isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, datetime):
            value = as_utc(value).isoformat()
        out[name] = value
    return out


def _bulk_delete(
    session: Session, actor: Actor, model: AIModel, where: list[ColumnElement[bool]]
) -> BulkResult:
    columns = [getattr(QA, c) for c in (*_ALL_COLUMNS, "changed_at", "row_version")]
    # Locked: of two people deleting the same rows at once, the second finds them gone and
    # is told it deleted none (rather than both being told they deleted them).
    rows = session.execute(_locked(session, select(*columns).where(*where).order_by(QA.id))).all()
    ids = [r.id for r in rows]
    for chunk in chunks(ids):
        session.execute(
            delete(QA).where(id_in(session, chunk)),
            execution_options={"synchronize_session": False},
        )
    summary = f"deleted {len(ids):,} Q&As of {model.name}"
    journal_id = write_journal(
        session,
        actor,
        model.id,
        "delete",
        summary,
        len(ids),
        {"kind": "delete", "rows": [_plain_row(r) for r in rows]},
    )
    record_audit(
        session,
        actor,
        "bulk_delete",
        "qa",
        None,
        summary,
        before={"journal": journal_id, **_audit_ids(ids)},
    )
    return BulkResult(BulkAction.DELETE.value, len(ids), 0, journal_id, summary)


@requires(Permission.EDIT_TRAINING)
def bulk_update(
    uow: UnitOfWork,
    actor: Actor,
    selection: Selection,
    action: BulkAction | str,
    value: Any = None,
    target_model_id: int | None = None,
) -> BulkResult:
    """Run one bulk action over the selection in one transaction, audited and journaled so
    that ``undo_bulk`` can take it back."""
    action = BulkAction(action)
    with uow:
        session = uow.session
        model = get_or_404(session, AIModel, selection.model_id, "Model")
        _refuse_if_changed_since(session, selection)
        where = _selectionconditions(session, selection)
        if action in _UPDATES:
            result = _bulk_update(session, actor, model, where, action, value)
        elif action == BulkAction.DELETE:
            result = _bulk_delete(session, actor, model, where)
        else:
            target = _target(session, selection, target_model_id)
            if action == BulkAction.COPY:
                result = _bulk_copy(session, actor, model, where, target)
            else:
                result = _bulk_move(session, actor, model, where, target)
        uow.commit()
        return result
