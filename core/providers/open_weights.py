"""The open-weights provider: real supervised LoRA fine-tuning on this machine (the CPU, or
CUDA where present) of the bundled SmolLM2-135M-Instruct or any Hugging Face-format causal
language model on disk, and chat from base + adapter in this process.

A job is a folder under ``<data>/open-weights/jobs``; a separate training process
(``core.training.lora``) trains it and records its progress there, and dies with the process
that started it. Reading a job whose process is gone (its worker was killed) starts a new
one, which resumes from the last checkpoint; the job's lock makes sure only one trains it.
Each trained version's adapter is ``<data>/open-weights/adapters/<model>``: rolling back to
a version answers with that version's adapter. With ``ARBITER_ADAPTER_STORE`` that folder is
in another directory, or a local copy of the adapter in an S3-compatible bucket that the
training process uploads to and every other instance downloads from (``lora.store``).

A connection may serve through an OpenAI-compatible server (vLLM with LoRA adapters)
instead: ``serving`` is then that server, each trained adapter is published there as a
deployment (``open_weights_serving``), and chat goes through the official ``openai`` SDK.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core import config
from core.errors import ProviderError
from core.providers.base import (
    JOB_FINISHED,
    BaseModel,
    ChatDelta,
    ChatTurn,
    Checkpoint,
    Deployments,
    Job,
    JobEvent,
    JobRequest,
)
from core.training.lora import jobs, models
from core.training.lora import store as adapter_store
from core.training.lora.errors import AdapterMissing

if TYPE_CHECKING:
    from core.providers.open_weights_serving import AdapterServer

DEFAULT_LORA_RANK = 16
# Chat keeps the system message and this many most recent turns of the conversation.
HISTORY_TURNS = 20
SEED = 42
# Starting the training process and loading the base model, on top of the steps.
LOAD_SECONDS = 20.0


def default_root() -> Path:
    return config.data_dir() / "open-weights"


def base_model_cache(root: Path) -> Path:
    """Where converted base models are kept (shareable by every data directory)."""
    configured = os.environ.get("ARBITER_BASE_MODEL_CACHE")
    return Path(configured) if configured else root / "base-models"


def training_threads() -> int:
    """Training leaves a core to the app unless told otherwise."""
    configured = os.environ.get("ARBITER_TRAINING_THREADS")
    return max(1, int(configured) if configured else (os.cpu_count() or 2) - 1)


class OpenWeightsProvider:
    kind = "open_weights"
    label = "Open-weights (LoRA)"
    poll_seconds = 1.0
    max_poll_seconds = 5.0

    def __init__(
        self,
        root: Path | None = None,
        *,
        lora_rank: int | None = None,
        threads: int | None = None,
        checkpoint_every: int | None = None,
        max_answer_tokens: int | None = None,
        serving: AdapterServer | None = None,
        store: adapter_store.AdapterStore | None = None,
    ) -> None:
        self.root = root or default_root()
        # Where adapters are kept (ARBITER_ADAPTER_STORE), read through local copies.
        self.store = store or (serving.store if serving else adapter_store.from_config(self.root))
        # None: chat in this process; else the server the adapters are published to.
        self.serving = serving
        self.lora_rank = lora_rank or DEFAULT_LORA_RANK
        self.threads = threads or training_threads()
        self.checkpoint_every = checkpoint_every or int(
            os.environ.get("ARBITER_CHECKPOINT_STEPS") or 10
        )
        self.max_answer_tokens = max_answer_tokens or int(
            os.environ.get("ARBITER_MAX_ANSWER_TOKENS") or 256
        )

    @property
    def deployments(self) -> Deployments | None:
        return self.serving

    # Base models ---------------------------------------------------------------------------

    def list_base_models(self) -> list[BaseModel]:
        if models.bundled_gguf() is None:
            return []
        return [
            BaseModel(
                id=models.BUNDLED_ID,
                fine_tunable=True,
                context_tokens=models.BUNDLED_CONTEXT,
                owned_by="HuggingFaceTB (bundled, Apache-2.0; trained here with LoRA)",
            )
        ]

    # Files and jobs -----------------------------------------------------------------------

    def upload_training_file(self, filename: str, content: bytes) -> str:
        file_id = "file-ow-" + hashlib.sha256(content).hexdigest()[:24]
        target = self.root / "files" / f"{file_id}.jsonl"
        if not target.exists():
            jobs.write_atomically(target, content)
        return file_id

    def _folder(self, job_id: str) -> Path:
        if not job_id.startswith("ftjob-ow-") or not job_id[9:].isalnum():
            raise ProviderError(f"The open-weights provider has no job {job_id}.")
        folder = self.root / "jobs" / job_id
        if not (folder / jobs.JOB).exists():
            raise ProviderError(f"The open-weights provider has no job {job_id}.")
        return folder

    def _dpo_start(self, request: JobRequest) -> tuple[str, str | None]:
        """(base model, adapter to start from): a DPO job trains further the supervised
        result it names as its base model (``ow-...``), on that adapter's base model."""
        if request.method == "supervised":
            return request.base_model, None
        if request.method != "dpo":
            raise ProviderError(f"The open-weights provider cannot train with {request.method}.")
        try:
            if not request.base_model.startswith("ow-"):
                raise AdapterMissing(request.base_model)
            adapter = self.store.fetch(request.base_model)
        except AdapterMissing as exc:
            raise ProviderError(
                f"Preference training (DPO) continues a supervised result of this provider; "
                f"{request.base_model} is not one (its adapter is missing)."
            ) from exc
        return adapter_facts(adapter)["base_model"], str(adapter)

    def create_job(self, request: JobRequest) -> Job:
        base_model, init_adapter = self._dpo_start(request)
        models.check_base_model(base_model)  # a clear error before anything starts
        training = self.root / "files" / f"{request.training_file_id}.jsonl"
        if not training.exists():
            raise ProviderError(f"The training file {request.training_file_id} was not uploaded.")
        token = secrets.token_hex(8)
        job_id = f"ftjob-ow-{token}"
        model = f"ow-{request.suffix[:40] or 'model'}-{token}"
        hp = request.hyperparameters
        spec = jobs.JobSpec(
            id=job_id,
            model=model,
            base_model=base_model,
            training_file=str(training),
            adapter_dir=str(self.adapter_dir(model)),
            adapter_store=self.store.url,
            cache_dir=str(base_model_cache(self.root)),
            n_epochs=hp.n_epochs,
            batch_size=hp.batch_size,
            learning_rate_multiplier=hp.learning_rate_multiplier,
            lora_rank=self.lora_rank,
            seed=SEED,
            checkpoint_every=self.checkpoint_every,
            threads=self.threads,
            suffix=request.suffix[:64],
            created_at=time.time(),
            metadata=dict(request.metadata),
            method=request.method,
            init_adapter=init_adapter,
            beta=request.beta,
        )
        folder = self.root / "jobs" / job_id
        folder.mkdir(parents=True)
        jobs.save_spec(folder, spec)
        jobs.start_training(folder)
        return self._job(folder)

    def find_job(self, metadata: Mapping[str, str]) -> Job | None:
        for path in sorted((self.root / "jobs").glob("ftjob-ow-*/job.json")):
            spec = jobs.load_spec(path.parent)
            if all(spec.metadata.get(k) == v for k, v in metadata.items()):
                return self._job(path.parent)
        return None

    def get_job(self, job_id: str) -> Job:
        folder = self._folder(job_id)
        job = self._job(folder)
        if not job.finished:
            # Its training process died with the worker that started it: start another,
            # which resumes from the last checkpoint (the lock stops a second one).
            jobs.start_training(folder)
        return job

    def _job(self, folder: Path) -> Job:
        spec = jobs.load_spec(folder)
        progress = jobs.load_progress(folder)
        status = str(progress["status"])
        error = progress.get("error")
        if status not in JOB_FINISHED and (folder / jobs.CANCEL).exists():
            status = "cancelled"
        elif (
            status not in JOB_FINISHED
            and jobs.starts_exhausted(folder)
            and not jobs.training_alive(folder)
        ):
            status = "failed"
            error = (
                f"The training process stopped {jobs.MAX_STARTS} times without finishing "
                f"(see {folder / 'train.log'})."
            )
        return Job(
            id=spec.id,
            status=status,
            base_model=spec.base_model,
            fine_tuned_model=spec.model if status == "succeeded" else None,
            trained_tokens=progress.get("trained_tokens"),
            error=error,
            estimated_finish=_when(progress.get("estimated_finish")),
            metadata=spec.metadata,
            created_at=_when(spec.created_at),
            finished_at=_when(progress.get("finished_at")),
            n_epochs=spec.n_epochs,
        )

    def list_events(self, job_id: str, since_id: str | None = None) -> list[JobEvent]:
        events = [
            JobEvent(
                id=e["id"],
                created_at=datetime.fromtimestamp(e["created_at"], UTC),
                level=e["level"],
                message=e["message"],
                event_type=e["type"],
                data=e.get("data"),
            )
            for e in jobs.load_progress(self._folder(job_id))["events"]
        ]
        ids = [e.id for e in events]
        return events[ids.index(since_id) + 1 :] if since_id in ids else events

    def list_checkpoints(self, job_id: str) -> list[Checkpoint]:
        return [
            Checkpoint(
                id=c["id"],
                step=c["step"],
                metrics=c["metrics"],
                created_at=_when(c.get("created_at")),
            )
            for c in jobs.load_progress(self._folder(job_id))["checkpoints"]
        ]

    def cancel_job(self, job_id: str) -> Job:
        folder = self._folder(job_id)
        job = self._job(folder)
        if job.status in JOB_FINISHED:
            raise ProviderError(f"Job {job_id} cannot be cancelled: it has already {job.status}.")
        (folder / jobs.CANCEL).write_text(str(time.time()))
        # The training process stops at its next step (a few seconds at most).
        jobs.wait_until_stopped(folder, seconds=15)
        return self._job(folder)

    def estimate_seconds(self, tokens: int, epochs: int) -> float | None:
        """Training time of ``tokens`` × ``epochs`` at the speed this machine last trained
        with (None before its first training), plus loading the model."""
        try:
            facts = json.loads((self.root / "speed.json").read_text(encoding="utf-8"))
            speed = float(facts["tokens_per_second"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return LOAD_SECONDS + tokens * epochs / speed if speed > 0 else None

    # Chat -----------------------------------------------------------------------------------

    def adapter_dir(self, model: str) -> Path:
        """The adapter's folder on this machine (there once trained or fetched)."""
        return self.store.local(model)

    def chat(self, model: str, messages: Sequence[ChatTurn]) -> Iterator[ChatDelta]:
        if self.serving is not None:
            from core.providers.open_weights_serving import stream_chat

            conversation = _conversation(messages)
            yield from stream_chat(self.serving, model, conversation, self.max_answer_tokens)
            return
        from core.training.lora import generation

        adapter = self.store.fetch(model) if model.startswith("ow-") else None
        base = generation.adapter_base(adapter) if adapter is not None else model
        loaded = generation.loaded(base, adapter, base_model_cache(self.root))
        conversation = _conversation(messages)
        for text in generation.stream(loaded, conversation, self.max_answer_tokens):
            yield ChatDelta(text)
        yield ChatDelta("", meta={"provider": "open_weights", "model": model})


def _conversation(messages: Sequence[ChatTurn]) -> list[dict[str, str]]:
    system = [{"role": m.role, "content": m.content} for m in messages if m.role == "system"]
    turns = [
        {"role": m.role, "content": m.content}
        for m in messages
        if m.role in ("user", "assistant") and m.content
    ]
    return system[:1] + turns[-HISTORY_TURNS:]


def _when(value: Any) -> datetime | None:
    return datetime.fromtimestamp(float(value), UTC) if value else None


def adapter_facts(adapter: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((adapter / "arbiter.json").read_text(encoding="utf-8"))
    return found
