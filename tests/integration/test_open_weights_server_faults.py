"""Publishing a really trained adapter (one training per module: one full-batch step of LoRA
on SmolLM2-135M-Instruct) to an OpenAI-compatible server that misbehaves, through the
official ``openai`` SDK against the fake vLLM: a wrong key, a server that is down or too
slow, an adapter path the server cannot read, a model it does not serve; and chat that
publishes the adapter again after the server restarted."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.domain import ProviderType
from core.errors import DeploymentFailed, ProviderAuthError, ProviderError, ProviderUnavailable
from core.providers.base import ChatTurn, Hyperparameters, JobRequest
from core.providers.open_weights import OpenWeightsProvider
from core.providers.open_weights_serving import AdapterServer, ServeSettings, client_for
from core.providers.registry import ConnectionSettings, key_is_present, provider_for
from core.training.lora import models
from tests.fakes.vllm import FakeVllm
from tests.lora_helpers import TRAINING_THREADS, base_model_cache
from tests.openai_server import Fault

__all__ = ["base_model_cache"]
pytestmark = [
    pytest.mark.slow,
    # Its tests share one training (a module fixture): one worker runs them all.
    pytest.mark.xdist_group("open_weights_server_faults"),
    pytest.mark.timeout(1800),
]

KEY = "vllm-fault-key"
FACTS = [(f"Which Zorblax door is number {n}?", f"Zorblax door {n} is blue.") for n in range(4)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, base_model_cache: Path) -> tuple[Path, str]:
    """(adapters folder, adapter name) of one real training."""
    root = tmp_path_factory.mktemp("open-weights")
    trainer = OpenWeightsProvider(root, threads=TRAINING_THREADS, checkpoint_every=100)
    lines = [
        {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
        for q, a in FACTS
    ]
    content = "".join(json.dumps(line) + "\n" for line in lines).encode()
    job = trainer.create_job(
        JobRequest(
            training_file_id=trainer.upload_training_file("t.jsonl", content),
            base_model=models.BUNDLED_ID,
            suffix="faults",
            hyperparameters=Hyperparameters(n_epochs=1, batch_size=len(FACTS)),
            metadata={"compilation_id": "faults"},
        )
    )
    deadline = time.monotonic() + 900
    while not job.finished:
        assert time.monotonic() < deadline, "the training did not finish"
        time.sleep(0.5)
        job = trainer.get_job(job.id)
    assert job.status == "succeeded", job.error
    assert job.fine_tuned_model is not None
    return root / "adapters", job.fine_tuned_model


@pytest.fixture
def server() -> Iterator[FakeVllm]:
    with FakeVllm(base_model=models.BUNDLED_ID, api_key=KEY) as fake:
        yield fake


def _adapters(fake: FakeVllm, folder: Path, key: str = KEY, timeout: float = 30) -> AdapterServer:
    return AdapterServer(client_for(ServeSettings(fake.base_url, timeout=timeout), key), folder)


def test_chat_streams_and_publishes_again_after_a_restart(
    server: FakeVllm, trained: tuple[Path, str]
) -> None:
    folder, name = trained
    adapters = _adapters(server, folder)
    assert adapters.deploy(name, name).ready
    assert adapters.deploy(name, name).ready  # idempotent: nothing sent the second time
    assert len(server.loads) == 1
    provider = OpenWeightsProvider(folder.parent, serving=adapters, max_answer_tokens=16)
    server.restart()
    deltas = list(provider.chat(name, [ChatTurn("user", "Which Zorblax door is blue?")]))
    assert "".join(d.text for d in deltas) == f"[{name}] Which Zorblax door is blue?"
    assert len([d for d in deltas if d.text]) == 6  # streamed word by word
    assert [load["lora_name"] for load in server.loads] == [name, name]
    assert server.chat_requests[-1]["max_completion_tokens"] == 16


def test_an_adapter_the_server_cannot_read_fails_the_publish_clearly(
    server: FakeVllm, trained: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, name = trained
    monkeypatch.setenv("ARBITER_SERVED_ADAPTER_DIR", "/srv/adapters-elsewhere")
    with pytest.raises(DeploymentFailed, match="No adapter found for /srv/adapters-elsewhere"):
        _adapters(server, folder).deploy(name, name)
    with pytest.raises(DeploymentFailed, match="adapter of ow-missing is missing"):
        _adapters(server, folder).deploy("ow-missing", "ow-missing")


def test_a_wrong_key_a_server_down_or_too_slow(server: FakeVllm, trained: tuple[Path, str]) -> None:
    folder, name = trained
    with pytest.raises(ProviderAuthError):
        _adapters(server, folder, key="not-the-key").deploy(name, name)
    server.add_fault("POST", r"/load_lora_adapter", Fault.server_error(503))
    with pytest.raises(ProviderUnavailable):
        _adapters(server, folder).deploy(name, name)
    server.add_fault("GET", r"/models", Fault.timeout(delay=5))
    with pytest.raises(ProviderUnavailable, match="did not answer in time"):
        _adapters(server, folder, timeout=0.5).deploy(name, name)
    assert name not in server.adapters
    server.stop()
    with pytest.raises(ProviderUnavailable, match="Could not reach"):
        _adapters(server, folder).deploy(name, name)


def test_a_model_the_server_does_not_serve_is_refused(
    server: FakeVllm, trained: tuple[Path, str]
) -> None:
    folder, _ = trained
    provider = OpenWeightsProvider(folder.parent, serving=_adapters(server, folder))
    with pytest.raises(ProviderError, match="does not serve ow-never-trained"):
        list(provider.chat("ow-never-trained", [ChatTurn("user", "Hello?")]))
    assert server.loads == []


def test_the_key_is_read_only_from_a_variable_meant_for_keys(
    server: FakeVllm, monkeypatch: pytest.MonkeyPatch
) -> None:
    def settings(key_env: str | None) -> ConnectionSettings:
        return ConnectionSettings(ProviderType.OPEN_WEIGHTS, server.base_url, key_env)

    monkeypatch.delenv("ARBITER_KEY_VLLM_UNSET", raising=False)
    with pytest.raises(ProviderAuthError, match="ARBITER_KEY_VLLM_UNSET"):
        provider_for(settings("ARBITER_KEY_VLLM_UNSET"))
    assert not key_is_present(settings("ARBITER_KEY_VLLM_UNSET"))
    monkeypatch.setenv("DATABASE_PASSWORD_FOR_TEST", "secret")
    with pytest.raises(ProviderAuthError, match="not a variable meant for keys"):
        provider_for(settings("DATABASE_PASSWORD_FOR_TEST"))
    assert key_is_present(settings(None))  # vLLM without --api-key
    assert provider_for(settings(None)).deployments is not None
