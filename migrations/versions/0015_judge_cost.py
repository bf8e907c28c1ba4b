"""The LLM judge's cost per evaluation run, counted against the judge connection's budget

Revision ID: 0015_judge_cost
Revises: 0014_evaluations
Create Date: 2026-12-06 21:00:00

Runs that exist when this runs keep no cost (NULL): their tokens were counted, their price
was not recorded.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_judge_cost"
down_revision: str | None = "0014_evaluations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("evaluation_runs") as batch_op:
        batch_op.add_column(sa.Column("judge_cost", sa.Numeric(14, 4), nullable=True))
        batch_op.create_index(
            "ix_evaluation_runs_judge_connection", ["judge_connection_id", "created_at"]
        )


def downgrade() -> None:
    with op.batch_alter_table("evaluation_runs") as batch_op:
        batch_op.drop_index("ix_evaluation_runs_judge_connection")
        batch_op.drop_column("judge_cost")
