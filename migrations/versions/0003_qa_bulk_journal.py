"""Q&A bulk actions: the journal that lets a page undo one right after

Revision ID: 0003_qa_journal
Revises: 0002_history
Create Date: 2026-11-25 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_qa_journal"
down_revision: str | None = "0002_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "qa_bulk_journal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_qa_bulk_journal_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["ai_models.id"],
            name=op.f("fk_qa_bulk_journal_model_id_ai_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_bulk_journal")),
    )
    with op.batch_alter_table("qa_bulk_journal", schema=None) as batch_op:
        batch_op.create_index(
            "ix_qa_bulk_journal_model_created", ["model_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("qa_bulk_journal", schema=None) as batch_op:
        batch_op.drop_index("ix_qa_bulk_journal_model_created")
    op.drop_table("qa_bulk_journal")
