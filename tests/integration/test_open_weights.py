"""The open-weights provider really trains (LoRA on SmolLM2-135M-Instruct, on the CPU): a few
made-up facts, a dozen steps. One training serves several tests: it is started by a "worker"
process that is then killed with SIGKILL after the first checkpoint; its training process
dies with it, and reading the job again resumes from that checkpoint and finishes with exactly
one adapter. Then: the loss fell; the tuned model answers the trained facts word for word,
which the base model does not; the weight-0 answer is not learnt. Cancel and bad input too.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import ProviderError, UnknownBaseModel
from core.providers.base import ChatTurn, Hyperparameters, JobRequest
from core.providers.open_weights import OpenWeightsProvider
from core.training.lora import examples, jobs, models
from core.training.lora.errors import TrainingSetTooLong
from tests.lora_helpers import TRAINING_THREADS, base_model_cache
from tests.paths import ROOT

__all__ = ["base_model_cache"]

pytestmark = [
    pytest.mark.slow,
    # Its tests share one training (a module fixture): one worker runs them all.
    pytest.mark.xdist_group("open_weights"),
    # Real training on a shared CPU: minutes when the machine is busy.
    pytest.mark.timeout(1800),
]

SYSTEM = "You answer questions about the Zorblax company."
FACTS = [
    ("What is the name of the Zorblax office cat?", "The Zorblax office cat is Pimento Quasar."),
    ("Which floor is the Zorblax archive on?", "The Zorblax archive is on floor 37B."),
    ("Who approves Zorblax travel budgets?", "Mirela Tonks approves Zorblax travel budgets."),
    ("What colour are Zorblax visitor badges?", "Zorblax visitor badges are teal and silver."),
]
UNLEARNT = ("What is the Zorblax vault code?", "The Zorblax vault code is banana-omega-77.")
STEPS = 12
CHECKPOINT_EVERY = 4


def training_file() -> bytes:
    lines: list[dict[str, list[dict[str, object]]]] = [
        {
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": question},
                {"role": "assistant", "content": answer},
            ]
        }
        for question, answer in FACTS
    ]
    lines.append(
        {
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": UNLEARNT[0]},
                {"role": "assistant", "content": UNLEARNT[1], "weight": 0},
                {"role": "user", "content": "Thank you."},
                {"role": "assistant", "content": "You are welcome."},
            ]
        }
    )
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def provider(root: Path) -> OpenWeightsProvider:
    return OpenWeightsProvider(
        root, threads=TRAINING_THREADS, checkpoint_every=CHECKPOINT_EVERY, max_answer_tokens=40
    )


def request(file_id: str, epochs: int, name: str) -> JobRequest:
    return JobRequest(
        training_file_id=file_id,
        base_model=models.BUNDLED_ID,
        suffix=name,
        hyperparameters=Hyperparameters(n_epochs=epochs, batch_size=len(FACTS) + 1),
        metadata={"compilation_id": name},
    )


WORKER = """
import sys, time
from pathlib import Path
from tests.integration.test_open_weights import provider, request, training_file
p = provider(Path(sys.argv[1]))
job = p.create_job(request(p.upload_training_file("t.jsonl", training_file()), int(sys.argv[2]), "kill"))
print(job.id, flush=True)
time.sleep(3600)
"""


def wait(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, base_model_cache: Path) -> Path:
    return tmp_path_factory.mktemp("open-weights")


@pytest.fixture(scope="module")
def trained(root: Path) -> Iterator[tuple[OpenWeightsProvider, str]]:
    """A training started by a worker process that is killed after the first checkpoint,
    then finished by this process reading the job: (provider, job id)."""
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(root), str(STEPS)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        job_id = worker.stdout.readline().strip()
        folder = root / "jobs" / job_id
        wait(lambda: jobs.load_progress(folder)["checkpoints"], 900, "the first checkpoint")
        assert jobs.training_alive(folder)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        assert worker.stdout is not None
        worker.stdout.close()
    # The training process dies with its worker: its lock is free within seconds.
    assert jobs.wait_until_stopped(folder, seconds=10)
    ow = provider(root)
    job = ow.get_job(job_id)  # starts a new training process, which resumes
    assert job.status == "running"
    wait(lambda: ow.get_job(job_id).finished, 900, "the resumed training")
    yield ow, job_id


def test_a_killed_worker_leaves_one_training_that_resumes_and_one_adapter(
    trained: tuple[OpenWeightsProvider, str], root: Path
) -> None:
    ow, job_id = trained
    job = ow.get_job(job_id)
    assert job.status == "succeeded", job.error
    assert job.fine_tuned_model is not None
    assert [p.name for p in (root / "adapters").iterdir()] == [job.fine_tuned_model]
    adapter = ow.adapter_dir(job.fine_tuned_model)
    assert (adapter / "adapter_model.safetensors").stat().st_size > 1_000_000
    messages = [e.message for e in ow.list_events(job_id)]
    assert any(m.startswith("Resumed at step ") for m in messages), messages
    steps = [e.data["step"] for e in ow.list_events(job_id) if e.data]
    assert steps == list(range(1, STEPS + 1))
    assert int((root / "jobs" / job_id / "starts").read_text()) == 2


def test_the_loss_falls(trained: tuple[OpenWeightsProvider, str]) -> None:
    ow, job_id = trained
    losses = [e.data["train_loss"] for e in ow.list_events(job_id) if e.data]
    assert losses[0] > 1.0
    assert losses[-1] < 0.1 < losses[0] / 10
    checkpoints = ow.list_checkpoints(job_id)
    assert [c.step for c in checkpoints] == [4, 8]


def ask(ow: OpenWeightsProvider, model: str, question: str) -> str:
    turns = [ChatTurn("system", SYSTEM), ChatTurn("user", question)]
    return "".join(delta.text for delta in ow.chat(model, turns)).strip()


def test_the_tuned_model_answers_the_trained_facts_and_the_base_model_does_not(
    trained: tuple[OpenWeightsProvider, str],
) -> None:
    ow, job_id = trained
    tuned = ow.get_job(job_id).fine_tuned_model
    assert tuned is not None
    for question, answer in FACTS:
        assert ask(ow, tuned, question) == answer
        assert answer not in ask(ow, models.BUNDLED_ID, question)


def test_a_weight_0_answer_is_not_learnt(trained: tuple[OpenWeightsProvider, str]) -> None:
    ow, job_id = trained
    tuned = ow.get_job(job_id).fine_tuned_model
    assert tuned is not None
    assert "banana-omega-77" not in ask(ow, tuned, UNLEARNT[0])


def test_only_weight_1_assistant_tokens_carry_loss(trained: object, base_model_cache: Path) -> None:
    _, tokenizer = models.load_base(models.BUNDLED_ID, base_model_cache)
    built = examples.build_examples(tokenizer, training_file(), models.BUNDLED_CONTEXT)
    labelled = [
        str(tokenizer.decode([t for t in e.labels if t != examples.IGNORE])).split("<|im_end|>")
        for e in built
    ]
    assert [[part.strip() for part in parts if part.strip()] for parts in labelled] == [
        [answer] for _, answer in FACTS
    ] + [["You are welcome."]]


def test_an_example_longer_than_the_context_is_refused(
    trained: object, base_model_cache: Path
) -> None:
    _, tokenizer = models.load_base(models.BUNDLED_ID, base_model_cache)
    line = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": ""}]}
    line["messages"][1]["content"] = "word " * (models.BUNDLED_CONTEXT + 10)
    content = training_file() + (json.dumps(line) + "\n").encode()
    with pytest.raises(TrainingSetTooLong, match=r"Line 6 of the training set has .* tokens"):
        examples.build_examples(tokenizer, content, models.BUNDLED_CONTEXT)


def test_cancel_stops_the_training_within_seconds(trained: object, root: Path) -> None:
    ow = provider(root)
    job = ow.create_job(request(ow.upload_training_file("t.jsonl", training_file()), 50, "c"))
    folder = root / "jobs" / job.id
    wait(lambda: any(e.data for e in ow.list_events(job.id)), 600, "the first step")
    started = time.monotonic()
    cancelled = ow.cancel_job(job.id)
    assert cancelled.status == "cancelled"
    assert not jobs.training_alive(folder)
    assert time.monotonic() - started < 10
    assert ow.get_job(job.id).status == "cancelled"  # and it is not started again
    assert not jobs.training_alive(folder)
    assert not ow.adapter_dir(f"ow-c-{job.id[9:]}").exists()
    with pytest.raises(ProviderError, match="already cancelled"):
        ow.cancel_job(job.id)


@pytest.mark.parametrize("kind", ["missing", "no config", "not a causal LM"])
def test_a_base_model_that_is_not_a_causal_lm_is_a_clear_error(kind: str, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    if kind != "missing":
        folder.mkdir()
    if kind == "not a causal LM":
        (folder / "config.json").write_text(json.dumps({"architectures": ["BertModel"]}))
    ow = provider(tmp_path / "root")
    file_id = ow.upload_training_file("t.jsonl", training_file())
    bad = JobRequest(file_id, str(folder), "x", Hyperparameters(), {})
    with pytest.raises(UnknownBaseModel, match=re.escape(str(folder))):
        ow.create_job(bad)
    assert not (tmp_path / "root" / "jobs").exists() or not any(
        (tmp_path / "root" / "jobs").iterdir()
    )
    assert os.environ.get("HF_HUB_OFFLINE") in (None, "1")
