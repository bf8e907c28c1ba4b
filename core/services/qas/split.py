"""Make a validation set: a seeded share of each section of a model's active Q&As becomes
validation, the rest training, near-duplicates on one side (``core.training.split``). One
journalled change, so the page can undo it like a bulk action."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from core.domain import QAType, utcnow
from core.errors import Problem, ValidationFailed
from core.models import QA, AIModel
from core.permissions import Actor, Permission, requires
from core.services.accounts.audit import record_audit
from core.services.qas.bulk import chunks, id_in, write_journal
from core.services.shared import get_or_404
from core.training.split import split_validation
from core.uow import UnitOfWork

DEFAULT_SHARE = 0.1


@dataclass(frozen=True)
class ValidationSplit:
    model_id: int
    total: int  # active Q&As split
    validation: int
    changed: int  # Q&As whose type changed
    per_section: dict[str, tuple[int, int]]  # section -> (validation, Q&As)
    journal_id: int | None
    message: str


@requires(Permission.EDIT_TRAINING)
def make_validation_set(
    uow: UnitOfWork, actor: Actor, model_id: int, share: float = DEFAULT_SHARE, seed: int = 0
) -> ValidationSplit:
    """Replace the model's own active Q&As' types with a fresh split; the same seed and
    Q&As give the same split."""
    if not 0 < share < 1:
        raise ValidationFailed(
            "No validation set was made.", [Problem("share", "must be between 0 and 1, e.g. 0.1")]
        )
    with uow:
        session = uow.session
        model = get_or_404(session, AIModel, model_id, "Model")
        rows = session.execute(
            select(QA.id, QA.row_version, QA.section, QA.question, QA.qa_type, QA.deactivated_at)
            .where(QA.model_id == model.id, QA.is_active.is_(True))
            .order_by(QA.id)
        ).all()
        chosen = split_validation(
            [r.section for r in rows], [r.question for r in rows], share, seed
        )
        per_section: dict[str, tuple[int, int]] = {}
        for r, picked in zip(rows, chosen, strict=True):
            v, n = per_section.get(r.section, (0, 0))
            per_section[r.section] = (v + picked, n + 1)
        target = [QAType.VALIDATION if c else QAType.TRAINING for c in chosen]
        moved = [(r, t) for r, t in zip(rows, target, strict=True) if r.qa_type != t]
        now = utcnow()
        for qa_type in QAType:
            ids = [r.id for r, t in moved if t == qa_type]
            for chunk in chunks(ids):
                session.execute(
                    update(QA)
                    .where(id_in(session, chunk))
                    .values(
                        qa_type=qa_type,
                        changed_by_id=actor.user_id,
                        changed_at=now,
                        row_version=QA.row_version + 1,
                    ),
                    execution_options={"synchronize_session": False},
                )
        validation = sum(chosen)
        summary = (
            f"made a validation set of {validation:,} of {len(rows):,} Q&As of {model.name} "
            f"(share {share:g}, seed {seed}; {len(moved):,} changed type)"
        )
        journal_id = None
        if moved:
            payload = {
                "kind": "update",
                "field": "qa_type",
                "rows": [
                    [
                        r.id,
                        r.row_version + 1,
                        r.qa_type.value,
                        r.deactivated_at.isoformat() if r.deactivated_at else None,
                    ]
                    for r, _ in moved
                ],
            }
            journal_id = write_journal(
                session, actor, model.id, "validation_set", summary, len(moved), payload
            )
        record_audit(
            session,
            actor,
            "make_validation_set",
            "qa",
            None,
            summary,
            before={"journal": journal_id},
            after={"share": share, "seed": seed, "validation": validation, "total": len(rows)},
        )
        uow.commit()
        return ValidationSplit(
            model.id, len(rows), validation, len(moved), per_section, journal_id, summary
        )
