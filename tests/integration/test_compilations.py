"""Compilations with the local provider, on SQLite and PostgreSQL: the whole lifecycle,
skip, force, configuration-only, refusals, cancel, pre-flight and its diff, compilation."""

from __future__ import annotations

import gzip
import json

import pytest
from sqlalchemy import select

from core.domain import CompilationStatus, ConversationStatus, ModelKind, QAType
from core.errors import AlreadyRunning, Conflict, PermissionDenied, ValidationFailed
from core.models import QA, AIModel, AuditEntry, CompilationAsset, CompilationEvent, Notification
from core.permissions import Actor
from core.providers.base import ChatTurn
from core.providers.local import LOCAL_BASE_MODEL, LocalProvider
from core.services import catalog, compilation
from tests.compile_helpers import (
    TOPICS,
    Uows,
    add_conversation,
    add_qas,
    count,
    drain,
    edit_answer,
    engine_env,
    local_connection,
    make_model,
)

__all__ = ["engine_env"]
pytestmark = pytest.mark.usefixtures("engine_env")


@pytest.fixture
def support(new_uow: Uows, admin: Actor) -> int:
    model_id = make_model(new_uow, admin, "Support", connection_id=local_connection(new_uow, admin))
    add_qas(new_uow, model_id)
    add_qas(
        new_uow,
        model_id,
        [
            (
                "How many days may customers return relays?",
                "Customers may return relays within 30 days.",
            )
        ],
        QAType.VALIDATION,
    )
    return model_id


def _compile(new_uow: Uows, actor: Actor, model_id: int, **options: bool) -> int:
    requested = compilation.request_compilation(new_uow(), actor, model_id, **options)
    assert requested.status == CompilationStatus.QUEUED
    drain(new_uow)
    return requested.id


def test_local_lifecycle_creates_the_active_version(
    new_uow: Uows, admin: Actor, trainer: Actor, support: int
) -> None:
    add_conversation(new_uow, support, ConversationStatus.READY)
    add_conversation(new_uow, support, ConversationStatus.DRAFT)
    done = compilation.get_compilation(new_uow(), trainer, _compile(new_uow, trainer, support))
    assert done.status == CompilationStatus.SUCCEEDED, done.error
    assert done.example_count == len(TOPICS) + 1  # the draft conversation stays out
    assert done.token_count and done.validation_score is not None
    assert done.version_number == 1 and done.version_active
    assert "Version v1 is active" in (done.reason or "")
    uow = new_uow()
    with uow:
        messages = [
            e.message
            for e in uow.session.scalars(
                select(CompilationEvent).where(CompilationEvent.compilation_id == done.id)
            )
        ]
        assert f"Indexed {len(TOPICS) + 1} examples as {len(TOPICS) + 1} answers" in messages
        assert any(m.startswith("Validation: 1 Q&As asked") for m in messages)
        kinds = set(
            uow.session.scalars(
                select(CompilationAsset.kind).where(CompilationAsset.compilation_id == done.id)
            )
        )
        assert kinds == {"training_file", "manifest", "validation_report", "metrics"}
        training = uow.session.scalar(
            select(CompilationAsset.content).where(
                CompilationAsset.compilation_id == done.id, CompilationAsset.kind == "training_file"
            )
        )
        note = uow.session.scalar(
            select(Notification).where(Notification.user_id == trainer.user_id)
        )
        assert note is not None and "succeeded" in note.text and note.link
    lines = gzip.decompress(training or b"").decode().splitlines()
    assert all("validation" not in line and "How many days may" not in line for line in lines)
    assert lines and all(json.loads(line)["messages"][0]["role"] == "system" for line in lines)

    answering = compilation.answering_version(new_uow(), trainer, support)
    assert answering is not None and answering.number == 1
    deltas = list(
        LocalProvider().chat(
            answering.provider_model_id,
            [ChatTurn("user", "when do orders placed before noon ship")],
        )
    )
    assert "".join(d.text for d in deltas).startswith("Orders placed before noon ship")
    line = deltas[-1].meta["example_line"] if deltas[-1].meta else 0
    sources = compilation.example_sources(new_uow(), trainer, answering.version_id, line)
    assert [s.kind for s in sources] == ["qa"] and sources[0].model_name == "Support"


def test_unchanged_is_skipped_forced_is_rebuilt_and_a_change_is_compiled(
    new_uow: Uows, trainer: Actor, support: int
) -> None:
    _compile(new_uow, trainer, support)
    skipped = compilation.get_compilation(new_uow(), trainer, _compile(new_uow, trainer, support))
    assert skipped.status == CompilationStatus.SKIPPED
    assert "Nothing changed since the active version" in (skipped.reason or "")
    forced = compilation.get_compilation(
        new_uow(), trainer, _compile(new_uow, trainer, support, force=True)
    )
    assert forced.status == CompilationStatus.SUCCEEDED and forced.version_number == 2
    uow = new_uow()
    with uow:
        first = uow.session.scalar(select(AIModel.id).where(AIModel.id == support))
    assert first == support
    qa_ids = add_qas(new_uow, support, [("Is there a night shift?", "No, Venlo works two shifts.")])
    preflight = compilation.preflight(new_uow(), trainer, support)
    assert not preflight.unchanged and preflight.diff is not None
    assert (preflight.diff.added, preflight.diff.removed, preflight.diff.changed) == (1, 0, 0)
    assert [r.record_id for r in preflight.diff.added_records] == qa_ids
    changed = compilation.get_compilation(new_uow(), trainer, _compile(new_uow, trainer, support))
    assert changed.status == CompilationStatus.SUCCEEDED and changed.version_number == 3
    assert changed.diff is not None and changed.diff.added == 1


def test_a_model_without_training_data_gets_a_configuration_only_version(
    new_uow: Uows, admin: Actor, trainer: Actor
) -> None:
    model_id = make_model(new_uow, admin, "Empty", connection_id=local_connection(new_uow, admin))
    preflight = compilation.preflight(new_uow(), trainer, model_id)
    assert preflight.config_only and preflight.example_count == 0
    assert "configuration-only" in preflight.outcome
    done = compilation.get_compilation(new_uow(), trainer, _compile(new_uow, trainer, model_id))
    assert done.status == CompilationStatus.SUCCEEDED and done.config_only
    assert done.provider_job_id is None and done.provider_model == LOCAL_BASE_MODEL
    listed = compilation.list_versions(new_uow(), trainer, model_id)
    assert [(v.number, v.config_only, v.is_active) for v in listed] == [(1, True, True)]


def test_assistants_are_refused_and_one_compilation_runs_per_model(
    new_uow: Uows, admin: Actor, trainer: Actor, support: int
) -> None:
    helper = make_model(new_uow, admin, "Helper", kind=ModelKind.ASSISTANT, parent_id=support)
    with pytest.raises(ValidationFailed, match="build assistant"):
        compilation.request_compilation(new_uow(), trainer, helper)
    first = compilation.request_compilation(new_uow(), trainer, support)
    with pytest.raises(AlreadyRunning, match="already running"):
        compilation.request_compilation(new_uow(), trainer, support)
    with pytest.raises(PermissionDenied, match="Only an admin"):
        compilation.request_compilation(new_uow(), trainer, support, override_budget=True)
    cancelled = compilation.cancel_compilation(new_uow(), trainer, first.id)
    assert cancelled.status == CompilationStatus.CANCELLED
    with pytest.raises(Conflict, match="already ended"):
        compilation.cancel_compilation(new_uow(), trainer, first.id)
    assert count(new_uow, Notification, user_id=trainer.user_id) == 1


def test_errors_in_the_training_set_fail_with_findings_and_keep_the_version(
    new_uow: Uows, trainer: Actor, support: int
) -> None:
    _compile(new_uow, trainer, support)
    bad = add_qas(new_uow, support, [("What ends a text?", "This: <|endoftext|> ends it.")])
    preflight = compilation.preflight(new_uow(), trainer, support)
    assert preflight.errors == 1
    finding = next(f for f in preflight.findings if f.severity == "error")
    assert finding.code == "special_token"
    assert [(s.kind, s.record_id, s.model_id) for s in finding.sources] == [("qa", bad[0], support)]
    failed = compilation.get_compilation(new_uow(), trainer, _compile(new_uow, trainer, support))
    assert failed.status == CompilationStatus.FAILED
    assert "1 error" in (failed.error or "") and f"Q&A #{bad[0]}" in (failed.error or "")
    assert any(f.code == "special_token" for f in failed.findings)
    model = catalog.get_model(new_uow(), trainer, support)
    assert model.active_version_number == 1


def test_rollback_and_activate_are_admin_only_audited_and_announced(
    new_uow: Uows, admin: Actor, trainer: Actor, support: int
) -> None:
    _compile(new_uow, trainer, support)
    _compile(new_uow, trainer, support, force=True)
    v2, v1 = compilation.list_versions(new_uow(), admin, support)
    assert v2.is_active and not v1.is_active
    with pytest.raises(PermissionDenied):
        compilation.rollback(new_uow(), trainer, v1.id, "worse answers")
    with pytest.raises(ValidationFailed, match="Say why"):
        compilation.rollback(new_uow(), admin, v1.id, "  ")
    rolled = compilation.rollback(new_uow(), admin, v1.id, "v2 answers returns wrongly")
    assert rolled.is_active and rolled.number == 1
    with pytest.raises(Conflict, match="newer than the active"):
        compilation.rollback(new_uow(), admin, v2.id, "back again")
    uow = new_uow()
    with uow:
        entry = uow.session.scalar(select(AuditEntry).where(AuditEntry.action == "rollback"))
        assert entry is not None and "v2 answers returns wrongly" in entry.summary
        assert entry.before == {"active_version": 2} and entry.after is not None
        texts = list(
            uow.session.scalars(select(Notification.text).where(Notification.kind == "rollback"))
        )
    assert len(texts) == 2 and all("rolled back Support to v1" in t for t in texts)
    answering = compilation.answering_version(new_uow(), trainer, support)
    assert answering is not None and answering.number == 1
    assert compilation.activate_version(new_uow(), admin, v2.id, "fixed").is_active


def test_the_activation_gate_holds_back_a_worse_version(
    new_uow: Uows, admin: Actor, trainer: Actor, support: int
) -> None:
    model = catalog.get_model(new_uow(), admin, support)
    catalog.update_model(new_uow(), admin, support, model.as_input(activation_gate=True))
    _compile(new_uow, trainer, support)
    first = compilation.list_versions(new_uow(), trainer, support)[0]
    assert first.validation_score and first.validation_score > 0.5
    uow = new_uow()
    with uow:
        qa_id = uow.session.scalar(select(QA.id).where(QA.question == TOPICS[0][1]))
    assert qa_id is not None
    edit_answer(new_uow, qa_id, "Ask the warehouse team in Venlo about it.")
    held = compilation.get_compilation(new_uow(), trainer, _compile(new_uow, trainer, support))
    assert held.status == CompilationStatus.SUCCEEDED and not held.version_active
    assert "held back" in (held.reason or "")
    second = compilation.list_versions(new_uow(), trainer, support)[0]
    assert second.held_back and not second.is_active
    assert (second.validation_score or 0) < first.validation_score
    assert compilation.activate_version(new_uow(), admin, second.id, "accepted").is_active


def test_pinned_version_answers_when_the_model_does_not_follow_the_latest(
    new_uow: Uows, admin: Actor, trainer: Actor, support: int
) -> None:
    _compile(new_uow, trainer, support)
    model = catalog.get_model(new_uow(), admin, support)
    catalog.update_model(new_uow(), admin, support, model.as_input(auto_update_to_latest=False))
    _compile(new_uow, trainer, support, force=True)
    answering = compilation.answering_version(new_uow(), trainer, support)
    assert answering is not None and answering.number == 1 and answering.pinned
    latest = compilation.list_versions(new_uow(), trainer, support)[0]
    compilation.pin_version(new_uow(), admin, support, latest.id)
    answering = compilation.answering_version(new_uow(), trainer, support)
    assert answering is not None and answering.number == 2
    # The worker's activation does not count as an edit of the model's settings.
    assert catalog.get_model(new_uow(), admin, support).row_version == model.row_version + 1


def test_hierarchy_feeds_the_training_set(new_uow: Uows, admin: Actor, trainer: Actor) -> None:
    conn = local_connection(new_uow, admin)
    master = make_model(
        new_uow, admin, "Master", connection_id=conn, aggregate_children_training=True
    )
    sales = make_model(new_uow, admin, "Sales", parent_id=master, inherit_parent_training=True)
    other = make_model(new_uow, admin, "Other", parent_id=master)
    add_qas(new_uow, master, [("Where is the head office?", "Our head office is in Dublin.")])
    add_qas(new_uow, sales, [("Who approves discounts?", "The sales lead approves discounts.")])
    add_qas(new_uow, other, [("Who cleans?", "A contractor cleans the offices nightly.")])
    add_qas(new_uow, sales, [("Validation only?", "Never trained on.")], QAType.VALIDATION)

    def questions(model_id: int) -> set[str]:
        content = compilation.export_training_set(new_uow(), trainer, model_id)
        return {json.loads(line)["messages"][1]["content"] for line in content.splitlines()}

    assert questions(sales) == {"Where is the head office?", "Who approves discounts?"}
    assert questions(master) == {
        "Where is the head office?",
        "Who approves discounts?",
        "Who cleans?",
    }
    assert questions(other) == {"Who cleans?"}
    exported = compilation.export_training_set(new_uow(), trainer, sales)
    system = json.loads(exported.splitlines()[0])["messages"][0]
    assert system == {"role": "system", "content": "You are Sales, Northwind's arbiter. Be brief."}
    preflight = compilation.preflight(new_uow(), trainer, sales)
    assert "Master (inherited)" in preflight.sources
    assert any(f.code == "too_few_examples" for f in preflight.findings)


def test_models_list_shows_changes_pending(
    new_uow: Uows, admin: Actor, trainer: Actor, support: int
) -> None:
    def pending() -> bool | None:
        return next(
            m for m in catalog.list_models(new_uow(), trainer) if m.id == support
        ).changes_pending

    assert pending() is True  # never compiled
    _compile(new_uow, trainer, support)
    assert pending() is False
    add_qas(new_uow, support, [("New?", "Yes, a new answer for the test.")])
    assert pending() is True
    _compile(new_uow, trainer, support)
    assert pending() is False
    model = catalog.get_model(new_uow(), admin, support)
    catalog.update_model(new_uow(), admin, support, model.as_input(system_message="Be formal."))
    assert pending() is True
