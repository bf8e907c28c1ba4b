"""The local provider: runs with no network and no API key. Its "fine-tuning" builds a
retrieval index over the training set; its chat answers with the nearest training example.
The UI labels it as such: it demonstrates the workflow, it is not a language model."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core import config
from core.errors import ProviderError, UnknownBaseModel
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
from core.providers.local_index import (
    IndexEntry,
    LoadedIndex,
    build_index,
    entries_from_jsonl,
    load_index,
)
from core.training import tokens

LOCAL_BASE_MODEL = "local-retrieval-1"
# Below this similarity the nearest example is not about the question at all.
MIN_SCORE = 0.12
# Similarity alone is carried by words such as "what is the": "What is the weather in Paris?"
# scored 0.56 against "What is the escalation path in Support?". An answer also needs a word
# of substance in common with the question, else the provider says it does not know.
_FILLER = frozenset(
    re.findall(
        r"[a-z]+",
        """a an and are as at be by can could do does did for from had has have how i if in is
        it its me my of on or our please should so that the their them then there these they
        this to us was we were what when where which who whom whose why will with would you
        your about any get tell""",
    )
)


def _stems(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {w[:5] for w in words if w not in _FILLER and len(w) > 1}


def shares_substance(question: str, matched_question: str, answer: str) -> bool:
    """Whether the nearest example shares a word of substance (compared by its first five
    letters, so that "returns" meets "returned") with the question."""
    asked = _stems(question)
    return not asked or bool(asked & _stems(f"{matched_question} {answer}"))


def default_root() -> Path:
    return config.data_dir() / "local-provider"


class LocalProvider:
    kind = "local"
    poll_seconds = 0.2
    max_poll_seconds = 1.0
    deployments: Deployments | None = None

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_root()

    def list_base_models(self) -> list[BaseModel]:
        return [
            BaseModel(
                id=LOCAL_BASE_MODEL,
                fine_tunable=True,
                context_tokens=65_536,
                owned_by="arbiter-studio (offline retrieval, not a language model)",
            )
        ]

    def chat(self, model: str, messages: Sequence[ChatTurn]) -> Iterator[ChatDelta]:
        question = next((m.content for m in reversed(messages) if m.role == "user"), "")
        index = None if model == LOCAL_BASE_MODEL else load_index(self.root, model)
        if index is None:
            yield ChatDelta(
                "I have no training data yet, so I cannot answer from this company's knowledge. "
                "Compile this model after adding Q&As or training conversations.",
                meta={"provider": "local", "score": None},
            )
            return
        match = index.best_match(question)
        if (
            match is None
            or match.score < MIN_SCORE
            or not shares_substance(question, match.matched_question, match.answer)
        ):
            yield ChatDelta(
                "I don't know that yet: nothing in my training is close to this question. "
                "If you know the answer, correct me and use Train AI.",
                meta={"provider": "local", "score": match.score if match else None},
            )
            return
        words = re.findall(r"\S+\s*", match.answer)
        for start in range(0, len(words), 4):
            yield ChatDelta("".join(words[start : start + 4]))
        yield ChatDelta(
            "",
            meta={
                "provider": "local",
                "score": round(match.score, 4),
                "example_line": match.example_line,
                "matched_question": match.matched_question[:500],
            },
        )

    # Fine-tuning jobs: files and job records on disk, so a job survives restarts ---------

    def _path(self, folder: str, name: str) -> Path:
        return self.root / folder / name

    def upload_training_file(self, filename: str, content: bytes) -> str:
        file_id = "file-local-" + hashlib.sha256(content).hexdigest()[:24]
        target = self._path("files", f"{file_id}.jsonl")
        if not target.exists():
            _write_atomically(target, content)
        return file_id

    def create_job(self, request: JobRequest) -> Job:
        if request.method != "supervised":
            raise ProviderError(
                "The local provider is a retrieval index: it cannot train on preference "
                "pairs (DPO)."
            )
        if request.base_model != LOCAL_BASE_MODEL:
            raise UnknownBaseModel(
                f"The local provider has one base model, {LOCAL_BASE_MODEL}; "
                f"{request.base_model!r} is not available here."
            )
        training = self._path("files", f"{request.training_file_id}.jsonl")
        if not training.exists():
            raise ProviderError(f"The training file {request.training_file_id} was not uploaded.")
        examples = sum(1 for line in training.read_bytes().splitlines() if line.strip())
        job_id = "ftjob-local-" + secrets.token_hex(8)
        record: dict[str, Any] = {
            "id": job_id,
            "status": "queued",
            "base_model": request.base_model,
            "training_file": request.training_file_id,
            "suffix": request.suffix[:64],
            "metadata": dict(request.metadata),
            "created_at": time.time(),
            "finished_at": None,
            "fine_tuned_model": None,
            "trained_tokens": None,
            "error": None,
            "events": [],
            "checkpoints": [],
        }
        _event(record, f"Created fine-tuning job: {job_id}")
        _event(record, f"Training file has {examples:,} examples; waiting to index them")
        self._save(record)
        return _job(record)

    def _save(self, record: dict[str, Any]) -> None:
        _write_atomically(
            self._path("jobs", f"{record['id']}.json"), json.dumps(record).encode("utf-8")
        )

    def _load(self, job_id: str) -> dict[str, Any]:
        path = self._path("jobs", f"{_safe(job_id)}.json")
        if not path.exists():
            raise ProviderError(f"The local provider has no job {job_id}.")
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return loaded

    def find_job(self, metadata: Mapping[str, str]) -> Job | None:
        folder = self.root / "jobs"
        if not folder.exists():
            return None
        for path in sorted(folder.glob("*.json")):
            record = json.loads(path.read_text(encoding="utf-8"))
            if all(record["metadata"].get(k) == v for k, v in metadata.items()):
                return _job(record)
        return None

    def get_job(self, job_id: str) -> Job:
        record = self._load(job_id)
        if record["status"] in ("queued", "running"):
            # Indexing runs within this call, so a job still "running" on disk was being
            # indexed by a worker that died; the worker that took its compilation over
            # indexes it again.
            self._train(record)
        return _job(record)

    def _train(self, record: dict[str, Any]) -> None:
        """The local "fine-tuning": index the training set (TF-IDF) and check the index."""
        again = record["status"] == "running"
        record["status"] = "running"
        _event(
            record,
            "Indexing the training examples again: the earlier indexing was interrupted"
            if again
            else "Indexing the training examples",
        )
        self._save(record)
        content = self._path("files", f"{record['training_file']}.jsonl").read_bytes()
        entries = entries_from_jsonl(content)
        model = f"local:{record['suffix'] or 'model'}:{record['id'][-8:]}"
        indexed = build_index(self.root, model, entries)
        examples = len({e.example_line for e in entries})
        _event(record, f"Indexed {examples:,} examples as {indexed:,} answers")
        score = self_check(load_index(self.root, model), entries)
        if score is not None:
            data = {"step": 1, "self_check_accuracy": round(score, 4)}
            _event(
                record,
                f"Self-check: {score:.0%} of sampled training questions find their own answer",
                event_type="metrics",
                data=data,
            )
            record["checkpoints"].append(
                {"id": f"{record['id']}-ckpt-1", "step": 1, "metrics": data, "model": model}
            )
        record.update(
            status="succeeded",
            fine_tuned_model=model,
            trained_tokens=sum(
                tokens.count_text_batch([e.prompt + " " + e.answer for e in entries])
            ),
            finished_at=time.time(),
        )
        _event(record, f"New model ready: {model}")
        self._save(record)

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
            for e in self._load(job_id)["events"]
        ]
        ids = [e.id for e in events]
        return events[ids.index(since_id) + 1 :] if since_id in ids else events

    def list_checkpoints(self, job_id: str) -> list[Checkpoint]:
        return [
            Checkpoint(id=c["id"], step=c["step"], metrics=c["metrics"], model=c.get("model"))
            for c in self._load(job_id)["checkpoints"]
        ]

    def cancel_job(self, job_id: str) -> Job:
        record = self._load(job_id)
        if record["status"] in JOB_FINISHED:
            raise ProviderError(
                f"Job {job_id} cannot be cancelled: it has already {record['status']}."
            )
        record.update(status="cancelled", finished_at=time.time())
        _event(record, "Job cancelled")
        self._save(record)
        return _job(record)


def self_check(
    index: LoadedIndex | None, entries: Sequence[IndexEntry], sample: int = 200
) -> float | None:
    """Share of (a sample of) training questions whose nearest entry is their own example."""
    if index is None or not entries:
        return None
    step = max(1, len(entries) // sample)
    chosen = entries[::step][:sample]
    matches = index.best_matches([entry.prompt for entry in chosen])
    hits = sum(
        match is not None and match.example_line == entry.example_line
        for entry, match in zip(chosen, matches, strict=True)
    )
    return hits / len(chosen)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:200]


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.partial")
    partial.write_bytes(content)
    partial.replace(path)


def _event(
    record: dict[str, Any],
    message: str,
    *,
    level: str = "info",
    event_type: str = "message",
    data: dict[str, Any] | None = None,
) -> None:
    record["events"].append(
        {
            "id": f"{record['id']}-ev-{len(record['events']) + 1}",
            "created_at": time.time(),
            "level": level,
            "message": message,
            "type": event_type,
            "data": data,
        }
    )


def _job(record: dict[str, Any]) -> Job:
    def when(value: float | None) -> datetime | None:
        return datetime.fromtimestamp(value, UTC) if value else None

    return Job(
        id=record["id"],
        status=record["status"],
        base_model=record["base_model"],
        fine_tuned_model=record["fine_tuned_model"],
        trained_tokens=record["trained_tokens"],
        error=record["error"],
        metadata=record["metadata"],
        created_at=when(record["created_at"]),
        finished_at=when(record["finished_at"]),
        n_epochs=1,
    )
