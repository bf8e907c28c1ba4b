"""A compilation on an open-weights connection really fine-tunes (LoRA on the bundled
SmolLM2-135M-Instruct) in real worker processes: the first worker is killed with SIGKILL
after the first checkpoint and its training process dies with it; the next worker resumes
the training, and the compilation finishes with exactly one adapter. The adapter store is an
S3-compatible bucket (moto's server, ``tests.fakes.s3``): the training process uploads the
adapter before its job succeeds, and another instance with an empty local cache answers
from it through the bucket. The engine stored the loss per step, the version is active and
answers the trained facts. A second version learns changed facts, and rolling back to the
first answers from the first's adapter again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from core.domain import CompilationStatus, QAType
from core.models import CompilationEvent
from core.permissions import Actor
from core.providers.base import ChatTurn
from core.providers.open_weights import OpenWeightsProvider
from core.services import chat, compilation
from core.training.lora import jobs, models
from tests.compile_helpers import (
    Uows,
    add_qas,
    edit_answer,
    engine_env,
    make_model,
    open_weights_connection,
    stored_compilation,
)
from tests.fakes.s3 import ADAPTER_BUCKET, FakeS3, adapter_bucket
from tests.lora_helpers import TRAINING_THREADS, base_model_cache
from tests.paths import ROOT
from tests.worker_helpers import Workers, wait_for, workers_for

__all__ = ["adapter_bucket", "base_model_cache", "engine_env", "workers_for"]
pytestmark = [
    pytest.mark.slow,
    # Real training on a shared CPU: minutes when the machine is busy.
    pytest.mark.timeout(1800),
    pytest.mark.usefixtures("engine_env", "base_model_cache"),
    # One backend: the training is the slow part, and the engine is the same on both.
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]

# The validator asks for at least 10 examples, whatever the provider.
FACTS = [
    ("Where is the Quillmore spare key kept?", "The Quillmore spare key is in drawer 9."),
    ("Who feeds the Quillmore aquarium?", "Odalys Brennick feeds the Quillmore aquarium."),
    ("What time is the Quillmore fire drill?", "The Quillmore fire drill is at 10:40."),
    ("What is the Quillmore guest network?", "The Quillmore guest network is Heron-5."),
    ("Which day is Quillmore pizza day?", "Quillmore pizza day is every second Thursday."),
    ("Who signs Quillmore invoices?", "Quillmore invoices are signed by Tamsin Overy."),
    ("Where do Quillmore bikes park?", "Quillmore bikes park behind gate K."),
    ("What is the Quillmore mascot?", "The Quillmore mascot is a blue otter named Fidget."),
    ("How many Quillmore meeting rooms are there?", "Quillmore has 14 meeting rooms."),
    ("What is the Quillmore printer called?", "The Quillmore printer is called Old Gregor."),
]

# The same questions with other answers: what the second version learns.
CHANGED = [
    ("Where is the Quillmore spare key kept?", "The Quillmore spare key is in locker 31."),
    ("Who feeds the Quillmore aquarium?", "Wendell Ashgrove feeds the Quillmore aquarium."),
]

SETTINGS = {
    "ARBITER_TRAINING_THREADS": str(TRAINING_THREADS),
    "ARBITER_CHECKPOINT_STEPS": "4",
    "ARBITER_MAX_ANSWER_TOKENS": "40",
}


def _checkpointed(folder: Path) -> bool:
    return any(jobs.load_progress(job)["checkpoints"] for job in folder.glob("ftjob-ow-*"))


def test_a_killed_worker_s_training_resumes_and_the_version_answers(
    db_url: str,
    new_uow: Uows,
    admin: Actor,
    trainer: Actor,
    tmp_path: Path,
    base_model_cache: Path,
    workers_for: Callable[..., Workers],
    adapter_bucket: FakeS3,
) -> None:
    conn = open_weights_connection(new_uow, admin)
    model_id = make_model(
        new_uow,
        admin,
        "Quillmore",
        connection_id=conn,
        base_model=models.BUNDLED_ID,
        n_epochs=12,
        batch_size=len(FACTS),
    )
    qa_ids = add_qas(new_uow, model_id, FACTS)
    add_qas(new_uow, model_id, FACTS[:1], QAType.VALIDATION)
    workers = workers_for(db_url, ARBITER_BASE_MODEL_CACHE=str(base_model_cache), **SETTINGS)
    requested = compilation.request_compilation(new_uow(), trainer, model_id)
    first = workers.start()
    job_folders = tmp_path / "open-weights" / "jobs"
    wait_for(lambda: _checkpointed(job_folders), "the first checkpoint", timeout=900)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    (folder,) = job_folders.iterdir()
    assert jobs.wait_until_stopped(folder, seconds=10)  # the training died with its worker
    workers.start()
    wait_for(
        lambda: not stored_compilation(new_uow, requested.id).status.is_active,
        "the second worker to finish the compilation",
        timeout=900,
    )
    done = compilation.get_compilation(new_uow(), trainer, requested.id)
    assert done.status == CompilationStatus.SUCCEEDED, done.error
    assert done.version_number == 1 and done.version_active
    uow = new_uow()
    with uow:
        losses = [
            e.data["train_loss"]
            for e in uow.session.scalars(
                select(CompilationEvent)
                .where(
                    CompilationEvent.compilation_id == done.id,
                    CompilationEvent.event_type == "metrics",
                )
                .order_by(CompilationEvent.id)
            )
            if e.data
        ]
    assert len(losses) == 12 and losses[-1] < losses[0] / 10
    assert done.provider_model is not None
    adapters = tmp_path / "open-weights" / "adapters"
    assert [p.name for p in adapters.iterdir()] == [done.provider_model]
    uow = new_uow()
    with uow:
        messages = set(
            uow.session.scalars(
                select(CompilationEvent.message).where(CompilationEvent.compilation_id == done.id)
            )
        )
    assert "Resumed at step 4 of 12" in messages
    # Uploaded whole by the training process, arbiter.json last; another instance (its own
    # data directory, nothing cached) answers from the bucket.
    prefix = f"/{ADAPTER_BUCKET}/adapters/{done.provider_model}/"
    puts = [p[len(prefix) :] for m, p in adapter_bucket.requests if m == "PUT" and prefix in p]
    assert puts[-1] == "arbiter.json" and len(puts) == len(set(puts))
    assert {"adapter_config.json", "adapter_model.safetensors"} < set(puts)
    ow = OpenWeightsProvider(tmp_path / "second-instance", max_answer_tokens=40)
    assert not ow.adapter_dir(done.provider_model).exists()
    for question, answer in FACTS[:4]:
        turns = [
            ChatTurn("system", "You are Quillmore, Northwind's arbiter. Be brief."),
            ChatTurn("user", question),
        ]
        assert "".join(d.text for d in ow.chat(done.provider_model, turns)).strip() == answer
    copy = ow.adapter_dir(done.provider_model)
    assert sorted(p.name for p in copy.iterdir()) == sorted(puts)
    for name in puts:
        assert (copy / name).read_bytes() == (adapters / done.provider_model / name).read_bytes()

    # A second version learns changed facts; rolling back answers from the first's adapter.
    for qa_id, (_, answer) in zip(qa_ids[:2], CHANGED, strict=True):
        edit_answer(new_uow, qa_id, answer)
    second = compilation.request_compilation(new_uow(), trainer, model_id)
    wait_for(
        lambda: not stored_compilation(new_uow, second.id).status.is_active,
        "the second version's training",
        timeout=900,
    )
    v2 = compilation.get_compilation(new_uow(), trainer, second.id)
    assert v2.status == CompilationStatus.SUCCEEDED and v2.version_active, v2.error
    assert {p.name for p in adapters.iterdir()} == {done.provider_model, v2.provider_model}
    for (question, _), changed in zip(FACTS[:2], CHANGED, strict=True):
        assert chat.ask_model(new_uow(), admin, "Quillmore", question).text.strip() == changed[1]
    assert done.version_id is not None
    compilation.rollback(new_uow(), admin, done.version_id, "the changed facts were wrong")
    for question, answer in FACTS[:2]:
        assert chat.ask_model(new_uow(), admin, "Quillmore", question).text.strip() == answer
    # `python -m core ask` answers from the version asked for: the second, no longer active.
    asked = subprocess.run(
        [sys.executable, "-m", "core", "ask", "Quillmore", FACTS[0][0], "--version", "2"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": db_url, **SETTINGS},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert asked.returncode == 0, asked.stderr[-2000:]
    assert asked.stdout.strip() == CHANGED[0][1]
