"""The local provider: runs with no network and no API key. Its "fine-tuning" builds a
retrieval index over the training set; its chat answers with the nearest training example.
The UI labels it as such: it demonstrates the workflow, it is not a language model."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from core import config
from core.providers.base import (
    BaseModel,
    ChatDelta,
    ChatTurn,
    Checkpoint,
    Job,
    JobEvent,
    JobRequest,
)
from core.providers.local_index import load_index

LOCAL_BASE_MODEL = "local-retrieval-1"
# Below this similarity the nearest example is not about the question at all.
MIN_SCORE = 0.12


def default_root() -> Path:
    return config.data_dir() / "local-provider"


class LocalProvider:
    kind = "local"

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
        if match is None or match.score < MIN_SCORE:
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
                "matched_question": match.matched_prompt[:500],
            },
        )

    # Fine-tuning jobs: completed by the compilation engine (issue 6).
    def upload_training_file(self, filename: str, content: bytes) -> str:
        raise NotImplementedError

    def create_job(self, request: JobRequest) -> Job:
        raise NotImplementedError

    def find_job(self, metadata: Mapping[str, str]) -> Job | None:
        raise NotImplementedError

    def get_job(self, job_id: str) -> Job:
        raise NotImplementedError

    def list_events(self, job_id: str) -> list[JobEvent]:
        raise NotImplementedError

    def list_checkpoints(self, job_id: str) -> list[Checkpoint]:
        raise NotImplementedError

    def cancel_job(self, job_id: str) -> Job:
        raise NotImplementedError
