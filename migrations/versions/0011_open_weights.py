"""Open-weights (LoRA) connections: the provider type and the LoRA rank of a connection

Revision ID: 0011_open_weights
Revises: 0010_catalogue_and_deployments
Create Date: 2026-12-04 19:40:00

Provider types are text with a CHECK constraint on both tables that hold one (see 0009),
so ``open_weights`` means a new constraint on each. An open-weights connection trains LoRA
adapters of the rank it names (NULL: the provider's default, 16).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_open_weights"
down_revision: str | None = "0010_catalogue_and_deployments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ("openai", "local", "azure_openai")
NEW = ("openai", "local", "azure_openai", "open_weights")
TABLES = ("provider_connections", "base_models")


def _types(values: Sequence[str]) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    listed = ", ".join(f"'{v}'" for v in values)
    for table in TABLES:
        kwargs = {"sqlite_autoincrement": True} if table == "provider_connections" else {}
        with op.batch_alter_table(
            table, recreate="always" if sqlite else "auto", table_kwargs=kwargs
        ) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_provider_type"), type_="check")
            batch_op.create_check_constraint(
                op.f(f"ck_{table}_provider_type"), sa.text(f"provider_type IN ({listed})")
            )


def upgrade() -> None:
    _types(NEW)
    with op.batch_alter_table("provider_connections") as batch_op:
        batch_op.add_column(sa.Column("lora_rank", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_provider_connections_lora_rank_range"),
            sa.text("lora_rank IS NULL OR lora_rank BETWEEN 1 AND 256"),
        )


def downgrade() -> None:
    with op.batch_alter_table("provider_connections") as batch_op:
        batch_op.drop_constraint(op.f("ck_provider_connections_lora_rank_range"), type_="check")
        batch_op.drop_column("lora_rank")
    op.execute("DELETE FROM base_models WHERE provider_type = 'open_weights'")
    _types(OLD)
