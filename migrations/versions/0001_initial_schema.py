"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 13:59:33.567866
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_CYCLIC_FOREIGN_KEYS = (
    ("ai_models", "active_version_id"),
    ("ai_models", "pinned_version_id"),
    ("compilations", "version_id"),
)


def upgrade() -> None:
    op.create_table(
        "base_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "provider_type",
            sa.Enum(
                "openai",
                "local",
                name="provider_type",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("fine_tunable", sa.Boolean(), nullable=False),
        sa.Column("context_tokens", sa.Integer(), nullable=True),
        sa.Column("shutdown_date", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_base_models")),
        sa.UniqueConstraint("provider_type", "name", name="uq_base_models_name"),
    )
    op.create_table(
        "provider_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column(
            "provider_type",
            sa.Enum(
                "openai",
                "local",
                name="provider_type",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("base_url", sa.String(length=500), nullable=True),
        sa.Column("api_key_env", sa.String(length=120), nullable=True),
        sa.Column("default_base_model", sa.String(length=200), nullable=True),
        sa.Column("price_per_million_tokens", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("monthly_budget", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_connections")),
        sa.UniqueConstraint("name", name=op.f("uq_provider_connections_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "trainer",
                "manager",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "ai_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "arbiter",
                "assistant",
                name="model_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("base_model", sa.String(length=200), nullable=True),
        sa.Column("system_message", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("inherit_parent_training", sa.Boolean(), nullable=False),
        sa.Column("aggregate_children_training", sa.Boolean(), nullable=False),
        sa.Column("n_epochs", sa.Integer(), nullable=True),
        sa.Column("batch_size", sa.Integer(), nullable=True),
        sa.Column("learning_rate_multiplier", sa.Double(), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("auto_update_to_latest", sa.Boolean(), nullable=False),
        sa.Column("activation_gate", sa.Boolean(), nullable=False),
        sa.Column("active_version_id", sa.Integer(), nullable=True),
        sa.Column("pinned_version_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "batch_size IS NULL OR batch_size BETWEEN 1 AND 256",
            name=op.f("ck_ai_models_batch_range"),
        ),
        sa.CheckConstraint(
            "learning_rate_multiplier IS NULL OR learning_rate_multiplier > 0",
            name=op.f("ck_ai_models_lr_positive"),
        ),
        sa.CheckConstraint(
            "n_epochs IS NULL OR n_epochs BETWEEN 1 AND 50", name=op.f("ck_ai_models_epochs_range")
        ),
        sa.CheckConstraint(
            "parent_id IS NULL OR parent_id <> id", name=op.f("ck_ai_models_not_own_parent")
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["provider_connections.id"],
            name=op.f("fk_ai_models_connection_id_provider_connections"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["ai_models.id"],
            name=op.f("fk_ai_models_parent_id_ai_models"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_models")),
        sa.UniqueConstraint("name", name=op.f("uq_ai_models_name")),
    )
    with op.batch_alter_table("ai_models", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ai_models_connection_id"), ["connection_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ai_models_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_email", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_audit_entries_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entries_actor", ["actor_id", "at"], unique=False)
        batch_op.create_index("ix_audit_entries_at", ["at"], unique=False)
        batch_op.create_index("ix_audit_entries_entity", ["entity_type", "entity_id"], unique=False)

    op.create_table(
        "chats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "group",
                "direct",
                name="chat_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "answer_mode",
            sa.Enum(
                "mention",
                "every",
                name="answer_mode",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_chats_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chats")),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("is_read", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_user_read", ["user_id", "is_read", "created_at"], unique=False
        )

    op.create_table(
        "chat_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("model_id", sa.Integer(), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (model_id IS NULL)",
            name=op.f("ck_chat_members_exactly_one_member"),
        ),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_chat_members_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["ai_models.id"],
            name=op.f("fk_chat_members_model_id_ai_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_chat_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_members")),
        sa.UniqueConstraint("chat_id", "user_id", "model_id", name="uq_chat_members_member"),
    )
    with op.batch_alter_table("chat_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_members_chat_id"), ["chat_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_chat_members_model_id"), ["model_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_chat_members_user_id"), ["user_id"], unique=False)

    op.create_table(
        "compilations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "validating",
                "uploading",
                "training",
                "succeeded",
                "failed",
                "cancelled",
                "skipped",
                name="compilation_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("budget_override", sa.Boolean(), nullable=False),
        sa.Column("config_only", sa.Boolean(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("dataset_hash", sa.String(length=64), nullable=True),
        sa.Column("config_hash", sa.String(length=64), nullable=True),
        sa.Column("example_count", sa.Integer(), nullable=True),
        sa.Column("token_count", sa.BigInteger(), nullable=True),
        sa.Column("billed_tokens_estimate", sa.BigInteger(), nullable=True),
        sa.Column("cost_estimate", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("trained_tokens", sa.BigInteger(), nullable=True),
        sa.Column("actual_cost", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("base_model", sa.String(length=200), nullable=True),
        sa.Column("provider_file_id", sa.String(length=200), nullable=True),
        sa.Column("provider_job_id", sa.String(length=200), nullable=True),
        sa.Column("provider_model", sa.String(length=300), nullable=True),
        sa.Column("provider_status", sa.String(length=40), nullable=True),
        sa.Column("estimated_finish_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("build_log", sa.Text(), nullable=False),
        sa.Column("validation_report", sa.JSON(), nullable=True),
        sa.Column("dataset_stats", sa.JSON(), nullable=True),
        sa.Column("diff_summary", sa.JSON(), nullable=True),
        sa.Column("validation_score", sa.Double(), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_poll_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["ai_models.id"],
            name=op.f("fk_compilations_model_id_ai_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_compilations_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compilations")),
    )
    with op.batch_alter_table("compilations", schema=None) as batch_op:
        batch_op.create_index("ix_compilations_claim", ["status", "lease_until"], unique=False)
        batch_op.create_index("ix_compilations_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_compilations_model_created", ["model_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_compilations_requested_by", ["requested_by_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_compilations_status_created", ["status", "created_at"], unique=False
        )
        batch_op.create_index(
            "uq_compilations_one_active_per_model",
            ["model_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('queued', 'validating', 'uploading', 'training')"),
            postgresql_where=sa.text("status IN ('queued', 'validating', 'uploading', 'training')"),
        )

    op.create_table(
        "qas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=120), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("question_key", sa.String(length=512), nullable=False),
        sa.Column(
            "qa_type",
            sa.Enum(
                "training",
                "validation",
                name="qa_type",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.CheckConstraint("length(answer) > 0", name=op.f("ck_qas_answer_not_empty")),
        sa.CheckConstraint("length(question) > 0", name=op.f("ck_qas_question_not_empty")),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["users.id"],
            name=op.f("fk_qas_added_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["users.id"],
            name=op.f("fk_qas_changed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["ai_models.id"],
            name=op.f("fk_qas_model_id_ai_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qas")),
    )
    with op.batch_alter_table("qas", schema=None) as batch_op:
        batch_op.create_index(
            "ix_qas_model_id_active_type", ["model_id", "is_active", "qa_type"], unique=False
        )
        batch_op.create_index(
            "ix_qas_model_id_changed_at", ["model_id", "changed_at"], unique=False
        )
        batch_op.create_index("ix_qas_model_id_id", ["model_id", "id"], unique=False)
        batch_op.create_index(
            "ix_qas_model_id_question_key", ["model_id", "question_key"], unique=False
        )
        batch_op.create_index("ix_qas_model_id_section", ["model_id", "section"], unique=False)

    op.create_table(
        "training_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column(
            "origin",
            sa.Enum(
                "manual",
                "chat",
                "import",
                name="origin",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("origin_ref", sa.JSON(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "ready",
                "excluded",
                name="conversation_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_training_conversations_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["ai_models.id"],
            name=op.f("fk_training_conversations_model_id_ai_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_training_conversations_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_conversations")),
    )
    with op.batch_alter_table("training_conversations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_training_conversations_model_hash", ["model_id", "content_hash"], unique=False
        )
        batch_op.create_index(
            "ix_training_conversations_model_status", ["model_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_training_conversations_model_updated", ["model_id", "updated_at"], unique=False
        )

    op.create_table(
        "compilation_assets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compilation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["compilation_id"],
            ["compilations.id"],
            name=op.f("fk_compilation_assets_compilation_id_compilations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compilation_assets")),
        sa.UniqueConstraint("compilation_id", "kind", name="uq_compilation_assets_kind"),
    )
    with op.batch_alter_table("compilation_assets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compilation_assets_compilation_id"), ["compilation_id"], unique=False
        )

    op.create_table(
        "compilation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compilation_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("event_type", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("provider_event_id", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["compilation_id"],
            ["compilations.id"],
            name=op.f("fk_compilation_events_compilation_id_compilations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compilation_events")),
        sa.UniqueConstraint(
            "compilation_id", "provider_event_id", name="uq_compilation_events_provider_event"
        ),
    )
    with op.batch_alter_table("compilation_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_compilation_events_compilation_id_id", ["compilation_id", "id"], unique=False
        )

    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("compilation_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("provider_model_id", sa.String(length=300), nullable=False),
        sa.Column("base_model", sa.String(length=200), nullable=True),
        sa.Column("system_message", sa.Text(), nullable=False),
        sa.Column("dataset_hash", sa.String(length=64), nullable=True),
        sa.Column("config_hash", sa.String(length=64), nullable=True),
        sa.Column("config_only", sa.Boolean(), nullable=False),
        sa.Column("validation_score", sa.Double(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["compilation_id"],
            ["compilations.id"],
            name=op.f("fk_model_versions_compilation_id_compilations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["ai_models.id"],
            name=op.f("fk_model_versions_model_id_ai_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.UniqueConstraint("model_id", "number", name="uq_model_versions_number"),
    )
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.create_index("ix_model_versions_compilation_id", ["compilation_id"], unique=False)

    op.create_table(
        "training_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("participant_name", sa.String(length=120), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "system",
                "user",
                "assistant",
                name="message_role",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "weight IS NULL OR role = 'assistant'",
            name=op.f("ck_training_messages_weight_on_assistant"),
        ),
        sa.CheckConstraint(
            "weight IS NULL OR weight IN (0, 1)", name=op.f("ck_training_messages_weight_0_or_1")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["training_conversations.id"],
            name=op.f("fk_training_messages_conversation_id_training_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_messages")),
        sa.UniqueConstraint("conversation_id", "position", name="uq_training_messages_position"),
    )
    op.create_table(
        "transcripts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("source_ref", sa.JSON(), nullable=False),
        sa.Column("messages", sa.JSON(), nullable=False),
        sa.Column("pii_warnings", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "rejected",
                "skipped",
                name="transcript_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("imported_by_id", sa.Integer(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["training_conversations.id"],
            name=op.f("fk_transcripts_conversation_id_training_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["imported_by_id"],
            ["users.id"],
            name=op.f("fk_transcripts_imported_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["ai_models.id"],
            name=op.f("fk_transcripts_model_id_ai_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"],
            ["users.id"],
            name=op.f("fk_transcripts_reviewed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcripts")),
    )
    with op.batch_alter_table("transcripts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_transcripts_model_status_id", ["model_id", "status", "id"], unique=False
        )

    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("author_model_id", sa.Integer(), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("reply_to_id", sa.Integer(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "complete",
                "streaming",
                "failed",
                name="chat_message_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_model_id"],
            ["ai_models.id"],
            name=op.f("fk_chat_messages_author_model_id_ai_models"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["users.id"],
            name=op.f("fk_chat_messages_author_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_chat_messages_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reply_to_id"],
            ["chat_messages.id"],
            name=op.f("fk_chat_messages_reply_to_id_chat_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_chat_messages_version_id_model_versions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
    )
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.create_index("ix_chat_messages_chat_id_id", ["chat_id", "id"], unique=False)

    # model_versions refers to ai_models and compilations, and they back to it: add the
    # backward keys once every table exists.
    for table, column in _CYCLIC_FOREIGN_KEYS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(
                op.f(f"fk_{table}_{column}_model_versions"),
                "model_versions",
                [column],
                ["id"],
                ondelete="SET NULL",
            )


def downgrade() -> None:
    for table, column in _CYCLIC_FOREIGN_KEYS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(
                op.f(f"fk_{table}_{column}_model_versions"), type_="foreignkey"
            )
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_messages_chat_id_id")

    op.drop_table("chat_messages")
    with op.batch_alter_table("transcripts", schema=None) as batch_op:
        batch_op.drop_index("ix_transcripts_model_status_id")

    op.drop_table("transcripts")
    op.drop_table("training_messages")
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_model_versions_compilation_id")

    op.drop_table("model_versions")
    with op.batch_alter_table("compilation_events", schema=None) as batch_op:
        batch_op.drop_index("ix_compilation_events_compilation_id_id")

    op.drop_table("compilation_events")
    with op.batch_alter_table("compilation_assets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compilation_assets_compilation_id"))

    op.drop_table("compilation_assets")
    with op.batch_alter_table("training_conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_training_conversations_model_updated")
        batch_op.drop_index("ix_training_conversations_model_status")
        batch_op.drop_index("ix_training_conversations_model_hash")

    op.drop_table("training_conversations")
    with op.batch_alter_table("qas", schema=None) as batch_op:
        batch_op.drop_index("ix_qas_model_id_section")
        batch_op.drop_index("ix_qas_model_id_question_key")
        batch_op.drop_index("ix_qas_model_id_id")
        batch_op.drop_index("ix_qas_model_id_changed_at")
        batch_op.drop_index("ix_qas_model_id_active_type")

    op.drop_table("qas")
    with op.batch_alter_table("compilations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_compilations_one_active_per_model",
            sqlite_where=sa.text("status IN ('queued', 'validating', 'uploading', 'training')"),
            postgresql_where=sa.text("status IN ('queued', 'validating', 'uploading', 'training')"),
        )
        batch_op.drop_index("ix_compilations_status_created")
        batch_op.drop_index("ix_compilations_requested_by")
        batch_op.drop_index("ix_compilations_model_created")
        batch_op.drop_index("ix_compilations_created_at")
        batch_op.drop_index("ix_compilations_claim")

    op.drop_table("compilations")
    with op.batch_alter_table("chat_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_members_user_id"))
        batch_op.drop_index(batch_op.f("ix_chat_members_model_id"))
        batch_op.drop_index(batch_op.f("ix_chat_members_chat_id"))

    op.drop_table("chat_members")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_read")

    op.drop_table("notifications")
    op.drop_table("chats")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_entity")
        batch_op.drop_index("ix_audit_entries_at")
        batch_op.drop_index("ix_audit_entries_actor")

    op.drop_table("audit_entries")
    with op.batch_alter_table("ai_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ai_models_parent_id"))
        batch_op.drop_index(batch_op.f("ix_ai_models_connection_id"))

    op.drop_table("ai_models")
    op.drop_table("users")
    op.drop_table("provider_connections")
    op.drop_table("base_models")
