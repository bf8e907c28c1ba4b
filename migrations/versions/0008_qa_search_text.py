"""Q&As: a lower-cased copy of question and answer for searching on PostgreSQL

Revision ID: 0008_qa_search_text
Revises: 0007_ids_never_reused
Create Date: 2026-11-25 19:30:00

A search is a case-insensitive substring match over question and answer. On PostgreSQL,
ILIKE lower-cases both texts of every row on every search: at 100,000 Q&As that was three
quarters of a search's time (bench/qas.py). A generated column holds the lower-cased texts,
computed when a row is written, and a search compares it with LIKE; the results are the
same (ILIKE is LIKE over lower-cased text). SQLite's LIKE ignores ASCII case without that
cost: there the column is virtual (never stored) and searches do not use it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_qa_search_text"
down_revision: str | None = "0007_ids_never_reused"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_TEXT = "lower(question || '\n' || answer)"


def upgrade() -> None:
    # Outside a batch: SQLite adds a virtual generated column in place.
    stored = op.get_bind().dialect.name != "sqlite"
    op.add_column(
        "qas", sa.Column("search_text", sa.Text(), sa.Computed(SEARCH_TEXT, persisted=stored))
    )


def downgrade() -> None:
    op.drop_column("qas", "search_text")
