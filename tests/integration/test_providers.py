"""Both providers' fine-tuning lifecycle: the OpenAI provider through the real SDK against
the fake OpenAI server, the local provider on disk."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from core.domain import ProviderType
from core.errors import (
    FineTuningUnavailable,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
    UnknownBaseModel,
)
from core.providers import local
from core.providers.base import ChatTurn, Hyperparameters, JobRequest
from core.providers.local import LOCAL_BASE_MODEL, LocalProvider
from core.providers.local_index import build_index, entries_from_jsonl, load_index
from core.providers.openai_provider import OpenAIProvider
from core.providers.registry import ConnectionSettings, provider_for
from tests.openai_server import FakeOpenAI, Fault


def _training(n: int = 12) -> bytes:
    lines = [
        json.dumps(
            {
                "messages": [
                    {"role": "system", "content": "You are Northwind's arbiter."},
                    {"role": "user", "content": f"How many days does delivery {i + 10} take?"},
                    {
                        "role": "assistant",
                        "content": f"Delivery {i + 10} takes {i + 1} working days.",
                    },
                ]
            }
        )
        for i in range(n)
    ]
    lines.append(
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": "Can I return a broken relay?"},
                    {"role": "assistant", "content": "Yes: within 30 days, with the order number."},
                ]
            }
        )
    )
    return ("\n".join(lines) + "\n").encode()


def _request(file_id: str, base: str, compilation: str = "17") -> JobRequest:
    return JobRequest(
        training_file_id=file_id,
        base_model=base,
        suffix="northwind-support-" + "x" * 80,
        hyperparameters=Hyperparameters(n_epochs=2),
        metadata={"compilation_id": compilation},
    )


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(auto_advance=False) as fake:
        yield fake


@pytest.fixture
def openai_provider(server: FakeOpenAI) -> OpenAIProvider:
    return OpenAIProvider(server.api_key, server.base_url, timeout=2)


def test_openai_lifecycle(server: FakeOpenAI, openai_provider: OpenAIProvider) -> None:
    provider = openai_provider
    file_id = provider.upload_training_file("training.jsonl", _training())
    assert server.files[file_id]["purpose"] == "fine-tune"
    job = provider.create_job(_request(file_id, "gpt-4o-mini-2024-07-18"))
    sent = json.loads(next(r.body for r in server.request_log if r.path.endswith("/jobs")))
    assert sent["method"] == {
        "type": "supervised",
        "supervised": {
            "hyperparameters": {
                "n_epochs": 2,
                "batch_size": "auto",
                "learning_rate_multiplier": "auto",
            }
        },
    }
    assert len(sent["suffix"]) == 64 and sent["metadata"] == {"compilation_id": "17"}
    assert provider.find_job({"compilation_id": "17"}) == job
    assert provider.find_job({"compilation_id": "18"}) is None
    first = provider.list_events(job.id)
    assert first and first[0].message.startswith("Created fine-tuning job")
    server.advance(job.id, 3)
    running = provider.get_job(job.id)
    assert running.status == "running" and not running.finished
    newer = provider.list_events(job.id, since_id=first[-1].id)
    assert newer and all(e.id not in {f.id for f in first} for e in newer)
    assert any(e.event_type == "metrics" for e in newer)
    server.advance(job.id, 10)
    done = provider.get_job(job.id)
    assert done.finished and done.status == "succeeded"
    assert done.fine_tuned_model and done.fine_tuned_model.startswith("ft:gpt-4o-mini")
    assert done.trained_tokens and done.n_epochs == 2
    checkpoints = provider.list_checkpoints(job.id)
    assert checkpoints and "train_loss" in checkpoints[-1].metrics
    assert [c.step for c in checkpoints] == sorted(c.step for c in checkpoints)
    answer = "".join(d.text for d in provider.chat(done.fine_tuned_model, [ChatTurn("user", "Hi")]))
    assert answer == f"[{done.fine_tuned_model}] Hi"


def test_openai_cancel(server: FakeOpenAI, openai_provider: OpenAIProvider) -> None:
    file_id = openai_provider.upload_training_file("t.jsonl", _training())
    job = openai_provider.create_job(_request(file_id, "gpt-4o-mini-2024-07-18"))
    assert openai_provider.cancel_job(job.id).status == "cancelled"
    with pytest.raises(ProviderError, match="already finished"):
        openai_provider.cancel_job(job.id)


def test_openai_base_models_with_shutdown_dates(openai_provider: OpenAIProvider) -> None:
    models = {m.id: m for m in openai_provider.list_base_models()}
    assert models["gpt-4o-mini-2024-07-18"].shutdown_date == date(2027, 3, 31)
    assert models["gpt-4o-mini-2024-07-18"].fine_tunable


@pytest.mark.parametrize(
    ("fault", "error", "text"),
    [
        (Fault.invalid_api_key(), ProviderAuthError, "refused the API key"),
        (Fault.rate_limit(3), ProviderRateLimited, "rate-limiting"),
        (Fault.server_error(500), ProviderUnavailable, "server error"),
        (Fault.drop_before(), ProviderUnavailable, "Could not reach"),
        (Fault.model_not_found(), UnknownBaseModel, "does not know the model"),
        (Fault.fine_tuning_unavailable(), FineTuningUnavailable, "not available"),
        (Fault.fine_tuning_unavailable(403), FineTuningUnavailable, "winding down"),
    ],
)
def test_openai_errors_become_domain_errors(
    server: FakeOpenAI, openai_provider: OpenAIProvider, fault: Fault, error: type, text: str
) -> None:
    file_id = openai_provider.upload_training_file("t.jsonl", _training())
    server.add_fault("POST", r"/fine_tuning/jobs", fault)
    with pytest.raises(error, match=text) as caught:
        openai_provider.create_job(_request(file_id, "gpt-4o-mini-2024-07-18"))
    if isinstance(caught.value, ProviderRateLimited):
        assert caught.value.retry_after == 3
    assert server.pending_faults == 0
    # Job creation is never retried by the SDK: one request, whatever the fault.
    assert sum(1 for m, p in server.requests if m == "POST" and p.endswith("/jobs")) == 1


def test_openai_timeout_is_provider_unavailable(server: FakeOpenAI) -> None:
    provider = OpenAIProvider(server.api_key, server.base_url, timeout=0.3)
    server.add_fault("GET", r"/fine_tuning/jobs", Fault.timeout(1.0), times=3)
    with pytest.raises(ProviderUnavailable, match="did not answer in time"):
        provider.find_job({"compilation_id": "1"})


def test_openai_job_reads_are_retried_by_the_sdk(
    server: FakeOpenAI, openai_provider: OpenAIProvider
) -> None:
    file_id = openai_provider.upload_training_file("t.jsonl", _training())
    job = openai_provider.create_job(_request(file_id, "gpt-4o-mini-2024-07-18"))
    server.add_fault("GET", r"/fine_tuning/jobs/[^/]+", Fault.server_error(503))
    assert openai_provider.get_job(job.id).id == job.id
    assert server.pending_faults == 0


def test_openai_without_key_says_which_variable() -> None:
    with pytest.raises(ProviderAuthError, match="MY_KEY"):
        OpenAIProvider(None, key_env="MY_KEY")


def test_local_lifecycle_survives_a_restart(tmp_path: Path) -> None:
    provider = LocalProvider(tmp_path)
    file_id = provider.upload_training_file("t.jsonl", _training())
    assert provider.upload_training_file("t.jsonl", _training()) == file_id
    job = provider.create_job(_request(file_id, LOCAL_BASE_MODEL))
    assert job.status == "queued"
    # Another process (a restarted worker) finds the job by its metadata and finishes it.
    again = LocalProvider(tmp_path)
    assert again.find_job({"compilation_id": "17"}) == job
    assert again.find_job({"compilation_id": "99"}) is None
    done = again.get_job(job.id)
    assert done.status == "succeeded" and done.fine_tuned_model
    messages = [e.message for e in again.list_events(job.id)]
    assert "Indexed 13 examples as 13 answers" in messages
    assert any(m.startswith("Self-check: 100%") for m in messages)
    first_two = again.list_events(job.id)[:2]
    assert [e.message for e in again.list_events(job.id, first_two[-1].id)] == messages[2:]
    assert again.list_checkpoints(job.id)[0].metrics["self_check_accuracy"] == 1.0
    # A third process answers from the stored index.
    deltas = list(
        LocalProvider(tmp_path).chat(
            done.fine_tuned_model, [ChatTurn("user", "can I return a broken relay")]
        )
    )
    assert "".join(d.text for d in deltas) == "Yes: within 30 days, with the order number."
    assert deltas[-1].meta and deltas[-1].meta["example_line"] == 13
    # A question that shares only "what is the" with the nearest example: it does not know.
    unrelated = list(
        LocalProvider(tmp_path).chat(
            done.fine_tuned_model, [ChatTurn("user", "What is the weather in Paris tomorrow?")]
        )
    )
    assert "".join(d.text for d in unrelated).startswith("I don't know that yet")


def test_local_cancel_and_errors(tmp_path: Path) -> None:
    provider = LocalProvider(tmp_path)
    file_id = provider.upload_training_file("t.jsonl", _training())
    job = provider.create_job(_request(file_id, LOCAL_BASE_MODEL))
    assert provider.cancel_job(job.id).status == "cancelled"
    assert provider.get_job(job.id).status == "cancelled"
    with pytest.raises(ProviderError, match="already cancelled"):
        provider.cancel_job(job.id)
    with pytest.raises(UnknownBaseModel, match="local-retrieval-1"):
        provider.create_job(_request(file_id, "gpt-4o-mini"))
    with pytest.raises(ProviderError, match="was not uploaded"):
        provider.create_job(_request("file-local-missing", LOCAL_BASE_MODEL))


def test_a_local_job_whose_indexing_was_interrupted_is_indexed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = LocalProvider(tmp_path)
    job = provider.create_job(
        _request(provider.upload_training_file("t.jsonl", _training()), LOCAL_BASE_MODEL)
    )

    def killed(*_: object) -> int:
        raise KeyboardInterrupt  # stands for the SIGKILL of the worker while it indexes

    monkeypatch.setattr(local, "build_index", killed)
    with pytest.raises(KeyboardInterrupt):
        provider.get_job(job.id)
    assert provider.find_job({"compilation_id": "17"}) == replace(job, status="running")
    monkeypatch.undo()
    # The worker that takes the compilation over reads the job, which then finishes.
    done = LocalProvider(tmp_path).get_job(job.id)
    assert done.status == "succeeded" and done.fine_tuned_model
    messages = [e.message for e in provider.list_events(job.id)]
    assert "Indexing the training examples again: the earlier indexing was interrupted" in messages
    deltas = provider.chat(done.fine_tuned_model, [ChatTurn("user", "return a broken relay?")])
    assert "".join(d.text for d in deltas) == "Yes: within 30 days, with the order number."


def test_an_index_published_twice_at_once_stays_whole(tmp_path: Path) -> None:
    """A worker that lost its lease may still be indexing when its successor indexes the same
    job: both publish, and the index is one of the two, complete."""
    entries = entries_from_jsonl(_training())
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def build() -> None:
        barrier.wait()
        try:
            build_index(tmp_path, "local:twice:1", entries)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["local_twice_1"]
    index = load_index(tmp_path, "local:twice:1")
    assert index is not None and len(index.entries) == len(entries)


def test_an_openai_client_is_built_once_per_endpoint_and_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = ConnectionSettings(ProviderType.OPENAI, "http://127.0.0.1:9/v1", "ARBITER_KEY_A")
    monkeypatch.setenv("ARBITER_KEY_A", "sk-one")
    first = provider_for(settings)
    assert provider_for(settings) is first
    monkeypatch.setenv("ARBITER_KEY_A", "sk-two")
    second = provider_for(settings)
    assert second is not first
    assert isinstance(second, OpenAIProvider) and second.client.api_key == "sk-two"
    monkeypatch.delenv("ARBITER_KEY_A")
    with pytest.raises(ProviderAuthError, match="ARBITER_KEY_A"):
        provider_for(settings)
