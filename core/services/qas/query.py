"""The Q&A grid's reading side: which Q&As a grid page, an export or a bulk action means
(as SQL conditions), and the paged, filtered, searched listing itself.

Everything a grid shows is filtered, searched, sorted and paged in the database, so a page
never holds more than one page of rows even for models with 100,000+ Q&As.

Search is a case-insensitive substring match of every word over question and answer
("quoted text" is one phrase). It is a plain scan, measured at 100,000 Q&As per model in
bench/qas.py: on PostgreSQL over a lower-cased copy of the texts (``QA.search_text``), as
lower-casing every row on every search cost most of its time. An index would spare the
scan but not the writes: SQLite's FTS5 with trigrams took 15 s to take in a 100,000-row
import that now takes about 3.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.orm import Session

from core.domain import QAType, as_utc, control_character
from core.errors import NotFound, Problem, ValidationFailed
from core.models import QA
from core.permissions import Actor, Permission, requires
from core.services.catalog.hierarchy import model_nodes
from core.services.shared import get_or_404, user_names
from core.training.hierarchy import ModelNode, Relation, training_sources
from core.uow import UnitOfWork

_Select = TypeVar("_Select", bound="Select[*tuple[Any, ...]]")
SORTABLE = ("id", "section", "question", "answer", "qa_type", "is_active", "notes", "changed_at")
_WORD = re.compile(r'"([^"]+)"|(\S+)')


@dataclass(frozen=True)
class QAQuery:
    """Which Q&As a grid, an export or a bulk action is about."""

    model_id: int
    search: str = ""
    sections: tuple[str, ...] = ()
    qa_type: QAType | None = None
    active: bool | None = None
    changed_by_id: int | None = None
    changed_since: datetime | None = None
    ids: tuple[int, ...] = ()
    # Also the rows this model inherits from ancestors or aggregates from descendants.
    include_related: bool = False
    sort: str = "id"
    descending: bool = False


def covered_models(session: Session, model_id: int, include_related: bool) -> dict[int, Relation]:
    """The models whose rows the query covers, with how each relates to the model."""
    nodes = model_nodes(session)
    if model_id not in nodes:
        raise NotFound(f"Model #{model_id} was not found; it may have been deleted.")
    if not include_related:
        return {model_id: Relation.OWN}
    return dict(training_sources(nodes, model_id))


def search_terms(text: str) -> list[str]:
    """Words of a search; "quoted text" stays one phrase."""
    return [quoted or word for quoted, word in _WORD.findall(text) if (quoted or word).strip()]


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_text(column: Any, term: str, dialect: str) -> ColumnElement[bool]:
    pattern = f"%{_escape_like(term)}%"
    # SQLite's LIKE already ignores (ASCII) case; its ILIKE would add a lower() per row.
    if dialect == "sqlite":
        return column.like(pattern, escape="\\")  # type: ignore[no-any-return]
    return column.ilike(pattern, escape="\\")  # type: ignore[no-any-return]


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def conditions(
    query: QAQuery, model_ids: Iterable[int], dialect: str, *, with_sections: bool = True
) -> list[ColumnElement[bool]]:
    ids = sorted(model_ids)
    found: list[ColumnElement[bool]] = [
        QA.model_id == ids[0] if len(ids) == 1 else QA.model_id.in_(ids)
    ]
    for term in search_terms(query.search):
        if control_character(term):
            # No stored text holds a control character (every write refuses them), so nothing
            # matches; and PostgreSQL refuses a NUL in a parameter outright.
            found.append(false())
            break
        if dialect == "postgresql" and "\n" not in term:
            # The same as ILIKE over each text, without lower-casing every row (0008).
            pattern = f"%{_escape_like(term)}%"
            found.append(QA.search_text.like(func.lower(pattern), escape="\\"))
        else:
            found.append(
                or_(
                    contains_text(QA.question, term, dialect),
                    contains_text(QA.answer, term, dialect),
                )
            )
    if with_sections and query.sections:
        found.append(QA.section.in_(query.sections))
    if query.qa_type is not None:
        found.append(QA.qa_type == query.qa_type)
    if query.active is not None:
        found.append(QA.is_active.is_(query.active))
    if query.changed_by_id is not None:
        found.append(QA.changed_by_id == query.changed_by_id)
    if query.changed_since is not None:
        found.append(QA.changed_at >= query.changed_since)
    if query.ids:
        found.append(QA.id.in_(query.ids))
    return found


def ordered(stmt: _Select, query: QAQuery) -> _Select:
    if query.sort not in SORTABLE:
        raise ValidationFailed(
            "The Q&As cannot be sorted that way.",
            [Problem("sort", f"choose one of {', '.join(SORTABLE)}")],
        )
    tie = QA.id.desc() if query.descending else QA.id
    if query.sort == "id":
        return stmt.order_by(tie)
    column = getattr(QA, query.sort)
    return stmt.order_by(column.desc() if query.descending else column.asc(), tie)


PAGE_SIZES = (50, 100, 200, 500)


MAX_PAGE_SIZE = 500


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


def qa_rows(
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
            added_at=as_utc(q.added_at),
            changed_by=names.get(q.changed_by_id) if q.changed_by_id else None,
            changed_at=as_utc(q.changed_at),
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
        sources = covered_models(session, query.model_id, query.include_related)
        dialect = dialect_of(session)
        offset = max(0, int(offset))
        if search_terms(query.search):
            # A search reads every row: once, for the counts and the page's ids together.
            matches = session.execute(
                ordered(
                    select(QA.id, QA.section).where(
                        *conditions(query, sources, dialect, with_sections=False)
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
                *conditions(query, sources, dialect, with_sections=False)
            )
            section_counts = {s: n for s, n in session.execute(facet.group_by(QA.section))}
            if query.sections:
                total = sum(section_counts.get(s, 0) for s in set(query.sections))
            else:
                total = sum(section_counts.values())
            if offset >= total:
                offset = max(0, (total - 1) // limit * limit)
            stmt = ordered(select(QA).where(*conditions(query, sources, dialect)), query)
            qas = session.scalars(stmt.offset(offset).limit(limit)).all()
        rows = qa_rows(session, qas, model_nodes(session), sources)
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
        return qa_rows(uow.session, [qa], model_nodes(uow.session), {})[0]


@requires(Permission.READ)
def locate_qa(uow: UnitOfWork, actor: Actor, qa_id: int, query: QAQuery) -> int | None:
    """Where a Q&A stands in the order of ``query`` (0-based), or None if it does not match:
    a link to one record opens the grid on the page that holds it."""
    with uow:
        session = uow.session
        qa = get_or_404(session, QA, qa_id, "Q&A")
        sources = covered_models(session, query.model_id, query.include_related)
        matching = conditions(query, sources, dialect_of(session))
        matches = session.scalar(select(func.count()).where(QA.id == qa_id, *matching))
        if not matches:
            return None
        column = getattr(QA, query.sort if query.sort in SORTABLE else "id")
        value = getattr(qa, column.key)
        before_key = column > value if query.descending else column < value
        before_id = QA.id > qa.id if query.descending else QA.id < qa.id
        ahead = or_(before_key, and_(column == value, before_id))
        if query.sort == "id":
            ahead = before_id
        return session.scalar(select(func.count()).where(ahead, *matching)) or 0
