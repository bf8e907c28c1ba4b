"""Which of a model's Q&As a new question nearly repeats (the import preview's "similar to
#123"), with the matcher of the clean-up view."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import QA
from core.training.similar import similar_to

# A new question is shown with at most this many of the Q&As it resembles.
SHOWN_SIMILAR = 5


def similar_existing(
    session: Session, model_id: int, questions: Sequence[str]
) -> dict[int, tuple[int, ...]]:
    """For each question (by index) that is nearly, not exactly, one of the model's active
    Q&As (an exact one is "already there"): the ids of those Q&As, oldest first."""
    if not questions:
        return {}
    existing = session.execute(
        select(QA.id, QA.question)
        .where(QA.model_id == model_id, QA.is_active.is_(True))
        .order_by(QA.id)
    ).all()
    if not existing:
        return {}
    found = similar_to(questions, [question for _, question in existing])
    return {
        index: tuple(existing[i][0] for i in matches[:SHOWN_SIMILAR])
        for index, matches in found.items()
    }
