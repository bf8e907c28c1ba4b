"""Azure OpenAI connections: the provider type and where a connection's deployments live

Revision ID: 0009_azure_openai
Revises: 0008_qa_search_text
Create Date: 2026-12-03 16:00:00

Provider types are stored as text with a CHECK constraint (not a native enum), so a new
type means a new constraint on both tables that hold one. An Azure OpenAI connection adds
the data-plane API version, how it signs in (an API key named by ``api_key_env``, or
Microsoft Entra ID), the Resource Manager coordinates of the resource whose deployments it
makes (subscription, resource group, account), or that an admin makes them by hand, and
the hosting price per hour of a deployment. No key or token is stored.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_azure_openai"
down_revision: str | None = "0008_qa_search_text"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ("openai", "local")
NEW = ("openai", "local", "azure_openai")
TABLES = ("provider_connections", "base_models")


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("api_version", sa.String(length=40), nullable=True),
        sa.Column("entra_id", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("azure_subscription_id", sa.String(length=64), nullable=True),
        sa.Column("azure_resource_group", sa.String(length=90), nullable=True),
        sa.Column("azure_account_name", sa.String(length=64), nullable=True),
        sa.Column("manual_deployments", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("hosting_price_per_hour", sa.Numeric(precision=12, scale=4), nullable=True),
    ]


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
        for column in _columns():
            batch_op.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("provider_connections") as batch_op:
        for column in reversed(_columns()):
            batch_op.drop_column(column.name)
    op.execute("DELETE FROM base_models WHERE provider_type = 'azure_openai'")
    _types(OLD)
