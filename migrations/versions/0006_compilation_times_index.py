"""Compilations: the dashboard's success rate and durations read an index, not the rows

Revision ID: 0006_compilation_times
Revises: 0005_history_indexes
Create Date: 2026-11-25 18:45:00

The success rate and the median duration need only how each compilation ended and when it
was requested, started and finished. Their rows also carry the build log and the validation
report, so over two years of history SQLite read tens of megabytes for four columns. The new
index starts with the old one's columns (status, creation time), so it replaces it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_compilation_times"
down_revision: str | None = "0005_history_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_compilations_status_created_times",
        "compilations",
        ["status", "created_at", "started_at", "finished_at"],
    )
    op.drop_index("ix_compilations_status_created", table_name="compilations")


def downgrade() -> None:
    op.create_index("ix_compilations_status_created", "compilations", ["status", "created_at"])
    op.drop_index("ix_compilations_status_created_times", table_name="compilations")
