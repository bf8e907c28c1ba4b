"""SQLite: ids of edited records are never handed out twice

Revision ID: 0007_ids_never_reused
Revises: 0006_compilation_times
Create Date: 2026-11-25 19:00:00

Without AUTOINCREMENT, SQLite gives a new row the highest id in use plus one, so a Q&A
added right after the newest one was deleted took the deleted one's id, at row version 1,
the version the deleted one had when someone loaded it: that person's save (or delete)
then passed the version check and changed the new Q&A instead of being refused. Found by
tests/integration/test_concurrent_editing.py. The tables whose edits are guarded by a row version are
rebuilt with AUTOINCREMENT; PostgreSQL's sequences never reuse an id.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_ids_never_reused"
down_revision: str | None = "0006_compilation_times"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "users",
    "provider_connections",
    "ai_models",
    "qas",
    "training_conversations",
    "transcripts",
)


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
