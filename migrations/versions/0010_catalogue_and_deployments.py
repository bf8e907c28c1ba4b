"""Base-model catalogue facts with their sources; versions remember their connection and
their deployment

Revision ID: 0010_catalogue_and_deployments
Revises: 0009_azure_openai
Create Date: 2026-12-03 19:00:00

A base model's row holds what a provider reported or an admin typed in, beside the facts the
project's catalogue file ships (core/providers/catalogue.toml): the per-example token limit,
the training price per 1M tokens, the hosting price per hour, the last day new fine-tuning
jobs are taken, and per fact where it came from. A version records the connection it was
trained on (a model can move to another connection while its active version keeps
answering from the old one), its deployment where the provider needs one (Azure OpenAI),
the hosting price of that deployment, and a validation that could not be run.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_catalogue_and_deployments"
down_revision: str | None = "0009_azure_openai"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("base_models") as batch_op:
        batch_op.add_column(sa.Column("example_token_limit", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("training_price_per_million", sa.Numeric(12, 4), nullable=True)
        )
        batch_op.add_column(sa.Column("hosting_price_per_hour", sa.Numeric(12, 4), nullable=True))
        batch_op.add_column(sa.Column("fine_tuning_ends", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("sources", sa.JSON(), nullable=True))
    with op.batch_alter_table("model_versions") as batch_op:
        batch_op.add_column(sa.Column("connection_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("deployment_name", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("deployment_state", sa.String(20), nullable=True))
        batch_op.add_column(sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("deployment_removed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("hosting_price_per_hour", sa.Numeric(12, 4), nullable=True))
        batch_op.add_column(sa.Column("validation_error", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "activate_when_deployed", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.create_foreign_key(
            op.f("fk_model_versions_connection_id_provider_connections"),
            "provider_connections",
            ["connection_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # Existing versions were trained on their model's connection as it was then; the
    # compilation recorded it.
    versions = sa.table(
        "model_versions",
        sa.column("id", sa.Integer),
        sa.column("compilation_id", sa.Integer),
        sa.column("connection_id", sa.Integer),
    )
    compilations = sa.table(
        "compilations", sa.column("id", sa.Integer), sa.column("dataset_stats", sa.JSON)
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(versions.c.id, compilations.c.dataset_stats).join(
            compilations, compilations.c.id == versions.c.compilation_id
        )
    ).all()
    for version_id, stats in rows:
        connection_id = (stats or {}).get("connection_id") if isinstance(stats, dict) else None
        if connection_id:
            bind.execute(
                versions.update()
                .where(versions.c.id == version_id)
                .values(connection_id=int(connection_id))
            )


def downgrade() -> None:
    with op.batch_alter_table("model_versions") as batch_op:
        batch_op.drop_constraint(
            op.f("fk_model_versions_connection_id_provider_connections"), type_="foreignkey"
        )
        for name in (
            "activate_when_deployed",
            "validation_error",
            "hosting_price_per_hour",
            "deployment_removed_at",
            "deployed_at",
            "deployment_state",
            "deployment_name",
            "connection_id",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("base_models") as batch_op:
        for name in (
            "sources",
            "fine_tuning_ends",
            "hosting_price_per_hour",
            "training_price_per_million",
            "example_token_limit",
        ):
            batch_op.drop_column(name)
