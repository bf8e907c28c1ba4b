"""Which Q&As a grid page, an export, or a bulk action means, as SQL conditions.

Search is a case-insensitive substring match of every word over question and answer
("quoted text" is one phrase). It is a plain scan, measured at 100,000 Q&As per model in
bench/qas.py: on PostgreSQL over a lower-cased copy of the texts (``QA.search_text``), as
lower-casing every row on every search cost most of its time. An index would spare the
scan but not the writes: SQLite's FTS5 with trigrams took 15 s to take in a 100,000-row
import that now takes about 3.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, or_
from sqlalchemy.orm import Session

from core.domain import QAType
from core.errors import NotFound, Problem, ValidationFailed
from core.models import QA
from core.services._common import model_nodes
from core.training.hierarchy import Relation, training_sources

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


def sources(session: Session, model_id: int, include_related: bool) -> dict[int, Relation]:
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


def _contains(column: Any, term: str, dialect: str) -> ColumnElement[bool]:
    pattern = f"%{_escape_like(term)}%"
    # SQLite's LIKE already ignores (ASCII) case; its ILIKE would add a lower() per row.
    if dialect == "sqlite":
        return column.like(pattern, escape="\\")  # type: ignore[no-any-return]
    return column.ilike(pattern, escape="\\")  # type: ignore[no-any-return]


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def conditions(
    query: QAQuery, model_ids: Iterable[int], dialect: str, *, with_sections: bool = True
) -> list[ColumnElement[bool]]:
    ids = sorted(model_ids)
    found: list[ColumnElement[bool]] = [
        QA.model_id == ids[0] if len(ids) == 1 else QA.model_id.in_(ids)
    ]
    for term in search_terms(query.search):
        if dialect == "postgresql" and "\n" not in term:
            # The same as ILIKE over each text, without lower-casing every row (0008).
            pattern = f"%{_escape_like(term)}%"
            found.append(QA.search_text.like(func.lower(pattern), escape="\\"))
        else:
            found.append(
                or_(_contains(QA.question, term, dialect), _contains(QA.answer, term, dialect))
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
