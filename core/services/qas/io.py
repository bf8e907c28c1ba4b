"""Q&As from files: import (CSV, XLSX, JSONL, pasted rows) with a preview (the export is
``core.services.qas.export``).

An import is analysed twice: once for the preview (nothing written), and again inside the
write transaction, so that what is written follows the data as it is at that moment. Every
row is checked with the same rules as a cell edit; duplicates are found by the normalised
question (``question_key``) within the file and against the model's existing Q&As; then all
accepted rows are written in one transaction, or none.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table as SQLTable
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from core.domain import utcnow
from core.errors import Problem, ValidationFailed
from core.models import QA, AIModel
from core.permissions import Actor, Permission, public, requires
from core.qa_rules import EDITABLE_FIELDS, FIELD_LABELS, clean_column
from core.services.accounts.audit import record_audit
from core.services.qas.similar import similar_existing
from core.services.qas.writing import insert_rows
from core.services.shared import get_or_404
from core.tabular import (
    Progress,
    Table,
    TableError,
    read_table,
    read_text,
)
from core.training.bulk import bulk
from core.training.text import question_keys
from core.uow import UnitOfWork

# Import fields in file order, with the header each is exported under: the grid's fields.
FIELDS = EDITABLE_FIELDS
HEADERS = FIELD_LABELS
REQUIRED = ("question", "answer")
_SYNONYMS = {
    "question": ("question", "questions", "q", "prompt", "user", "frage"),
    "answer": ("answer", "answers", "a", "response", "completion", "assistant", "antwort"),
    "section": ("section", "category", "topic", "group"),
    "qa_type": ("type", "qa_type", "qa type", "kind"),
    "is_active": ("active", "is_active", "is active", "enabled"),
    "notes": ("notes", "note", "comment", "comments", "remarks"),
}
_SAMPLE = 200
_BATCH = 2_000


class RowStatus(enum.StrEnum):
    NEW = "new"
    DUPLICATE_IN_FILE = "duplicate in file"
    EXISTING_SAME = "already there"
    EXISTING_CHANGED = "exists, differs"
    ERROR = "error"


class OnDuplicate(enum.StrEnum):
    SKIP = "skip"
    UPDATE = "update"


class ImportRow(NamedTuple):
    """One row of an import as analysed (a named tuple: a file has up to 100,000)."""

    number: int
    where: str  # "row 7" / "line 7"
    values: dict[str, Any]
    status: RowStatus
    errors: tuple[str, ...] = ()
    duplicate_of: int | None = None  # the file row with the same question
    existing_id: int | None = None  # the model's Q&A with the same question
    question_key: str | None = None  # of a row without errors
    similar_to: tuple[int, ...] = ()  # a new row: the model's Q&As asking nearly the same


@dataclass(frozen=True)
class ImportPreview:
    file_name: str
    mapping: dict[str, str | None]
    total: int
    counts: dict[RowStatus, int]
    # Every row with an error or a duplicate, and the first rows of the file as a sample.
    problems: list[ImportRow]
    sample: list[ImportRow]

    @property
    def errors(self) -> int:
        return self.counts.get(RowStatus.ERROR, 0)

    def would_write(self, on_duplicate: OnDuplicate) -> int:
        new = self.counts.get(RowStatus.NEW, 0)
        if on_duplicate == OnDuplicate.UPDATE:
            return new + self.counts.get(RowStatus.EXISTING_CHANGED, 0)
        return new


@dataclass(frozen=True)
class ImportResult:
    file_name: str
    created: int
    updated: int
    skipped: int
    errors: int
    message: str
    similar: tuple[str, ...] = ()  # "row 7 is similar to #123", a line per such new row


@public
def suggest_mapping(headers: Sequence[str]) -> dict[str, str | None]:
    """Which column holds which field, guessed from the header names."""
    normalised = {h.strip().lower().replace("-", " ").replace("_", " "): h for h in headers}
    mapping: dict[str, str | None] = {}
    for name in FIELDS:
        candidates = [s.replace("_", " ") for s in _SYNONYMS[name]]
        mapping[name] = next((normalised[c] for c in candidates if c in normalised), None)
    return mapping


def _positional_mapping(headers: Sequence[str]) -> dict[str, str | None]:
    order = ("question", "answer", "section", "qa_type", "is_active", "notes")
    mapping: dict[str, str | None] = dict.fromkeys(FIELDS)
    for name, header in zip(order, headers, strict=False):
        mapping[name] = header
    return mapping


@public
@bulk
def read_upload(name: str, data: bytes, progress: Progress | None = None) -> Table:
    """A file's rows, or ValidationFailed saying why the file cannot be read at all."""
    try:
        return read_table(name, data, progress)
    except TableError as exc:
        raise ValidationFailed("The file cannot be imported.", [Problem(name, str(exc))]) from None


@public
def read_paste(text: str) -> tuple[Table, dict[str, str | None]]:
    """Rows pasted from a spreadsheet (tab-separated) or typed as CSV. A first row naming the
    columns is used as the header; otherwise the columns are question, answer, section, type,
    active, notes in that order."""
    try:
        probe = read_text("pasted rows", text, kind="paste", has_header=False)
    except TableError as exc:
        raise ValidationFailed("Nothing to add.", [Problem("pasted rows", str(exc))]) from None
    first = [probe.rows[0].values.get(h, "") for h in probe.headers] if probe.rows else []
    named = suggest_mapping(first)
    if named["question"] and named["answer"]:
        table = read_text("pasted rows", text, kind="paste", has_header=True)
        return table, suggest_mapping(table.headers)
    return probe, _positional_mapping(probe.headers)


def _check_mapping(table: Table, mapping: Mapping[str, str | None]) -> dict[str, str | None]:
    problems = [
        Problem(HEADERS[name], "choose the column that holds it")
        for name in REQUIRED
        if not mapping.get(name)
    ]
    problems += [
        Problem(HEADERS.get(name, name), f"there is no column {header!r} in the file")
        for name, header in mapping.items()
        if header and header not in table.headers
    ]
    if problems:
        raise ValidationFailed(f"{table.name}: the columns are not mapped yet.", problems)
    return {name: mapping.get(name) for name in FIELDS}


def _existing(session: Session, model_id: int, keys: set[str]) -> dict[str, dict[str, Any]]:
    """The model's Q&As by normalised question (the oldest, where there are several)."""
    found: dict[str, dict[str, Any]] = {}
    key_ids = session.execute(
        select(QA.question_key, QA.id).where(QA.model_id == model_id).order_by(QA.id.desc())
    ).all()
    wanted = {k: i for k, i in key_ids if k in keys}
    ids = sorted(wanted.values())
    columns = [QA.id, QA.question_key, QA.row_version, *(getattr(QA, n) for n in FIELDS)]
    for start in range(0, len(ids), _BATCH):
        for row in session.execute(select(*columns).where(QA.id.in_(ids[start : start + _BATCH]))):
            found[row.question_key] = {
                name: getattr(row, name) for name in ("id", "row_version", *FIELDS)
            }
    return found


def _classify(values: Mapping[str, Any], stored: Mapping[str, Any] | None) -> RowStatus:
    if stored is None:
        return RowStatus.NEW
    if all(stored[n] == values[n] for n in FIELDS):
        return RowStatus.EXISTING_SAME
    return RowStatus.EXISTING_CHANGED


def _check_rows(
    table: Table, mapping: Mapping[str, str | None], progress: Progress | None
) -> list[tuple[int, dict[str, Any], list[str], str | None]]:
    """Every row cleaned with the rules of a cell edit: (number, values, errors, normalised
    question). Column by column, so that the checks run over whole columns at once."""
    rows = table.rows
    usable = [i for i, row in enumerate(rows) if not row.error]
    columns: dict[str, list[Any]] = {}
    refused: dict[int, list[tuple[str, str]]] = {}  # by position in ``usable``
    for done, name in enumerate(FIELDS, start=1):
        header = mapping.get(name)
        raws = [rows[i].values.get(header, "") for i in usable] if header else [""] * len(usable)
        columns[name], errors = clean_column(name, raws)
        for k, message in sorted(errors.items()):
            refused.setdefault(k, []).append((name, message))
        if progress:
            progress(0.3 * done / len(FIELDS), f"checked {HEADERS[name]} in {len(rows):,} rows")
    clean = [k for k in range(len(usable)) if k not in refused]
    questions = columns["question"]
    keys: list[str | None] = [None] * len(usable)
    for k, normalised in zip(clean, question_keys([questions[k] for k in clean]), strict=True):
        keys[k] = normalised
    cleaned = [
        dict(zip(FIELDS, values, strict=True))
        for values in zip(*(columns[name] for name in FIELDS), strict=True)
    ]
    for at, problems in refused.items():
        for name, _ in problems:
            del cleaned[at][name]
    checked: list[tuple[int, dict[str, Any], list[str], str | None]] = []
    at = 0
    for row in rows:
        if row.error:
            checked.append((row.number, {}, [row.error], None))
            continue
        messages = [message for _, message in refused.get(at, ())]
        key = keys[at]
        if key == "":
            messages.append("question has no letters or digits")
            key = None
        checked.append((row.number, cleaned[at], messages, key))
        at += 1
    return checked


def _analyse(
    session: Session,
    model_id: int,
    table: Table,
    mapping: Mapping[str, str | None],
    on_duplicate: OnDuplicate,
    progress: Progress | None,
) -> list[ImportRow]:
    checked = _check_rows(table, mapping, progress)
    groups: dict[str, list[int]] = {}
    for index, (_, _, _, key) in enumerate(checked):
        if key is not None:
            groups.setdefault(key, []).append(index)
    # Skip: the first row of a question counts; update: the last, as if applied in order.
    winner = {
        key: indexes[-1] if on_duplicate == OnDuplicate.UPDATE else indexes[0]
        for key, indexes in groups.items()
    }
    existing = _existing(session, model_id, set(groups))
    rows: list[ImportRow] = []
    for index, (number, values, errors, key) in enumerate(checked):
        where = f"{table.unit} {number}"
        if key is None:
            rows.append(ImportRow(number, where, values, RowStatus.ERROR, tuple(errors)))
        elif winner[key] != index:
            kept = checked[winner[key]][0]
            rows.append(
                ImportRow(
                    number,
                    where,
                    values,
                    RowStatus.DUPLICATE_IN_FILE,
                    duplicate_of=kept,
                    question_key=key,
                )
            )
        else:
            stored = existing.get(key)
            rows.append(
                ImportRow(
                    number,
                    where,
                    values,
                    RowStatus.NEW if stored is None else _classify(values, stored),
                    existing_id=stored["id"] if stored else None,
                    question_key=key,
                )
            )
    new = [i for i, r in enumerate(rows) if r.status == RowStatus.NEW]
    found = similar_existing(session, model_id, [rows[i].values["question"] for i in new])
    for k, ids in found.items():
        rows[new[k]] = rows[new[k]]._replace(similar_to=ids)
    return rows


def _preview(table: Table, mapping: dict[str, str | None], plan: list[ImportRow]) -> ImportPreview:
    counts: dict[RowStatus, int] = {}
    for row in plan:
        counts[row.status] = counts.get(row.status, 0) + 1
    problems = [r for r in plan if r.status in (RowStatus.ERROR, RowStatus.DUPLICATE_IN_FILE)] + [
        r for r in plan if r.status == RowStatus.EXISTING_CHANGED or r.similar_to
    ]
    return ImportPreview(
        file_name=table.name,
        mapping=mapping,
        total=len(plan),
        counts=counts,
        problems=problems,
        sample=plan[:_SAMPLE],
    )


@requires(Permission.EDIT_TRAINING)
@bulk
def preview_import(
    uow: UnitOfWork,
    actor: Actor,
    model_id: int,
    table: Table,
    mapping: Mapping[str, str | None],
    on_duplicate: OnDuplicate | str = OnDuplicate.SKIP,
    progress: Progress | None = None,
) -> ImportPreview:
    """What an import would do, row by row; writes nothing."""
    checked = _check_mapping(table, mapping)
    with uow:
        get_or_404(uow.session, AIModel, model_id, "Model")
        plan = _analyse(uow.session, model_id, table, checked, OnDuplicate(on_duplicate), progress)
        return _preview(table, checked, plan)


def _new_rows(
    plan: Sequence[ImportRow], model_id: int, actor: Actor, now: datetime
) -> list[dict[str, Any]]:
    stamp = {
        "model_id": model_id,
        "added_by_id": actor.user_id,
        "added_at": now,
        "changed_by_id": actor.user_id,
        "changed_at": now,
        "row_version": 1,
    }
    return [
        {
            **r.values,
            **stamp,
            "question_key": r.question_key,
            "deactivated_at": None if r.values["is_active"] else now,
        }
        for r in plan
        if r.status == RowStatus.NEW
    ]


def _update_rows(
    session: Session, plan: Sequence[ImportRow], actor: Actor, now: datetime
) -> list[dict[str, Any]]:
    """Overwrite the existing Q&As the file changes; returns the parameters written."""
    updates = [
        {
            **{f"v_{n}": r.values[n] for n in FIELDS},
            "v_question_key": r.question_key,
            "v_deactivated_at": None if r.values["is_active"] else now,
            "v_id": r.existing_id,
        }
        for r in plan
        if r.status == RowStatus.EXISTING_CHANGED
    ]
    if updates:
        # Core, not ORM: an ORM bulk update would insist on the version of every row.
        qa_table = cast(SQLTable, QA.__table__)
        session.execute(
            update(qa_table)
            .where(qa_table.c.id == bindparam("v_id"))
            .values(
                **{n: bindparam(f"v_{n}") for n in (*FIELDS, "question_key", "deactivated_at")},
                changed_by_id=actor.user_id,
                changed_at=now,
                row_version=qa_table.c.row_version + 1,
            ),
            updates,
        )
    return updates


@requires(Permission.EDIT_TRAINING)
@bulk
def commit_import(
    uow: UnitOfWork,
    actor: Actor,
    model_id: int,
    table: Table,
    mapping: Mapping[str, str | None],
    on_duplicate: OnDuplicate | str = OnDuplicate.SKIP,
    *,
    leave_out_errors: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Write the accepted rows in one transaction, or nothing. Rows with errors stop the
    import unless ``leave_out_errors`` (the user saw them in the preview and confirmed)."""
    checked = _check_mapping(table, mapping)
    on_duplicate = OnDuplicate(on_duplicate)
    with uow:
        session = uow.session
        model = get_or_404(session, AIModel, model_id, "Model")
        plan = _analyse(session, model_id, table, checked, on_duplicate, progress)
        errors = [r for r in plan if r.status == RowStatus.ERROR]
        if errors and not leave_out_errors:
            raise ValidationFailed(
                f"{len(errors):,} {table.unit}s of {table.name} have errors; nothing was imported.",
                [Problem(r.where, "; ".join(r.errors)) for r in errors],
            )
        now = utcnow()
        fresh = _new_rows(plan, model.id, actor, now)
        updates = (
            _update_rows(session, plan, actor, now) if on_duplicate == OnDuplicate.UPDATE else []
        )
        insert_rows(session, fresh, progress, 0.3)
        skipped = len(plan) - len(fresh) - len(updates) - len(errors)
        message = (
            f"Imported {table.name} into {model.name}: {len(fresh):,} new, {len(updates):,} "
            f"updated, {skipped:,} skipped"
            + (f", {len(errors):,} left out for errors" if errors else "")
            + "."
        )
        record_audit(
            session,
            actor,
            "import",
            "qa",
            None,
            message,
            before={"updated_ids": [u["v_id"] for u in updates][:1000]} if updates else None,
            after={
                "file": table.name,
                "created": len(fresh),
                "updated": len(updates),
                "skipped": skipped,
                "errors": len(errors),
                "on_duplicate": on_duplicate.value,
            },
        )
        uow.commit()
        if progress:
            progress(1.0, "done")
        similar = tuple(
            f"{r.where} is similar to {_ids(r.similar_to)}" for r in plan if r.similar_to
        )
        return ImportResult(
            table.name, len(fresh), len(updates), skipped, len(errors), message, similar
        )


def _ids(ids: Sequence[int]) -> str:
    return ", ".join(f"#{i}" for i in ids)
