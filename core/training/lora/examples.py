"""Training examples from a chat JSONL training file, in the base model's own chat template.

The loss falls only on the assistant messages to learn (weight 1, the default): their
content and the template's end-of-turn marks. System and user tokens and assistant
messages of weight 0 are context only (label -100), as in OpenAI's fine-tuning.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import ProviderError
from core.training.lora.errors import TrainingSetEmpty, TrainingSetTooLong

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

IGNORE = -100


@dataclass(frozen=True)
class TokenizedExample:
    line: int  # 1-based line of the training file
    input_ids: list[int]
    labels: list[int]  # IGNORE where no loss falls

    @property
    def trained_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE)


def parse_lines(content: bytes) -> list[tuple[int, list[dict[str, Any]]]]:
    """(line number, messages) of every non-empty line."""
    found = []
    for number, raw in enumerate(content.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
            messages = data["messages"]
        except (ValueError, KeyError, TypeError):
            raise ProviderError(
                f"Line {number} of the training file is not a chat example."
            ) from None
        found.append((number, messages))
    return found


def _render(
    tokenizer: PreTrainedTokenizerBase, messages: Sequence[dict[str, Any]], prompt: bool
) -> str:
    plain = [{"role": m["role"], "content": m["content"]} for m in messages]
    text = tokenizer.apply_chat_template(plain, tokenize=False, add_generation_prompt=prompt)
    assert isinstance(text, str)
    return text


def trained_spans(
    tokenizer: PreTrainedTokenizerBase, messages: Sequence[dict[str, Any]], line: int
) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the character spans the loss falls on: each weight-1
    assistant message from the end of its prompt to the end of its turn."""
    full = _render(tokenizer, messages, prompt=False)
    spans = []
    for index, message in enumerate(messages):
        if message.get("role") != "assistant" or message.get("weight", 1) == 0:
            continue
        before = _render(tokenizer, messages[:index], prompt=True) if index else ""
        through = _render(tokenizer, messages[: index + 1], prompt=False)
        if not (through.startswith(before) and full.startswith(through)):
            raise ProviderError(
                f"Line {line}: the base model's chat template renders a conversation "
                "differently from its beginning, so the assistant's part cannot be found."
            )
        spans.append((len(before), len(through)))
    return full, spans


def tokenize(
    tokenizer: PreTrainedTokenizerBase,
    messages: Sequence[dict[str, Any]],
    line: int,
    context: int | None,
) -> TokenizedExample:
    text, spans = trained_spans(tokenizer, messages, line)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids: list[int] = list(encoded["input_ids"])
    offsets: list[tuple[int, int]] = list(encoded["offset_mapping"])
    if context is not None and len(ids) > context:
        raise TrainingSetTooLong(
            f"Line {line} of the training set has {len(ids):,} tokens; the base model's "
            f"context holds {context:,}. Shorten or split that example."
        )
    labels = [
        token if any(start <= begin < end for start, end in spans) else IGNORE
        for token, (begin, _) in zip(ids, offsets, strict=True)
    ]
    return TokenizedExample(line, ids, labels)


def build_examples(
    tokenizer: PreTrainedTokenizerBase, content: bytes, context: int | None
) -> list[TokenizedExample]:
    examples = [
        tokenize(tokenizer, messages, line, context) for line, messages in parse_lines(content)
    ]
    kept = [e for e in examples if e.trained_tokens]
    if not kept:
        raise TrainingSetEmpty(
            "The training set has no assistant message to learn (all have weight 0)."
        )
    return kept
