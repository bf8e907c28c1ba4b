"""One Q&A at a time: a new row, and edited cells saved against the row version the
editor saw (a concurrent change is refused with both values, never overwritten)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.domain import QAType, utcnow
from core.errors import Conflict, EditConflict, FieldChange, Problem, ValidationFailed
from core.models import QA, AIModel
from core.permissions import Actor, Permission, requires
from core.qa_rules import EDITABLE_FIELDS, FIELD_LABELS, FieldError, clean_field
from core.services.accounts.audit import record_audit
from core.services.catalog.hierarchy import model_nodes
from core.services.qas.query import SORTABLE as SORTABLE
from core.services.qas.query import QAQuery as QAQuery
from core.services.qas.query import QARow, qa_rows
from core.services.shared import get_or_404
from core.training.text import question_key
from core.uow import UnitOfWork


@dataclass(frozen=True)
class QAInput:
    question: str
    answer: str
    section: str = ""
    qa_type: QAType | str = QAType.TRAINING
    is_active: bool | str = True
    notes: str = ""


def _problems(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    cleaned: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, raw in values.items():
        try:
            cleaned[name] = clean_field(name, raw)
        except FieldError as exc:
            problems.append(Problem(FIELD_LABELS.get(name, name), str(exc)))
    return cleaned, problems


def _editable_model(session: Session, model_id: int) -> AIModel:
    return get_or_404(session, AIModel, model_id, "Model")


def audit_values(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.value if isinstance(v, enum.Enum) else v) for k, v in values.items()}


@requires(Permission.EDIT_TRAINING)
def add_qa(uow: UnitOfWork, actor: Actor, model_id: int, data: QAInput) -> QARow:
    with uow:
        session = uow.session
        model = _editable_model(session, model_id)
        values, problems = _problems(
            {
                "section": data.section,
                "question": data.question,
                "answer": data.answer,
                "qa_type": data.qa_type,
                "is_active": data.is_active,
                "notes": data.notes,
            }
        )
        if problems:
            raise ValidationFailed("The Q&A cannot be added.", problems)
        now = utcnow()
        qa = QA(
            model_id=model.id,
            question_key=question_key(values["question"]),
            added_by_id=actor.user_id,
            added_at=now,
            changed_by_id=actor.user_id,
            changed_at=now,
            deactivated_at=None if values["is_active"] else now,
            **values,
        )
        session.add(qa)
        session.flush()
        record_audit(
            session,
            actor,
            "create",
            "qa",
            qa.id,
            f"added Q&A #{qa.id} to {model.name}",
            after=audit_values(values),
        )
        uow.commit()
        return qa_rows(session, [qa], model_nodes(session), {})[0]


def _apply(qa: QA, values: Mapping[str, Any], actor: Actor, now: datetime) -> None:
    for name, value in values.items():
        setattr(qa, name, value)
    if "question" in values:
        qa.question_key = question_key(qa.question)
    if "is_active" in values:
        qa.deactivated_at = None if qa.is_active else (qa.deactivated_at or now)
    qa.changed_by_id = actor.user_id
    qa.changed_at = now


def _conflict(qa: QA, expected: int, seen: Mapping[str, Any], attempted: Mapping[str, Any]) -> Any:
    changes = [
        FieldChange(
            field=name,
            seen=seen.get(name),
            stored=audit_values({name: getattr(qa, name)})[name],
            attempted=audit_values({name: value})[name],
        )
        for name, value in attempted.items()
    ]
    return EditConflict(
        f"Q&A #{qa.id} was changed by someone else since you loaded it (version {expected} → "
        f"{qa.row_version}). Nothing was overwritten: keep your value or theirs.",
        entity="Q&A",
        entity_id=qa.id,
        stored_version=qa.row_version,
        changes=changes,
    )


@requires(Permission.EDIT_TRAINING)
def update_qa(
    uow: UnitOfWork,
    actor: Actor,
    qa_id: int,
    changes: Mapping[str, Any],
    expected_version: int | None,
    seen: Mapping[str, Any] | None = None,
) -> QARow:
    """Save edited fields (one grid cell, or several from a form). Refused with both values
    if the row changed since ``expected_version``; refused with the reason if a value is not
    allowed. Nothing is written in either case."""
    unknown = [name for name in changes if name not in EDITABLE_FIELDS]
    if unknown:
        raise ValidationFailed(
            "That cannot be edited.", [Problem(name, "is not editable") for name in unknown]
        )
    values, problems = _problems(changes)
    if problems:
        raise ValidationFailed(f"Q&A #{qa_id} was not saved.", problems)
    with uow:
        session = uow.session
        qa = get_or_404(session, QA, qa_id, "Q&A")
        if expected_version is not None and qa.row_version != expected_version:
            raise _conflict(qa, expected_version, seen or {}, values)
        before = audit_values({name: getattr(qa, name) for name in values})
        changed = {k: v for k, v in values.items() if getattr(qa, k) != v}
        if changed:
            _apply(qa, changed, actor, utcnow())
            try:
                session.flush()
            except StaleDataError:
                session.rollback()
                raise Conflict(
                    f"Q&A #{qa_id} was changed by someone else at this very moment. Nothing "
                    "was overwritten; reload to see their change."
                ) from None
            labels = ", ".join(FIELD_LABELS[k] for k in changed)
            record_audit(
                session,
                actor,
                "update",
                "qa",
                qa.id,
                f"changed {labels} of Q&A #{qa.id}",
                before={k: before[k] for k in changed},
                after=audit_values(changed),
            )
            uow.commit()
        return qa_rows(session, [qa], model_nodes(session), {})[0]
