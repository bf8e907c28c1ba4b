"""Supervised then preference (DPO) compilations against the local OpenAI test server through
the real SDK: the pre-flight counts the pairs, the second job is a ``method: dpo`` job on the
supervised result with the preference file, both jobs' tokens and cost count, a failed DPO
job keeps the last good version, and providers that cannot train on pairs refuse at once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest

from core.domain import CompilationStatus, ConversationStatus, MessageRole
from core.errors import ValidationFailed
from core.models import TrainingConversation, TrainingMessage
from core.permissions import Actor
from core.services import catalog, compilation
from core.training.cost import cost_of
from tests.compile_helpers import (
    FAST,
    OPENAI_KEY_ENV,
    TOPICS,
    Uows,
    add_qas,
    drain,
    local_connection,
    make_model,
    openai_connection,
    stored_compilation,
)
from tests.openai_server import FakeOpenAI, Fault

PRICE = "2"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Iterator[FakeOpenAI]:
    monkeypatch.setenv("ARBITER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ARBITER_OPENAI_TIMEOUT", "5")
    with FakeOpenAI() as fake:
        monkeypatch.setenv(OPENAI_KEY_ENV, fake.api_key)
        yield fake


def add_corrections(new_uow: Uows, model_id: int, count: int = 10) -> None:
    """Train AI's corrections: the answer the model gave kept beside the corrected one."""
    uow = new_uow()
    with uow:
        for number, (_, question, answer) in enumerate(TOPICS[:count]):
            conv = TrainingConversation(
                model_id=model_id,
                title=f"Corrected {number}",
                status=ConversationStatus.READY,
                origin_ref={"chat_id": 1, "message_ids": [number], "rejected": "I do not know."},
            )
            conv.messages = [
                TrainingMessage(position=0, role=MessageRole.USER, content=question),
                TrainingMessage(position=1, role=MessageRole.ASSISTANT, content=answer, weight=1),
            ]
            uow.session.add(conv)
        uow.commit()


@pytest.fixture
def model(new_uow: Uows, admin: Actor, trainer: Actor, server: FakeOpenAI) -> int:
    """An arbiter at the fake OpenAI with a supervised first version and ten corrections."""
    conn = openai_connection(new_uow, admin, server.base_url, price=PRICE)
    model_id = make_model(new_uow, admin, "Northwind Support", connection_id=conn)
    add_qas(new_uow, model_id)
    first = compilation.request_compilation(new_uow(), trainer, model_id)
    drain(new_uow)
    assert compilation.get_compilation(new_uow(), trainer, first.id).version_number == 1
    add_corrections(new_uow, model_id)
    return model_id


def _tokens(job: dict[str, object]) -> int:
    value = job["trained_tokens"]
    assert isinstance(value, int)
    return value


def _jobs_of(server: FakeOpenAI, compilation_id: int) -> list[dict[str, object]]:
    with server.lock:
        return [
            dict(job)
            for job in server.jobs.values()
            if (job["metadata"] or {}).get("compilation_id") == str(compilation_id)
        ]


def test_supervised_then_dpo_trains_the_supervised_result_on_the_pairs(
    new_uow: Uows, trainer: Actor, model: int, server: FakeOpenAI
) -> None:
    checked = compilation.preflight(new_uow(), trainer, model, preference=True)
    assert checked.preference is not None and checked.preference.pairs == 10
    assert checked.preference.errors == 0 and checked.preference.refusal is None
    assert checked.outcome.startswith("ready to compile, supervised then DPO: 10 preference")

    requested = compilation.request_compilation(new_uow(), trainer, model, preference=True)
    drain(new_uow)
    done = compilation.get_compilation(new_uow(), trainer, requested.id)
    assert done.status == CompilationStatus.SUCCEEDED, done.error
    sft, dpo = _jobs_of(server, done.id)
    assert sft["method"] == {
        "type": "supervised",
        "supervised": {"hyperparameters": sft["hyperparameters"]},
    }
    assert sft["model"] == "gpt-4o-mini-2024-07-18"
    assert dpo["method"]["type"] == "dpo"  # type: ignore[index]
    assert dpo["method"]["dpo"]["hyperparameters"]["beta"] == 0.1  # type: ignore[index]
    assert dpo["model"] == sft["fine_tuned_model"]
    assert dpo["metadata"] == {"compilation_id": str(done.id), "stage": "dpo"}
    lines = server.file_contents[str(dpo["training_file"])].splitlines()
    assert len(lines) == 10
    assert all(set(json.loads(raw)) == {"input", "preferred_output", "non_preferred_output"}
               for raw in lines)  # fmt: skip
    # The version answers with the DPO result; both jobs' tokens and cost count.
    assert done.provider_model == dpo["fine_tuned_model"] and done.version_number == 2
    tokens = _tokens(sft) + _tokens(dpo)
    assert done.trained_tokens == tokens
    assert done.actual_cost == cost_of(_tokens(sft), Decimal(PRICE)) + cost_of(
        _tokens(dpo),
        Decimal(PRICE),
    )
    assert done.cost_estimate is not None and done.cost_estimate > checked.estimate.cost
    assert "Then preference training (DPO): 10 preference pairs" in done.build_log
    assert "Started the preference (DPO) job" in done.build_log
    assert catalog.get_model(new_uow(), trainer, model).active_version_number == 2


def _until_the_dpo_stage(new_uow: Uows, compilation_id: int) -> None:
    """Run the steps until the supervised job is done and the DPO stage begins."""
    for _ in range(200):
        compilation.run_next(new_uow(), "test-worker", FAST, compilation_id)
        stats = stored_compilation(new_uow, compilation_id).dataset_stats or {}
        if stats.get("stage") == "dpo":
            return
    raise AssertionError("the DPO stage never began")


def test_a_lost_answer_to_the_dpo_job_creation_still_gives_one_dpo_job(
    new_uow: Uows, trainer: Actor, model: int, server: FakeOpenAI
) -> None:
    requested = compilation.request_compilation(new_uow(), trainer, model, preference=True)
    _until_the_dpo_stage(new_uow, requested.id)
    server.add_fault("POST", r"/fine_tuning/jobs", Fault.drop_after())
    drain(new_uow)
    done = compilation.get_compilation(new_uow(), trainer, requested.id)
    assert done.status == CompilationStatus.SUCCEEDED, done.error
    assert "Could not reach OpenAI" in done.build_log
    methods = [job["method"]["type"] for job in _jobs_of(server, done.id)]  # type: ignore[index]
    assert methods == ["supervised", "dpo"]


def test_a_failed_dpo_job_keeps_the_last_good_version_and_counts_the_supervised_cost(
    new_uow: Uows, trainer: Actor, model: int, server: FakeOpenAI
) -> None:
    requested = compilation.request_compilation(new_uow(), trainer, model, preference=True)
    _until_the_dpo_stage(new_uow, requested.id)
    server.job_script = ["validating_files", "running", "failed"]
    drain(new_uow)
    done = compilation.get_compilation(new_uow(), trainer, requested.id)
    assert done.status == CompilationStatus.FAILED
    assert "failed (invalid_training_file)" in (done.error or "")
    sft, dpo = _jobs_of(server, done.id)
    assert dpo["status"] == "failed" and sft["status"] == "succeeded"
    assert done.trained_tokens == sft["trained_tokens"]
    assert done.actual_cost == cost_of(_tokens(sft), Decimal(PRICE))
    assert catalog.get_model(new_uow(), trainer, model).active_version_number == 1


def test_without_pairs_the_preflight_and_the_compilation_say_so(
    new_uow: Uows, admin: Actor, trainer: Actor, server: FakeOpenAI
) -> None:
    conn = openai_connection(new_uow, admin, server.base_url)
    model_id = make_model(new_uow, admin, "Quill", connection_id=conn)
    add_qas(new_uow, model_id)
    checked = compilation.preflight(new_uow(), trainer, model_id, preference=True)
    assert checked.preference is not None and checked.preference.pairs == 0
    assert "Quill has no preference pairs" in checked.outcome
    assert "or compile supervised only" in checked.outcome
    requested = compilation.request_compilation(new_uow(), trainer, model_id, preference=True)
    drain(new_uow)
    done = compilation.get_compilation(new_uow(), trainer, requested.id)
    assert done.status == CompilationStatus.FAILED and "no preference pairs" in (done.error or "")
    assert _jobs_of(server, done.id) == [] and done.version_number is None


def test_the_local_provider_refuses_dpo_when_asked(
    new_uow: Uows, admin: Actor, trainer: Actor
) -> None:
    model_id = make_model(new_uow, admin, "Desk", connection_id=local_connection(new_uow, admin))
    add_qas(new_uow, model_id)
    add_corrections(new_uow, model_id)
    with pytest.raises(ValidationFailed, match="retrieval index that learns nothing"):
        compilation.request_compilation(new_uow(), trainer, model_id, preference=True)
    checked = compilation.preflight(new_uow(), trainer, model_id, preference=True)
    assert checked.preference is not None and "cannot train on preference" in checked.outcome
