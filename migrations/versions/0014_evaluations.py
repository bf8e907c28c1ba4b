"""Evaluation runs: a version or a base model asked the validation Q&As, with each
question's answer and scores (token F1, exact match, similarity, an LLM judge's 1-5)

Revision ID: 0014_evaluations
Revises: 0012_notification_deliveries
Create Date: 2026-12-04 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_evaluations"
down_revision: str | None = "0012_notification_deliveries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("judge_connection_id", sa.Integer(), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("questions", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("judged", sa.Integer(), nullable=False),
        sa.Column("mean_f1", sa.Double(), nullable=True),
        sa.Column("mean_exact", sa.Double(), nullable=True),
        sa.Column("mean_similarity", sa.Double(), nullable=True),
        sa.Column("mean_judge", sa.Double(), nullable=True),
        sa.Column("judge_tokens", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["provider_connections.id"],
            name=op.f("fk_evaluation_runs_connection_id_provider_connections"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["judge_connection_id"],
            ["provider_connections.id"],
            name=op.f("fk_evaluation_runs_judge_connection_id_provider_connections"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["ai_models.id"],
            name=op.f("fk_evaluation_runs_model_id_ai_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_evaluation_runs_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_evaluation_runs_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_runs")),
    )
    with op.batch_alter_table("evaluation_runs", schema=None) as batch_op:
        batch_op.create_index("ix_evaluation_runs_model", ["model_id", "created_at"], unique=False)

    op.create_table(
        "evaluation_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("qa_id", sa.Integer(), nullable=True),
        sa.Column("section", sa.String(length=200), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("expected", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("f1", sa.Double(), nullable=True),
        sa.Column("exact", sa.Boolean(), nullable=True),
        sa.Column("similarity", sa.Double(), nullable=True),
        sa.Column("judge_score", sa.Integer(), nullable=True),
        sa.Column("judge_reason", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["qa_id"], ["qas.id"], name=op.f("fk_evaluation_results_qa_id_qas"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["evaluation_runs.id"],
            name=op.f("fk_evaluation_results_run_id_evaluation_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_results")),
    )
    with op.batch_alter_table("evaluation_results", schema=None) as batch_op:
        batch_op.create_index("ix_evaluation_results_run", ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("evaluation_results", schema=None) as batch_op:
        batch_op.drop_index("ix_evaluation_results_run")

    op.drop_table("evaluation_results")
    with op.batch_alter_table("evaluation_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_evaluation_runs_model")

    op.drop_table("evaluation_runs")
