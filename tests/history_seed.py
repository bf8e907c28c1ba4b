"""A compilation history written straight through the ORM, as the engine would leave it:
succeeded (with versions, metrics, assets), failed (with a validation report), cancelled,
skipped, config-only and one still training. Shared by service and page tests."""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from core.domain import (
    CompilationStatus,
    ConversationStatus,
    MessageRole,
    ModelKind,
    ProviderType,
    QAType,
    Role,
    utcnow,
)
from core.models import (
    QA,
    AIModel,
    Compilation,
    CompilationAsset,
    CompilationEvent,
    ModelVersion,
    ProviderConnection,
    TrainingConversation,
    TrainingMessage,
    User,
)
from core.security import hash_password
from core.uow import UnitOfWork

TRAINING_JSONL = (
    b'{"messages": [{"role": "system", "content": "Be brief."}, '
    b'{"role": "user", "content": "Opening hours?"}, '
    b'{"role": "assistant", "content": "8 to 17."}]}\n'
)


@dataclass(frozen=True)
class SeededHistory:
    admin_id: int
    trainer_id: int
    manager_id: int
    openai_connection_id: int
    local_connection_id: int
    parent_id: int
    child_id: int
    local_model_id: int
    qa_id: int
    conversation_id: int
    v1_compilation: int
    v2_compilation: int
    failed: int
    cancelled: int
    skipped: int
    config_only: int
    running: int
    now: datetime


def _user(uow: UnitOfWork, email: str, role: Role) -> User:
    user = User(
        email=email,
        display_name=email.split("@")[0].title(),
        role=role,
        password_hash=hash_password("correct horse battery"),
    )
    uow.session.add(user)
    return user


def seed_history(uow: UnitOfWork, now: datetime | None = None) -> SeededHistory:
    now = now or utcnow()
    with uow:
        s = uow.session
        admin = _user(uow, "admin@history.example", Role.ADMIN)
        trainer = _user(uow, "trainer@history.example", Role.TRAINER)
        manager = _user(uow, "manager@history.example", Role.MANAGER)
        openai_conn = ProviderConnection(
            name="OpenAI",
            provider_type=ProviderType.OPENAI,
            api_key_env="OPENAI_API_KEY",
            default_base_model="gpt-4o-mini-2024-07-18",
            price_per_million_tokens=Decimal("3.00"),
            monthly_budget=Decimal("10.00"),
        )
        local_conn = ProviderConnection(
            name="Local (offline)",
            provider_type=ProviderType.LOCAL,
            default_base_model="local-retrieval-1",
        )
        s.add_all([openai_conn, local_conn])
        s.flush()
        parent = AIModel(
            name="Company",
            kind=ModelKind.ARBITER,
            connection_id=openai_conn.id,
            system_message="You answer for the company.",
            aggregate_children_training=True,
        )
        s.add(parent)
        s.flush()
        child = AIModel(
            name="Sales",
            kind=ModelKind.ARBITER,
            parent_id=parent.id,
            inherit_parent_training=True,
            system_message="You answer for sales.",
        )
        local_model = AIModel(
            name="Offline helper", kind=ModelKind.ARBITER, connection_id=local_conn.id
        )
        s.add_all([child, local_model])
        s.flush()

        # Training data added over the past weeks, one Q&A later deactivated.
        qa = None
        for week in range(6):
            for i in range(week + 1):
                row = QA(
                    model_id=parent.id if i % 2 == 0 else child.id,
                    question=f"Question {week}-{i}?",
                    answer=f"Answer {week}-{i}.",
                    question_key=f"question {week}-{i}",
                    qa_type=QAType.TRAINING,
                    added_at=now - timedelta(weeks=6 - week),
                    changed_at=now - timedelta(weeks=6 - week),
                )
                s.add(row)
                qa = qa or row
        s.add(
            QA(
                model_id=parent.id,
                question="Retired question?",
                answer="Gone.",
                question_key="retired question",
                is_active=False,
                added_at=now - timedelta(weeks=5),
                deactivated_at=now - timedelta(weeks=1),
            )
        )
        s.add(
            QA(
                model_id=parent.id,
                question="Validation?",
                answer="Kept out.",
                question_key="validation",
                qa_type=QAType.VALIDATION,
                added_at=now - timedelta(weeks=3),
            )
        )
        conversation = TrainingConversation(
            model_id=child.id,
            title="A ready conversation",
            status=ConversationStatus.READY,
            created_at=now - timedelta(weeks=2),
        )
        conversation.messages = [
            TrainingMessage(position=0, role=MessageRole.USER, content="Hi"),
            TrainingMessage(position=1, role=MessageRole.ASSISTANT, content="Hello", weight=1),
        ]
        s.add(conversation)
        s.flush()
        assert qa is not None

        def compilation(status: CompilationStatus, ago: timedelta, **values: object) -> Compilation:
            created = now - ago
            c = Compilation(
                model_id=values.pop("model_id", parent.id),
                requested_by_id=values.pop("requested_by_id", trainer.id),
                status=status,
                created_at=created,
                started_at=created + timedelta(seconds=5),
                **values,
            )
            s.add(c)
            s.flush()
            return c

        v1c = compilation(
            CompilationStatus.SUCCEEDED,
            timedelta(days=20),
            finished_at=now - timedelta(days=20) + timedelta(minutes=12),
            dataset_hash="a" * 64,
            example_count=10,
            token_count=2_000,
            billed_tokens_estimate=6_000,
            cost_estimate=Decimal("0.0180"),
            trained_tokens=6_000,
            actual_cost=Decimal("0.0180"),
            base_model="gpt-4o-mini-2024-07-18",
            provider_job_id="ftjob-1",
            provider_model="ft:gpt-4o-mini:arbiter:company:v1",
            validation_score=0.7,
            build_log="validated 10 examples\ntraining\nsucceeded\n",
        )
        v1 = ModelVersion(
            model_id=parent.id,
            compilation_id=v1c.id,
            number=1,
            provider_model_id="ft:gpt-4o-mini:arbiter:company:v1",
            dataset_hash="a" * 64,
            validation_score=0.7,
            created_at=v1c.finished_at,
        )
        s.add(v1)
        s.flush()
        v1c.version_id = v1.id

        v2c = compilation(
            CompilationStatus.SUCCEEDED,
            timedelta(days=3),
            finished_at=now - timedelta(days=3) + timedelta(minutes=30),
            dataset_hash="b" * 64,
            example_count=21,
            token_count=4_000,
            billed_tokens_estimate=12_000,
            cost_estimate=Decimal("0.0360"),
            trained_tokens=12_600,
            actual_cost=None,
            base_model="gpt-4o-mini-2024-07-18",
            provider_file_id="file-2",
            provider_job_id="ftjob-2",
            provider_model="ft:gpt-4o-mini:arbiter:company:v2",
            validation_score=0.85,
            build_log="validated 21 examples\nuploaded file-2\njob ftjob-2\nsucceeded\n",
            dataset_stats={
                "examples": 21,
                "tokens": 4_000,
                "per_source": [
                    {
                        "model_id": parent.id,
                        "model_name": "Company",
                        "relation": "own",
                        "qas": 12,
                        "conversations": 0,
                    },
                    {
                        "model_id": child.id,
                        "model_name": "Sales",
                        "relation": "aggregated",
                        "qas": 8,
                        "conversations": 1,
                    },
                ],
            },
            diff_summary={
                "added": 11,
                "removed": 0,
                "changed": 1,
                "unchanged": 9,
                "added_records": [["qa", qa.id, parent.id, "Company", "own"]],
                "removed_records": [],
                "changed_records": [
                    ["conversation", conversation.id, child.id, "Sales", "aggregated"]
                ],
            },
            # The validator's report as the engine stores it (Report.as_json()).
            validation_report={
                "example_count": 21,
                "total_tokens": 4_000,
                "errors": 0,
                "warnings": 1,
                "counts": [["warning", "personal_data", 1]],
                "findings": [
                    {
                        "severity": "warning",
                        "code": "personal_data",
                        "message": "contains an e-mail address",
                        "line": 4,
                        "sources": [["qa", qa.id, parent.id, "Company", "own"]],
                    }
                ],
            },
        )
        v2 = ModelVersion(
            model_id=parent.id,
            compilation_id=v2c.id,
            number=2,
            provider_model_id="ft:gpt-4o-mini:arbiter:company:v2",
            dataset_hash="b" * 64,
            validation_score=0.85,
            created_at=v2c.finished_at,
        )
        s.add(v2)
        s.flush()
        v2c.version_id = v2.id
        parent.active_version_id = v2.id
        for step in range(1, 6):
            s.add(
                CompilationEvent(
                    compilation_id=v2c.id,
                    created_at=v2c.created_at + timedelta(minutes=step),
                    event_type="metrics",
                    message=f"Step {step}/5",
                    data={
                        "step": step,
                        "total_steps": 5,
                        "train_loss": 2.0 / step,
                        "train_mean_token_accuracy": 0.5 + step / 20,
                    },
                    provider_event_id=f"ev-{step}",
                )
            )
        s.add(
            CompilationEvent(
                compilation_id=v2c.id,
                created_at=v2c.created_at,
                event_type="status",
                message="training started",
            )
        )
        checkpoints = [
            {
                "step": 5,
                "metrics": {
                    "train_loss": 0.3,
                    "valid_loss": 0.45,
                    "valid_mean_token_accuracy": 0.8,
                },
            }
        ]
        for kind, filename, media, content in (
            # Stored as the engine stores it: gzipped.
            (
                "training_file",
                "training.jsonl.gz",
                "application/gzip",
                gzip.compress(TRAINING_JSONL),
            ),
            (
                "checkpoints",
                "checkpoints.json",
                "application/json",
                json.dumps(checkpoints).encode(),
            ),
        ):
            s.add(
                CompilationAsset(
                    compilation_id=v2c.id,
                    kind=kind,
                    filename=filename,
                    media_type=media,
                    size_bytes=len(content),
                    sha256=hashlib.sha256(content).hexdigest(),
                    content=content,
                )
            )

        failed = compilation(
            CompilationStatus.FAILED,
            timedelta(days=2),
            finished_at=now - timedelta(days=2) + timedelta(minutes=1),
            error="The training set has errors:\n- Q&A #1: empty answer\n- line 7: no assistant message",
            build_log="validation failed\n",
            validation_report={
                "example_count": 9,
                "total_tokens": 900,
                "errors": 2,
                "warnings": 0,
                "counts": [["error", "empty_content", 1], ["error", "no_assistant_message", 1]],
                "findings": [
                    {
                        "severity": "error",
                        "code": "empty_content",
                        "message": "empty answer",
                        "line": 3,
                        "sources": [["qa", qa.id, parent.id, "Company", "own"]],
                    },
                    {
                        "severity": "error",
                        "code": "no_assistant_message",
                        "message": "no assistant message",
                        "line": 7,
                        "sources": [
                            ["conversation", conversation.id, child.id, "Sales", "aggregated"]
                        ],
                    },
                ],
            },
        )
        cancelled = compilation(
            CompilationStatus.CANCELLED,
            timedelta(days=1, hours=12),
            requested_by_id=admin.id,
            finished_at=now - timedelta(days=1, hours=11),
            reason="cancelled by Admin",
        )
        skipped = compilation(
            CompilationStatus.SKIPPED,
            timedelta(days=1),
            finished_at=now - timedelta(days=1),
            reason="Nothing changed since version 2 (same training set and configuration).",
        )
        config_only = compilation(
            CompilationStatus.SUCCEEDED,
            timedelta(hours=20),
            model_id=local_model.id,
            config_only=True,
            finished_at=now - timedelta(hours=20) + timedelta(seconds=7),
            reason="No training data: base model plus system message.",
        )
        v_local = ModelVersion(
            model_id=local_model.id,
            compilation_id=config_only.id,
            number=1,
            provider_model_id="local-retrieval-1",
            config_only=True,
            created_at=config_only.finished_at,
        )
        s.add(v_local)
        s.flush()
        config_only.version_id = v_local.id
        local_model.active_version_id = v_local.id
        running = compilation(
            CompilationStatus.TRAINING,
            timedelta(minutes=10),
            model_id=child.id,
            provider_status="running",
            provider_job_id="ftjob-3",
            estimated_finish_at=now + timedelta(minutes=15),
            example_count=9,
            cost_estimate=Decimal("0.0100"),
        )
        for i in range(12):
            s.add(
                CompilationEvent(
                    compilation_id=running.id,
                    created_at=running.created_at + timedelta(seconds=30 * i),
                    message=f"Step {i + 1}/40: training loss={1.5 - i / 20:.2f}",
                )
            )
        uow.commit()
        return SeededHistory(
            admin_id=admin.id,
            trainer_id=trainer.id,
            manager_id=manager.id,
            openai_connection_id=openai_conn.id,
            local_connection_id=local_conn.id,
            parent_id=parent.id,
            child_id=child.id,
            local_model_id=local_model.id,
            qa_id=qa.id,
            conversation_id=conversation.id,
            v1_compilation=v1c.id,
            v2_compilation=v2c.id,
            failed=failed.id,
            cancelled=cancelled.id,
            skipped=skipped.id,
            config_only=config_only.id,
            running=running.id,
            now=now,
        )
