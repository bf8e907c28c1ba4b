"""Q&As: an index that covers the dashboard's training-data growth

Revision ID: 0005_history_indexes
Revises: 0004_login_sessions
Create Date: 2026-11-25 18:30:00

The dashboard counts every training Q&A by model and by the weeks it was added and
deactivated. With 100,000 Q&As of catalogue-length answers, reading the table for that took
most of the dashboard's second on SQLite; this index holds every column the count needs.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_history_indexes"
down_revision: str | None = "0004_login_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_qas_type_model_added",
        "qas",
        ["qa_type", "model_id", "added_at", "is_active", "deactivated_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_qas_type_model_added", table_name="qas")
