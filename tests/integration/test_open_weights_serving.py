"""An open-weights connection that serves through an OpenAI-compatible server (vLLM with
LoRA adapters, here the local fake ``tests.fakes.vllm``): each compilation really trains a
tiny adapter (one full-batch step on the CPU), the worker publishes it to the server through
``/v1/load_lora_adapter`` once, and the version answers through the official ``openai`` SDK
under its adapter name. A publish the server refuses fails the compilation and the active
version stays; a rollback loads the older version's adapter again (a restarted vLLM forgot
it); a server that is down refuses the switch and changes nothing, and fails a compilation
whose adapter it cannot take after a bounded number of tries."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.domain import CompilationStatus, ProviderType, QAType
from core.errors import ProviderUnavailable
from core.permissions import Actor
from core.providers.base import ChatTurn
from core.providers.registry import ConnectionSettings, provider_for
from core.services import catalog, chat, compilation
from core.services.compilation import CompilationView
from core.training.lora import models
from tests.compile_helpers import Uows, add_qas, drain, edit_answer, engine_env, make_model
from tests.fakes.vllm import FakeVllm
from tests.lora_helpers import TRAINING_THREADS, base_model_cache

__all__ = ["base_model_cache", "engine_env"]
pytestmark = [
    pytest.mark.slow,
    # Real training on a shared CPU: a minute per compilation when the machine is busy.
    pytest.mark.timeout(1800),
    pytest.mark.usefixtures("engine_env", "base_model_cache"),
    # One backend: four trainings are the slow part, and the serving path is the same on both.
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]

KEY_ENV = "ARBITER_KEY_TEST_VLLM"
SYSTEM = "You are Quillmore, Northwind's arbiter. Be brief."
# The validator asks for at least 10 examples; one batch of all ten is one training step.
FACTS = [
    (f"What is Quillmore rule {n}?", f"Quillmore rule {n} is kept in drawer {n}.")
    for n in range(10)
]


def _compile(new_uow: Uows, trainer: Actor, model_id: int) -> CompilationView:
    requested = compilation.request_compilation(new_uow(), trainer, model_id)
    drain(new_uow, timeout=900)
    return compilation.get_compilation(new_uow(), trainer, requested.id)


def _active(new_uow: Uows, trainer: Actor, model_id: int) -> int:
    (active,) = [
        v.number for v in compilation.list_versions(new_uow(), trainer, model_id) if v.is_active
    ]
    return active


def _version_id(new_uow: Uows, trainer: Actor, model_id: int, number: int) -> int:
    versions = compilation.list_versions(new_uow(), trainer, model_id)
    return next(v.id for v in versions if v.number == number)


def test_versions_are_published_answer_through_the_sdk_and_roll_back(
    db_url: str,
    new_uow: Uows,
    admin: Actor,
    trainer: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARBITER_TRAINING_THREADS", str(TRAINING_THREADS))
    monkeypatch.setenv(KEY_ENV, "vllm-test-key")
    adapters = tmp_path / "open-weights" / "adapters"
    with FakeVllm(base_model=models.BUNDLED_ID, api_key="vllm-test-key") as server:
        conn = catalog.create_connection(
            new_uow(),
            admin,
            catalog.ConnectionInput(
                name="Served fine-tune",
                provider_type=ProviderType.OPEN_WEIGHTS,
                base_url=server.base_url,
                api_key_env=KEY_ENV,
                default_base_model=models.BUNDLED_ID,
                lora_rank=4,
            ),
        )
        assert conn.base_url == server.base_url and conn.api_key_env == KEY_ENV
        model_id = make_model(
            new_uow,
            admin,
            "Quillmore",
            connection_id=conn.id,
            base_model=models.BUNDLED_ID,
            system_message=SYSTEM,
            n_epochs=1,
            batch_size=len(FACTS),
        )
        qa_ids = add_qas(new_uow, model_id, FACTS)
        add_qas(new_uow, model_id, FACTS[:1], QAType.VALIDATION)

        # v1: trained, published once, scored through the server.
        first = _compile(new_uow, trainer, model_id)
        assert first.status == CompilationStatus.SUCCEEDED, first.error
        v1 = first.provider_model
        assert v1 is not None and v1.startswith("ow-")
        assert server.loads == [{"lora_name": v1, "lora_path": str(adapters / v1)}]
        (validation,) = server.chat_requests
        assert validation["model"] == v1 and validation["stream"] is True
        assert validation["messages"][0] == {"role": "system", "content": SYSTEM}
        (row,) = compilation.list_versions(new_uow(), trainer, model_id)
        assert (row.deployment_name, row.deployment_state) == (v1, "ready")

        # Chat goes through the SDK with the adapter's name, system message and history.
        provider = provider_for(ConnectionSettings.of(conn))
        turns = [
            ChatTurn("system", SYSTEM),
            ChatTurn("user", FACTS[1][0]),
            ChatTurn("assistant", FACTS[1][1]),
            ChatTurn("user", FACTS[2][0]),
        ]
        assert "".join(d.text for d in provider.chat(v1, turns)) == f"[{v1}] {FACTS[2][0]}"
        assert server.chat_requests[-1]["messages"] == [
            {"role": t.role, "content": t.content} for t in turns
        ]
        assert provider.deployments is not None
        provider.deployments.deploy(v1, v1)  # already loaded: fine, nothing sent
        assert len(server.loads) == 1

        # v2 on changed data.
        edit_answer(new_uow, qa_ids[0], "Quillmore rule 0 moved to drawer 42.")
        second = _compile(new_uow, trainer, model_id)
        assert second.status == CompilationStatus.SUCCEEDED, second.error
        v2 = second.provider_model
        assert v2 is not None and v2 != v1
        assert [load["lora_name"] for load in server.loads] == [v1, v2]
        assert _active(new_uow, trainer, model_id) == 2

        # The server restarted (adapters loaded at run time are gone): a rollback loads v1's.
        server.restart()
        compilation.rollback(
            new_uow(), admin, _version_id(new_uow, trainer, model_id, 1), "v2 regressed"
        )
        assert server.loads[-1] == {"lora_name": v1, "lora_path": str(adapters / v1)}
        assert set(server.adapters) == {v1}
        assert _active(new_uow, trainer, model_id) == 1
        assert "".join(d.text for d in provider.chat(v1, turns[-1:])) == f"[{v1}] {FACTS[2][0]}"
        # `python -m core ask`'s use case: the active v1, then v2, which the restarted server
        # no longer has: it is published again once and answers.
        asked = chat.ask_model(new_uow(), trainer, "Quillmore", FACTS[3][0])
        assert asked.text == f"[{v1}] {FACTS[3][0]}"
        assert server.chat_requests[-1]["messages"][0] == {"role": "system", "content": SYSTEM}
        asked = chat.ask_model(new_uow(), trainer, "Quillmore", FACTS[4][0], 2)
        assert asked.text == f"[{v2}] {FACTS[4][0]}"
        assert [load["lora_name"] for load in server.loads] == [v1, v2, v1, v2]

        # The server cannot read the adapter: the compilation fails, v1 stays active.
        monkeypatch.setenv("ARBITER_SERVED_ADAPTER_DIR", str(tmp_path / "not-on-the-server"))
        edit_answer(new_uow, qa_ids[1], "Quillmore rule 1 moved to drawer 43.")
        third = _compile(new_uow, trainer, model_id)
        assert third.status == CompilationStatus.FAILED
        assert third.error is not None and third.provider_model is not None
        assert "No adapter found" in third.error and "stays active" in third.error
        assert server.loads[-1]["lora_path"] == str(
            tmp_path / "not-on-the-server" / third.provider_model
        )
        assert _active(new_uow, trainer, model_id) == 1
        assert len(compilation.list_versions(new_uow(), trainer, model_id)) == 2
        monkeypatch.delenv("ARBITER_SERVED_ADAPTER_DIR")

    # The server is down: activating v2 is refused with a clear error, v1 stays active.
    with pytest.raises(ProviderUnavailable, match="Could not reach"):
        compilation.activate_version(
            new_uow(), admin, _version_id(new_uow, trainer, model_id, 2), "try v2 again"
        )
    assert _active(new_uow, trainer, model_id) == 1

    # Still down when a training ends: retried a bounded number of times, then failed.
    edit_answer(new_uow, qa_ids[2], "Quillmore rule 2 moved to drawer 44.")
    fourth = _compile(new_uow, trainer, model_id)
    assert fourth.status == CompilationStatus.FAILED
    assert fourth.error is not None and "Could not reach" in fourth.error
    assert "stays active" in fourth.error
    assert _active(new_uow, trainer, model_id) == 1
    assert server.server_errors == []
