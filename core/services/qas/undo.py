"""Undo of a bulk action from its journal, refused if a row changed since the action."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from core.domain import QAType, Role, utcnow
from core.errors import Conflict, NotFound
from core.models import QA, AIModel, QABulkJournal
from core.permissions import Actor, Permission, requires
from core.services.accounts.audit import record_audit
from core.services.qas.bulk import BulkResult, chunks, id_in
from core.uow import UnitOfWork


def _versions(session: Session, ids: Sequence[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    for chunk in chunks(ids):
        found.update(
            session.execute(select(QA.id, QA.row_version).where(id_in(session, chunk))).all()
        )
    return found


def _refuse_if_changed(expected: Mapping[int, int], found: Mapping[int, int]) -> None:
    changed = [i for i, version in expected.items() if found.get(i) != version]
    if changed:
        sample = ", ".join(f"#{i}" for i in changed[:5])
        raise Conflict(
            f"{len(changed):,} of these Q&As were changed or removed since ({sample}"
            f"{'…' if len(changed) > 5 else ''}); undoing would overwrite that. Nothing was undone."
        )


def _undo_update(session: Session, actor: Actor, payload: dict[str, Any]) -> int:
    name = payload["field"]
    rows = payload["rows"]
    _refuse_if_changed({r[0]: r[1] for r in rows}, _versions(session, [r[0] for r in rows]))
    groups: dict[tuple[Any, Any], list[int]] = {}
    for qa_id, _version, before, deactivated_at in rows:
        key = (before, deactivated_at if name == "is_active" else None)
        groups.setdefault(key, []).append(qa_id)
    now = utcnow()
    for (before, deactivated_at), ids in groups.items():
        values: dict[str, Any] = {
            name: QAType(before) if name == "qa_type" else before,
            "changed_by_id": actor.user_id,
            "changed_at": now,
            "row_version": QA.row_version + 1,
        }
        if name == "is_active":
            values["deactivated_at"] = (
                datetime.fromisoformat(deactivated_at) if deactivated_at else None
            )
        for chunk in chunks(ids):
            session.execute(
                update(QA).where(id_in(session, chunk)).values(**values),
                execution_options={"synchronize_session": False},
            )
    return len(rows)


def _undo_delete(session: Session, payload: dict[str, Any]) -> int:
    rows = payload["rows"]
    present = _versions(session, [r["id"] for r in rows])
    if present:
        raise Conflict("Some of these Q&As exist again; nothing was undone.")
    if rows and session.get(AIModel, rows[0]["model_id"]) is None:
        raise NotFound("The model of these Q&As was deleted; nothing was undone.")
    restored = []
    for r in rows:
        values = dict(r)
        for stamp in ("added_at", "changed_at", "deactivated_at"):
            if values.get(stamp):
                values[stamp] = datetime.fromisoformat(values[stamp])
        values["qa_type"] = QAType(values["qa_type"])
        restored.append(values)
    for start in range(0, len(restored), 1_000):
        session.execute(insert(QA), restored[start : start + 1_000])
    return len(rows)


def _undo_copy(session: Session, payload: dict[str, Any]) -> int:
    created = payload["created"]
    _refuse_if_changed(dict.fromkeys(created, 1), _versions(session, created))
    for chunk in chunks(created):
        session.execute(
            delete(QA).where(id_in(session, chunk)),
            execution_options={"synchronize_session": False},
        )
    return len(created)


def _undo_move(session: Session, actor: Actor, payload: dict[str, Any]) -> int:
    rows = payload["rows"]
    _refuse_if_changed({r[0]: r[1] for r in rows}, _versions(session, [r[0] for r in rows]))
    now = utcnow()
    for chunk in chunks([r[0] for r in rows]):
        session.execute(
            update(QA)
            .where(id_in(session, chunk))
            .values(
                model_id=payload["source"],
                changed_by_id=actor.user_id,
                changed_at=now,
                row_version=QA.row_version + 1,
            ),
            execution_options={"synchronize_session": False},
        )
    return len(rows)


@requires(Permission.EDIT_TRAINING)
def undo_bulk(uow: UnitOfWork, actor: Actor, journal_id: int) -> BulkResult:
    """Take back one bulk action, in one transaction; refused (with nothing written) if any
    of its rows changed since, so that undo never overwrites someone's later edit."""
    with uow:
        session = uow.session
        entry = session.get(QABulkJournal, journal_id)
        if entry is None:
            raise NotFound("That bulk action can no longer be undone (it is too old).")
        if entry.actor_id != actor.user_id and actor.role != Role.ADMIN:
            raise Conflict("Only the person who ran a bulk action (or an admin) can undo it.")
        if entry.undone_at is not None:
            raise Conflict("That bulk action was already undone.")
        payload = entry.payload
        kind = payload["kind"]
        if kind == "update":
            count = _undo_update(session, actor, payload)
        elif kind == "delete":
            count = _undo_delete(session, payload)
        elif kind == "copy":
            count = _undo_copy(session, payload)
        else:
            count = _undo_move(session, actor, payload)
        entry.undone_at = utcnow()
        summary = f"undid: {entry.summary}"
        record_audit(
            session,
            actor,
            "undo",
            "qa",
            None,
            summary,
            before={"journal": entry.id, "action": entry.action},
            after={"count": count},
        )
        uow.commit()
        return BulkResult("undo", count, 0, None, summary)
