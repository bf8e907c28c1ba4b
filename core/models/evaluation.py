"""Evaluations: a version (or a base model without training) asked the model's validation
Q&As, kept with when, on which connection and with which judge, and every question's answer
and scores, so that versions can be compared question by question."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.domain import utcnow
from core.models.base import Base


class EvaluationRun(Base):
    __tablename__ = "evaluation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("ai_models.id", ondelete="CASCADE"))
    # None: the base model itself, untrained, as the baseline.
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE")
    )
    label: Mapped[str] = mapped_column(String(300))  # "v3", "base gpt-4o-mini-2024-07-18"
    target: Mapped[str] = mapped_column(String(300))  # what was asked at the provider
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider_connections.id", ondelete="SET NULL")
    )
    judge_connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider_connections.id", ondelete="SET NULL")
    )
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    questions: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    judged: Mapped[int] = mapped_column(Integer, default=0)
    mean_f1: Mapped[float | None]
    mean_exact: Mapped[float | None]
    mean_similarity: Mapped[float | None]
    mean_judge: Mapped[float | None]
    judge_tokens: Mapped[int] = mapped_column(Integer, default=0)
    # What judging cost (its tokens at the judge connection's price per 1M tokens): counted
    # against that connection's monthly budget and in the cost per month.
    judge_cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    # Why nothing could be asked at all (the model cannot chat, its connection is gone).
    error: Mapped[str | None] = mapped_column(Text)

    results: Mapped[list[EvaluationResult]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="EvaluationResult.id"
    )

    __table_args__ = (
        Index("ix_evaluation_runs_model", "model_id", "created_at"),
        Index("ix_evaluation_runs_judge_connection", "judge_connection_id", "created_at"),
    )


class EvaluationResult(Base):
    __tablename__ = "evaluation_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_runs.id", ondelete="CASCADE"))
    qa_id: Mapped[int | None] = mapped_column(ForeignKey("qas.id", ondelete="SET NULL"))
    section: Mapped[str] = mapped_column(String(200), default="")
    question: Mapped[str] = mapped_column(Text)
    expected: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text, default="")
    f1: Mapped[float | None]
    exact: Mapped[bool | None] = mapped_column(Boolean)
    similarity: Mapped[float | None]
    judge_score: Mapped[int | None]
    judge_reason: Mapped[str | None] = mapped_column(Text)
    # Why this question has no answer or no verdict (a timeout, an unreadable verdict).
    error: Mapped[str | None] = mapped_column(Text)

    run: Mapped[EvaluationRun] = relationship(back_populates="results")

    __table_args__ = (Index("ix_evaluation_results_run", "run_id"),)
