"""Export of a model's Q&As (the grid's filtered set) as CSV, XLSX or JSONL, with the
import's columns; cells a spreadsheet would run as formulas are neutralised."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from core.domain import QAType
from core.errors import Problem, ValidationFailed
from core.models import QA, AIModel
from core.permissions import Actor, Permission, requires
from core.services.qas.io import FIELDS, HEADERS
from core.services.qas.query import QAQuery, conditions, covered_models, dialect_of, ordered
from core.tabular import MEDIA_TYPES, Progress, write_table
from core.training.bulk import bulk
from core.uow import UnitOfWork


@dataclass(frozen=True)
class ExportFile:
    name: str
    media_type: str
    data: bytes
    rows: int


def _export_value(name: str, value: Any, kind: str) -> Any:
    if isinstance(value, QAType):
        return value.value
    if name == "is_active" and kind != "jsonl":
        return "true" if value else "false"
    return value


@requires(Permission.READ)
@bulk
def export_qas(
    uow: UnitOfWork,
    actor: Actor,
    query: QAQuery,
    kind: str,
    progress: Progress | None = None,
) -> ExportFile:
    """The Q&As that match ``query`` (every page, in its order) as CSV, XLSX or JSONL, in the
    columns that ``commit_import`` reads back."""
    if kind not in MEDIA_TYPES:
        raise ValidationFailed("Choose a format.", [Problem("format", "csv, xlsx or jsonl")])
    with uow:
        session = uow.session
        sources = covered_models(session, query.model_id, query.include_related)
        model = session.get(AIModel, query.model_id)
        model_name = model.name if model else "qas"
        columns = [getattr(QA, n) for n in FIELDS]
        stmt = ordered(
            select(*columns).where(*conditions(query, sources, dialect_of(session))), query
        )
        # Core rows, converted column by column (each column's few distinct values once).
        found = session.connection().execute(stmt).all()
        columns = [list(column) for column in zip(*found, strict=True)] if found else []
        for name, column in zip(FIELDS, columns, strict=False):
            if name in ("qa_type", "is_active"):
                memo = {v: _export_value(name, v, kind) for v in set(column)}
                column[:] = map(memo.__getitem__, column)
        rows = list(zip(*columns, strict=True)) if columns else []
    if progress:
        progress(0.3, f"read {len(rows):,} Q&As")
    data = write_table(kind, [HEADERS[n] for n in FIELDS], rows, progress)
    base = "".join(c if c.isalnum() else "-" for c in model_name)
    return ExportFile(f"{base.strip('-').lower()}-qas.{kind}", MEDIA_TYPES[kind], data, len(rows))
