"""The clean-up view: what in a model's active Q&As deserves a second look before training.

- exact duplicates: the same question and answer more than once;
- near-duplicate questions: the same question written differently (other case, spacing,
  punctuation, filler words, a typo: ``core.training.similar``) with the same answer;
- conflicts: the same or nearly the same question with clearly different answers, across
  the model and the models whose training it shares (ancestors it inherits, descendants it
  aggregates);
- personal data (e-mail addresses, phone numbers, IBANs) in questions or answers;
- very short or very long answers.

Groups come from the blocked fuzzy matcher over the questions (not every pair is compared);
only the rows of a group are read in full.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from core.domain import QAType
from core.errors import Problem, ValidationFailed
from core.models import QA, AIModel
from core.permissions import Actor, Permission, requires
from core.services.catalog.hierarchy import model_nodes
from core.services.qas.bulk import BulkAction, BulkResult, Selection, bulk_update
from core.services.shared import get_or_404
from core.training.hierarchy import Relation, training_sources
from core.training.pii import describe, find_personal_data
from core.training.similar import answers_differ, similar_groups
from core.training.text import question_key
from core.uow import UnitOfWork

SHORT_ANSWER_CHARS = 8
LONG_ANSWER_CHARS = 4_000
MAX_FINDINGS = 500


class FindingKind(enum.StrEnum):
    EXACT_DUPLICATE = "exact duplicates"
    NEAR_DUPLICATE = "near-duplicate questions"
    CONFLICT = "conflicting answers"
    PERSONAL_DATA = "personal data"
    SHORT_ANSWER = "very short answers"
    LONG_ANSWER = "very long answers"


@dataclass(frozen=True)
class CleanupRow:
    id: int
    model_id: int
    model_name: str
    relation: Relation
    section: str
    question: str
    answer: str
    qa_type: QAType
    row_version: int

    @property
    def editable(self) -> bool:
        return self.relation == Relation.OWN


@dataclass(frozen=True)
class CleanupFinding:
    kind: FindingKind
    summary: str
    rows: list[CleanupRow]

    @property
    def ids(self) -> list[int]:
        return [r.id for r in self.rows]

    @property
    def own_ids(self) -> list[int]:
        return [r.id for r in self.rows if r.editable]


@dataclass(frozen=True)
class CleanupReport:
    model_id: int
    scanned: int
    findings: dict[FindingKind, list[CleanupFinding]]
    # How many findings of each kind there are, beyond the ones listed.
    totals: dict[FindingKind, int] = field(default_factory=dict)

    def count(self, kind: FindingKind) -> int:
        return self.totals.get(kind, len(self.findings.get(kind, [])))


class _QAColumns(Protocol):
    id: int
    model_id: int
    section: str
    question: str
    answer: str
    qa_type: QAType
    row_version: int


# What a clean-up row shows, read as plain columns (no ORM objects for 100,000 rows).
_COLUMNS = (QA.id, QA.model_id, QA.section, QA.question, QA.answer, QA.qa_type, QA.row_version)


def _row(q: _QAColumns, names: dict[int, str], relations: dict[int, Relation]) -> CleanupRow:
    return CleanupRow(
        id=q.id,
        model_id=q.model_id,
        model_name=names.get(q.model_id, ""),
        relation=relations.get(q.model_id, Relation.OWN),
        section=q.section,
        question=q.question,
        answer=q.answer,
        qa_type=q.qa_type,
        row_version=q.row_version,
    )


def _same_text(text: str) -> str:
    # Answers that differ only in case, spacing or punctuation say the same thing.
    return question_key(text) or text.strip()


def _distinct_answers(answers: list[str]) -> int:
    # Answers that differ only in case, spacing, punctuation or a typo say the same thing.
    kept: list[str] = []
    for answer in dict.fromkeys(_same_text(a) for a in answers):
        if all(answers_differ(answer, other) for other in kept):
            kept.append(answer)
    return len(kept)


def _group_finding(rows: list[CleanupRow]) -> CleanupFinding | None:
    own = [r for r in rows if r.editable]
    if not own:
        return None
    answers = _distinct_answers([r.answer for r in rows])
    if answers > 1:
        elsewhere = sorted({r.model_name for r in rows if not r.editable})
        where = f" (also in {', '.join(elsewhere)})" if elsewhere else ""
        return CleanupFinding(
            FindingKind.CONFLICT,
            f"{own[0].question!r} has {answers} different answers{where}",
            rows,
        )
    if len(own) < 2:
        return None
    if len({r.question.strip() for r in own}) == 1:
        return CleanupFinding(
            FindingKind.EXACT_DUPLICATE, f"{own[0].question!r} is there {len(own)} times", own
        )
    return CleanupFinding(
        FindingKind.NEAR_DUPLICATE,
        f"{len(own)} ways of asking {own[0].question!r}, with the same answer",
        own,
    )


def _similar_rows(
    session: Session,
    active: Sequence[ColumnElement[bool]],
    names: dict[int, str],
    relations: dict[int, Relation],
) -> Iterator[list[CleanupRow]]:
    """The groups of the same or nearly the same question, their rows in id order (the
    columns of every row read at once: ORM objects per group took longer than matching)."""
    columns = (QA.id, QA.model_id, QA.section, QA.question, QA.answer, QA.qa_type)
    found = session.execute(select(*columns, QA.row_version).where(*active).order_by(QA.id)).all()
    for group in similar_groups([r.question for r in found]):
        yield [_row(found[i], names, relations) for i in group]


@requires(Permission.READ)
def cleanup_report(
    uow: UnitOfWork,
    actor: Actor,
    model_id: int,
    *,
    short_chars: int = SHORT_ANSWER_CHARS,
    long_chars: int = LONG_ANSWER_CHARS,
) -> CleanupReport:
    """Findings over the model's active Q&As (and, for conflicts, its hierarchy's)."""
    with uow:
        session = uow.session
        nodes = model_nodes(session)
        get_or_404(session, AIModel, model_id, "Model")
        relations = dict(training_sources(nodes, model_id))
        names = {i: n.name for i, n in nodes.items()}
        related = list(relations)
        active = [QA.model_id.in_(related), QA.is_active.is_(True)]
        findings: dict[FindingKind, list[CleanupFinding]] = {kind: [] for kind in FindingKind}
        totals: dict[FindingKind, int] = dict.fromkeys(FindingKind, 0)
        for rows in _similar_rows(session, active, names, relations):
            finding = _group_finding(rows)
            if finding is not None:
                totals[finding.kind] += 1
                if len(findings[finding.kind]) < MAX_FINDINGS:
                    findings[finding.kind].append(finding)
        own = [QA.model_id == model_id, QA.is_active.is_(True)]
        scanned = 0
        for q in session.execute(
            select(*_COLUMNS).where(*own).order_by(QA.id).execution_options(yield_per=2_000)
        ):
            scanned += 1
            found = find_personal_data(f"{q.question}\n{q.answer}")
            if found:
                totals[FindingKind.PERSONAL_DATA] += 1
                if len(findings[FindingKind.PERSONAL_DATA]) < MAX_FINDINGS:
                    findings[FindingKind.PERSONAL_DATA].append(
                        CleanupFinding(
                            FindingKind.PERSONAL_DATA,
                            f"#{q.id}: {describe(found)}",
                            [_row(q, names, relations)],
                        )
                    )
        for kind, condition, label in (
            (FindingKind.SHORT_ANSWER, func.length(QA.answer) < short_chars, "characters"),
            (FindingKind.LONG_ANSWER, func.length(QA.answer) > long_chars, "characters"),
        ):
            totals[kind] = session.scalar(select(func.count()).where(*own, condition)) or 0
            for r in session.execute(
                select(*_COLUMNS).where(*own, condition).order_by(QA.id).limit(MAX_FINDINGS)
            ):
                findings[kind].append(
                    CleanupFinding(
                        kind, f"#{r.id}: {len(r.answer):,} {label}", [_row(r, names, relations)]
                    )
                )
        return CleanupReport(model_id, scanned, findings, totals)


@requires(Permission.EDIT_TRAINING)
def merge_duplicates(
    uow: UnitOfWork, actor: Actor, keep_id: int, other_ids: Sequence[int]
) -> BulkResult:
    """Keep one Q&A of a duplicate group and deactivate the others (nothing is deleted, and
    the page can undo it like any bulk action)."""
    with uow:
        keep = get_or_404(uow.session, QA, keep_id, "Q&A")
        others = uow.session.scalars(select(QA).where(QA.id.in_(other_ids))).all()
        # One group with the kept question: the same question, or nearly (as the report
        # groups them).
        groups = similar_groups([keep.question, *(o.question for o in others)])
        grouped = set(groups[0]) if groups and groups[0][0] == 0 else {0}
        strangers = [
            o.id
            for n, o in enumerate(others, start=1)
            if o.model_id != keep.model_id or n not in grouped
        ]
        if strangers or len(others) != len(set(other_ids)) or keep_id in other_ids:
            raise ValidationFailed(
                "Only duplicates of the same question in the same model can be merged.",
                [Problem(f"Q&A #{i}", "is not a duplicate of the one kept") for i in strangers],
            )
        result = bulk_update(
            uow, actor, Selection(keep.model_id, ids=tuple(other_ids)), BulkAction.DEACTIVATE
        )
        uow.commit()
        return BulkResult(
            "merge",
            result.changed,
            result.skipped,
            result.journal_id,
            f"kept Q&A #{keep_id}; deactivated {result.changed:,} duplicate(s)",
        )
