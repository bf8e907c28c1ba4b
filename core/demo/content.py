"""The demo company's content, read from the data files beside this module (``data/``):
``company.toml`` (name, group chat, which model files), one TOML file per model in
``models/`` (settings, Q&As, training conversations) and ``transcripts.jsonl`` (transcripts
waiting for curation). Anyone can edit the files without touching code; ``load`` checks them
and names the file and entry of anything that does not fit.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class DemoQA:
    section: str
    question: str
    answer: str
    qa_type: str = "training"  # or "validation"
    notes: str = ""


@dataclass(frozen=True)
class DemoTurn:
    role: str  # "user" or "assistant" (or "system", rarely)
    content: str  # Markdown allowed
    participant: str = ""  # e.g. "Maria (Sales)" for user turns, model name for assistant turns
    # Assistant turns only: 1 learn from it, 0 context only (a wrong answer that was corrected).
    weight: int | None = None


@dataclass(frozen=True)
class DemoConversation:
    title: str
    status: str  # "ready" or "draft"
    turns: tuple[DemoTurn, ...]
    notes: str = ""


@dataclass(frozen=True)
class DemoModel:
    name: str
    notes: str
    system_message: str
    parent: str | None
    inherit_parent_training: bool
    aggregate_children_training: bool
    qas: tuple[DemoQA, ...]
    conversations: tuple[DemoConversation, ...]
    kind: str = "arbiter"  # or "assistant"
    # "local" (the retrieval index, compiled at once) or "fine-tune" (open-weights LoRA on
    # this machine, queued for the background worker)
    connection: str = "local"
    n_epochs: int | None = None
    batch_size: int | None = None


@dataclass(frozen=True)
class DemoCompany:
    name: str
    models: tuple[DemoModel, ...]
    chat_group_title: str
    chat_opening: tuple[tuple[str, str], ...]  # (speaker, text)
    transcripts_jsonl: str


class DemoDataError(ValueError):
    """A demo data file that does not fit: the message names the file and the entry."""


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DemoDataError(f"{path.relative_to(DATA)}: {exc}") from None


def _build(cls: type[Any], values: dict[str, Any], where: str, **fixed: Any) -> Any:
    try:
        return cls(**values, **fixed)
    except TypeError as exc:
        raise DemoDataError(f"{where}: {exc}") from None


def _conversation(raw: dict[str, Any], where: str) -> DemoConversation:
    turns = tuple(
        _build(DemoTurn, t, f"{where}, turn {i}") for i, t in enumerate(raw.pop("turns", []), 1)
    )
    return _build(DemoConversation, raw, where, turns=turns)  # type: ignore[no-any-return]


def _model(path: Path) -> DemoModel:
    raw = _read(path)
    name = path.relative_to(DATA)
    qas = tuple(
        _build(
            DemoQA, {("qa_type" if k == "type" else k): v for k, v in q.items()}, f"{name}, Q&A {i}"
        )
        for i, q in enumerate(raw.pop("qas", []), 1)
    )
    conversations = tuple(
        _conversation(c, f"{name}, conversation {i}")
        for i, c in enumerate(raw.pop("conversations", []), 1)
    )
    raw.setdefault("parent", None)
    return _build(DemoModel, raw, str(name), qas=qas, conversations=conversations)  # type: ignore[no-any-return]


@functools.cache
def load() -> DemoCompany:
    company = _read(DATA / "company.toml")
    opening = tuple((str(o["speaker"]), str(o["text"])) for o in company.get("chat_opening", []))
    return DemoCompany(
        name=str(company["company"]),
        models=tuple(_model(DATA / f) for f in company["models"]),
        chat_group_title=str(company["chat_group_title"]),
        chat_opening=opening,
        transcripts_jsonl=(DATA / "transcripts.jsonl").read_text(encoding="utf-8"),
    )
