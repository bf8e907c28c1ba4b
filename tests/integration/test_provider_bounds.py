"""A provider client that cannot run away, through the real SDK against the fake OpenAI
server, counting requests: repeating pages, out of credit, rate limits, outages and the
real API's wording for an unknown base model."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest

from core.errors import (
    FineTuningUnavailable,
    ProviderOutOfCredit,
    ProviderRateLimited,
    ProviderUnavailable,
    UnknownBaseModel,
)
from core.providers import limits
from core.providers.base import Hyperparameters, JobRequest
from core.providers.openai_provider import OpenAIProvider
from tests.openai_server import FakeOpenAI, Fault

BASE = "gpt-4o-mini-2024-07-18"
TRAINING = b"".join(
    json.dumps(
        {
            "messages": [
                {"role": "user", "content": f"Q{i}"},
                {"role": "assistant", "content": f"A{i}"},
            ]
        }
    ).encode()
    + b"\n"
    for i in range(12)
)


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(auto_advance=False) as fake:
        yield fake


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def provider(server: FakeOpenAI, waits: list[float]) -> OpenAIProvider:
    return OpenAIProvider(
        server.api_key, server.base_url, timeout=2, sleep=waits.append, rng=random.Random(3)
    )


def _count(server: FakeOpenAI, method: str, suffix: str) -> int:
    with server.lock:
        return sum(1 for m, p in server.requests if m == method and p.endswith(suffix))


def _request(file_id: str, compilation: str = "17", base: str = BASE) -> JobRequest:
    return JobRequest(
        file_id, base, "northwind", Hyperparameters(), {"compilation_id": compilation}
    )


def _job_with_events(server: FakeOpenAI, provider: OpenAIProvider, events: int) -> str:
    job = provider.create_job(_request(provider.upload_training_file("t.jsonl", TRAINING)))
    with server.lock:
        for n in range(events - len(server.events[job.id])):
            server._add_event(job.id, f"Filler event {n}")
    return job.id


def test_a_provider_that_repeats_its_events_page_costs_two_requests(
    server: FakeOpenAI, provider: OpenAIProvider
) -> None:
    job_id = _job_with_events(server, provider, 250)
    server.repeating_lists = {"events"}
    before = _count(server, "GET", "/events")
    events = provider.list_events(job_id)
    assert len(events) == 100  # the one page there was, oldest first
    assert events[-1].message == "Filler event 247"
    assert _count(server, "GET", "/events") - before == 2
    # Since an event that the repeated page never reaches: bounded all the same.
    provider.list_events(job_id, since_id="ftevent-not-on-the-page")
    assert _count(server, "GET", "/events") - before == 4


def test_an_honest_provider_pages_through_every_event(
    server: FakeOpenAI, provider: OpenAIProvider
) -> None:
    job_id = _job_with_events(server, provider, 250)
    events = provider.list_events(job_id)
    assert len(events) == 250 and len({e.id for e in events}) == 250
    assert _count(server, "GET", "/events") == 3
    newer = provider.list_events(job_id, since_id=events[-3].id)
    assert [e.id for e in newer] == [e.id for e in events[-2:]]
    assert _count(server, "GET", "/events") == 4


@pytest.mark.parametrize("kind", ["jobs", "checkpoints"])
def test_repeating_job_and_checkpoint_lists_are_bounded_too(
    server: FakeOpenAI, provider: OpenAIProvider, kind: str
) -> None:
    file_id = provider.upload_training_file("t.jsonl", TRAINING)
    jobs = [provider.create_job(_request(file_id, str(n))) for n in range(3)]
    server.advance(jobs[0].id, 4)
    server.repeating_lists = {kind}
    if kind == "jobs":
        assert provider.find_job({"compilation_id": "nobody"}) is None
        assert _count(server, "GET", "/fine_tuning/jobs") == 2
    else:
        assert provider.list_checkpoints(jobs[0].id)
        assert _count(server, "GET", "/checkpoints") == 2


def test_out_of_credit_fails_at_the_first_answer(
    server: FakeOpenAI, provider: OpenAIProvider, waits: list[float]
) -> None:
    file_id = provider.upload_training_file("t.jsonl", TRAINING)
    server.add_fault("POST", "/fine_tuning/jobs", Fault.quota_exceeded(), times=-1)
    with pytest.raises(ProviderOutOfCredit, match="out of credit") as caught:
        provider.create_job(_request(file_id))
    assert not isinstance(caught.value, ProviderUnavailable)  # the engine does not retry it
    assert _count(server, "POST", "/fine_tuning/jobs") == 1
    # A read is not retried either, although reads are.
    server.add_fault("GET", "/fine_tuning/jobs/[^/]+", Fault.quota_exceeded(), times=-1)
    with pytest.raises(ProviderOutOfCredit):
        provider.get_job("ftjob-any")
    assert _count(server, "GET", "/fine_tuning/jobs/ftjob-any") == 1
    assert waits == []


def test_a_short_rate_limit_is_waited_out_honouring_retry_after(
    server: FakeOpenAI, provider: OpenAIProvider, waits: list[float]
) -> None:
    job = provider.create_job(_request(provider.upload_training_file("t.jsonl", TRAINING)))
    server.add_fault("GET", "/fine_tuning/jobs/[^/]+", Fault.rate_limit(3), times=2)
    assert provider.get_job(job.id).id == job.id
    assert _count(server, "GET", f"/jobs/{job.id}") == 3
    assert waits == [3.0, 3.0]  # Retry-After, longer than the jittered backoff


def test_a_long_rate_limit_goes_back_to_the_engine_at_once(
    server: FakeOpenAI, provider: OpenAIProvider, waits: list[float]
) -> None:
    long = limits.MAX_RETRY_AFTER_IN_CALL + 40
    server.add_fault("GET", "/fine_tuning/jobs/[^/]+", Fault.rate_limit(long), times=-1)
    with pytest.raises(ProviderRateLimited) as caught:
        provider.get_job("ftjob-any")
    assert caught.value.retry_after == long
    assert _count(server, "GET", "/jobs/ftjob-any") == 1 and waits == []


def test_an_outage_is_retried_a_bounded_number_of_times(
    server: FakeOpenAI, provider: OpenAIProvider, waits: list[float]
) -> None:
    server.add_fault("GET", "/fine_tuning/jobs/[^/]+/events", Fault.server_error(503), times=-1)
    with pytest.raises(ProviderUnavailable, match="server error"):
        provider.list_events("ftjob-any")
    assert _count(server, "GET", "/events") == limits.READ_ATTEMPTS
    assert len(waits) == limits.READ_ATTEMPTS - 1
    assert all(0 < w <= limits.MAX_WAIT for w in waits)


def test_not_available_for_fine_tuning_or_does_not_exist_is_an_unknown_base_model(
    server: FakeOpenAI, provider: OpenAIProvider
) -> None:
    file_id = provider.upload_training_file("t.jsonl", TRAINING)
    server.add_fault("POST", "/fine_tuning/jobs", Fault.model_not_fine_tunable())
    with pytest.raises(UnknownBaseModel, match="gpt-4o-mini-2024-07-19 is not available") as caught:
        provider.create_job(_request(file_id, base="gpt-4o-mini-2024-07-19"))
    assert "winding down" not in caught.value.message
    # The wind-down itself keeps its own meaning.
    server.add_fault("POST", "/fine_tuning/jobs", Fault.fine_tuning_unavailable())
    with pytest.raises(FineTuningUnavailable, match="winding down"):
        provider.create_job(_request(file_id))
