"""Q&As of a model: the paged grid, cell edits, new rows, and bulk actions with undo.

Everything a grid shows is filtered, searched, sorted and paged in the database, so a page
never holds more than one page of rows even for models with 100,000+ Q&As. Search is a
case-insensitive substring match of every word over question and answer (quoted text is
one phrase); a plain scan was measured fast enough at 100,000 rows (see bench/qas.py).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    any_,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.domain import QAType, Role, utcnow
from core.errors import Conflict, EditConflict, FieldChange, NotFound, Problem, ValidationFailed
from core.models import QA, AIModel, QABulkJournal
from core.permissions import Actor, Permission, requires
from core.qa_rules import EDITABLE_FIELDS, FIELD_LABELS, FieldError, clean_field
from core.services import _qa_query as qq
from core.services._common import get_or_404, model_nodes, record_audit, user_names
from core.services._qa_query import SORTABLE as SORTABLE
from core.services._qa_query import QAQuery as QAQuery
from core.training.hierarchy import ModelNode, Relation, training_sources
from core.training.text import question_key
from core.uow import UnitOfWork

PAGE_SIZES = (50, 100, 200, 500)
MAX_PAGE_SIZE = 500
# Bound parameters per statement stay far below SQLite's limit of 32,766.
_CHUNK = 5_000
_JOURNAL_KEEP = timedelta(days=7)


@dataclass(frozen=True)
class QARow:
    id: int
    model_id: int
    model_name: str
    relation: Relation
    section: str
    question: str
    answer: str
    qa_type: QAType
    is_active: bool
    notes: str
    added_by: str | None
    added_at: datetime
    changed_by: str | None
    changed_at: datetime
    row_version: int

    @property
    def editable(self) -> bool:
        """Rows of related models are shown read-only; they are edited in their own model."""
        return self.relation == Relation.OWN


@dataclass(frozen=True)
class QAListing:
    rows: list[QARow]
    total: int
    offset: int
    limit: int
    # Matches per section under every filter but the section filter (for the section picker).
    section_counts: dict[str, int]


@dataclass(frozen=True)
class QAFacets:
    total: int
    sections: dict[str, int]
    editors: dict[int, str]
    related_models: Sequence[tuple[int, str, Relation]]


@dataclass(frozen=True)
class QAInput:
    question: str
    answer: str
    section: str = ""
    qa_type: QAType | str = QAType.TRAINING
    is_active: bool | str = True
    notes: str = ""


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


# --- reading -------------------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without a zone; they are stored in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _rows(
    session: Session, qas: Sequence[QA], nodes: Mapping[int, ModelNode], sources: Mapping[int, Any]
) -> list[QARow]:
    names = user_names(session, [q.changed_by_id for q in qas] + [q.added_by_id for q in qas])
    return [
        QARow(
            id=q.id,
            model_id=q.model_id,
            model_name=nodes[q.model_id].name if q.model_id in nodes else "",
            relation=sources.get(q.model_id, Relation.OWN),
            section=q.section,
            question=q.question,
            answer=q.answer,
            qa_type=q.qa_type,
            is_active=q.is_active,
            notes=q.notes,
            added_by=names.get(q.added_by_id) if q.added_by_id else None,
            added_at=_aware(q.added_at),
            changed_by=names.get(q.changed_by_id) if q.changed_by_id else None,
            changed_at=_aware(q.changed_at),
            row_version=q.row_version,
        )
        for q in qas
    ]


@requires(Permission.READ)
def list_qas(
    uow: UnitOfWork, actor: Actor, query: QAQuery, offset: int = 0, limit: int = 100
) -> QAListing:
    """One page of the Q&As that match, the number that match, and matches per section."""
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    with uow:
        session = uow.session
        sources = qq.sources(session, query.model_id, query.include_related)
        dialect = qq.dialect(session)
        offset = max(0, int(offset))
        if qq.search_terms(query.search):
            # A search reads every row: once, for the counts and the page's ids together.
            matches = session.execute(
                qq.ordered(
                    select(QA.id, QA.section).where(
                        *qq.conditions(query, sources, dialect, with_sections=False)
                    ),
                    query,
                )
            ).all()
            counted: dict[str, int] = {}
            for _, section in matches:
                counted[section] = counted.get(section, 0) + 1
            section_counts = dict(sorted(counted.items()))
            wanted = set(query.sections)
            ids = [i for i, section in matches if not wanted or section in wanted]
            total = len(ids)
            if offset >= total:
                offset = max(0, (total - 1) // limit * limit)
            page = ids[offset : offset + limit]
            found = {qa.id: qa for qa in session.scalars(select(QA).where(QA.id.in_(page)))}
            qas: Sequence[QA] = [found[i] for i in page]
        else:
            facet = select(QA.section, func.count()).where(
                *qq.conditions(query, sources, dialect, with_sections=False)
            )
            section_counts = {s: n for s, n in session.execute(facet.group_by(QA.section))}
            if query.sections:
                total = sum(section_counts.get(s, 0) for s in set(query.sections))
            else:
                total = sum(section_counts.values())
            if offset >= total:
                offset = max(0, (total - 1) // limit * limit)
            stmt = qq.ordered(select(QA).where(*qq.conditions(query, sources, dialect)), query)
            qas = session.scalars(stmt.offset(offset).limit(limit)).all()
        rows = _rows(session, qas, model_nodes(session), sources)
        return QAListing(rows, total, offset, limit, section_counts)


@requires(Permission.READ)
def qa_facets(uow: UnitOfWork, actor: Actor, model_id: int) -> QAFacets:
    """What the filters can offer for a model: its sections, who changed its Q&As, and the
    models it inherits from or aggregates."""
    with uow:
        session = uow.session
        nodes = model_nodes(session)
        if model_id not in nodes:
            raise NotFound(f"Model #{model_id} was not found; it may have been deleted.")
        sections = {
            s: n
            for s, n in session.execute(
                select(QA.section, func.count())
                .where(QA.model_id == model_id)
                .group_by(QA.section)
                .order_by(QA.section)
            )
        }
        editor_ids = session.scalars(
            select(QA.changed_by_id).where(QA.model_id == model_id).distinct()
        ).all()
        editors = user_names(session, editor_ids)
        related = [
            (mid, nodes[mid].name, relation)
            for mid, relation in training_sources(nodes, model_id)
            if relation != Relation.OWN
        ]
        return QAFacets(sum(sections.values()), sections, editors, related)


@requires(Permission.READ)
def get_qa(uow: UnitOfWork, actor: Actor, qa_id: int) -> QARow:
    with uow:
        qa = get_or_404(uow.session, QA, qa_id, "Q&A")
        return _rows(uow.session, [qa], model_nodes(uow.session), {})[0]


@requires(Permission.READ)
def locate_qa(uow: UnitOfWork, actor: Actor, qa_id: int, query: QAQuery) -> int | None:
    """Where a Q&A stands in the order of ``query`` (0-based), or None if it does not match:
    a link to one record opens the grid on the page that holds it."""
    with uow:
        session = uow.session
        qa = get_or_404(session, QA, qa_id, "Q&A")
        sources = qq.sources(session, query.model_id, query.include_related)
        conditions = qq.conditions(query, sources, qq.dialect(session))
        matches = session.scalar(select(func.count()).where(QA.id == qa_id, *conditions))
        if not matches:
            return None
        column = getattr(QA, query.sort if query.sort in SORTABLE else "id")
        value = getattr(qa, column.key)
        before_key = column > value if query.descending else column < value
        before_id = QA.id > qa.id if query.descending else QA.id < qa.id
        ahead = or_(before_key, and_(column == value, before_id))
        if query.sort == "id":
            ahead = before_id
        return session.scalar(select(func.count()).where(ahead, *conditions)) or 0


# --- single rows ---------------------------------------------------------------------------


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


def _audit_values(values: Mapping[str, Any]) -> dict[str, Any]:
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
            after=_audit_values(values),
        )
        uow.commit()
        return _rows(session, [qa], model_nodes(session), {})[0]


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
            stored=_audit_values({name: getattr(qa, name)})[name],
            attempted=_audit_values({name: value})[name],
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
        before = _audit_values({name: getattr(qa, name) for name in values})
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
                after=_audit_values(changed),
            )
            uow.commit()
        return _rows(session, [qa], model_nodes(session), {})[0]


# --- bulk actions and undo ------------------------------------------------------------------


def _selectionconditions(session: Session, selection: Selection) -> list[ColumnElement[bool]]:
    if selection.query is not None:
        own = replace(selection.query, model_id=selection.model_id, include_related=False)
        return qq.conditions(own, [selection.model_id], qq.dialect(session))
    return [QA.model_id == selection.model_id, _id_in(session, selection.ids or (-1,))]


def _locked(session: Session, stmt: Any) -> Any:
    """Lock the rows read, until the transaction ends (PostgreSQL; SQLite transactions
    already hold the one write lock): two people acting on the same rows at once then
    act one after the other, and the second sees what the first did."""
    return stmt.with_for_update() if qq.dialect(session) == "postgresql" else stmt


def _refuse_if_changed_since(session: Session, selection: Selection) -> None:
    if selection.versions is None:
        return
    ids = sorted(set(selection.ids) | set(selection.versions))
    found: dict[int, int] = {}
    for chunk in _chunks(ids):
        found.update(
            session.execute(
                _locked(
                    session,
                    select(QA.id, QA.row_version)
                    .where(QA.model_id == selection.model_id, _id_in(session, chunk))
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


def _id_in(session: Session, ids: Sequence[int]) -> ColumnElement[bool]:
    """``QA.id IN (...)``; on PostgreSQL as ``= ANY`` of one array parameter: thousands of
    separate parameters (a bulk action over 10,000 rows) cost more to render and send than
    the update itself."""
    if qq.dialect(session) == "postgresql":
        return QA.id == any_(literal(list(ids), ARRAY(Integer)))
    return QA.id.in_(ids)


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _journal(
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
    for chunk in _chunks(ids):
        session.execute(
            update(QA).where(_id_in(session, chunk)).values(**values),
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
                _audit_values({name: r[2]})[name],
                r.deactivated_at.isoformat() if r.deactivated_at else None,
            ]
            for r in rows
        ],
    }
    journal_id = _journal(session, actor, model.id, action.value, summary, len(ids), payload)
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
    journal_id = _journal(
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
    for chunk in _chunks(ids):
        session.execute(
            update(QA)
            .where(_id_in(session, chunk))
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
    journal_id = _journal(session, actor, model.id, "move", summary, len(ids), payload)
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
            value = _aware(value).isoformat()
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
    for chunk in _chunks(ids):
        session.execute(
            delete(QA).where(_id_in(session, chunk)),
            execution_options={"synchronize_session": False},
        )
    summary = f"deleted {len(ids):,} Q&As of {model.name}"
    journal_id = _journal(
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


def _versions(session: Session, ids: Sequence[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    for chunk in _chunks(ids):
        found.update(
            session.execute(select(QA.id, QA.row_version).where(_id_in(session, chunk))).all()
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
        for chunk in _chunks(ids):
            session.execute(
                update(QA).where(_id_in(session, chunk)).values(**values),
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
    for chunk in _chunks(created):
        session.execute(
            delete(QA).where(_id_in(session, chunk)),
            execution_options={"synchronize_session": False},
        )
    return len(created)


def _undo_move(session: Session, actor: Actor, payload: dict[str, Any]) -> int:
    rows = payload["rows"]
    _refuse_if_changed({r[0]: r[1] for r in rows}, _versions(session, [r[0] for r in rows]))
    now = utcnow()
    for chunk in _chunks([r[0] for r in rows]):
        session.execute(
            update(QA)
            .where(_id_in(session, chunk))
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
