"""Rules for one training conversation, as pure functions over its messages: what makes it
usable for training (checked live in the editor and again when it is saved as ``ready``),
its fingerprint (to notice the same exchange being trained twice) and its token count.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from core.domain import (
    MESSAGE_MAX,
    NAME_MAX,
    ConversationOrigin,
    MessageRole,
    control_character,
)
from core.errors import Problem
from core.training import tokens


@dataclass(frozen=True)
class MessageDraft:
    """One message as an editor, an importer or Train AI holds it before it is stored."""

    role: MessageRole
    content: str
    participant_name: str = ""
    # Assistant messages only: 1 learn from it, 0 context only. None elsewhere.
    weight: int | None = None

    def normalised(self) -> MessageDraft:
        """Weights live on assistant messages only; an assistant message without one learns."""
        role = MessageRole(self.role)
        weight = (
            (1 if self.weight is None else self.weight) if role == MessageRole.ASSISTANT else None
        )
        return replace(
            self,
            role=role,
            content=self.content.strip(),
            participant_name=self.participant_name.strip(),
            weight=weight,
        )


def message_problems(messages: Sequence[MessageDraft]) -> list[Problem]:
    """What can never be stored: empty or oversized messages, misplaced weights."""
    found: list[Problem] = []
    for number, message in enumerate(messages, start=1):
        where = f"message {number}"
        if not message.content.strip():
            found.append(Problem(where, "is empty"))
        elif len(message.content) > MESSAGE_MAX:
            found.append(Problem(where, f"is longer than {MESSAGE_MAX:,} characters"))
        elif control := control_character(message.content + message.participant_name):
            found.append(Problem(where, f"holds the control character {control}; remove it"))
        if len(message.participant_name) > NAME_MAX:
            found.append(Problem(where, f"participant name: at most {NAME_MAX} characters"))
        if message.role == MessageRole.ASSISTANT and message.weight not in (None, 0, 1):
            found.append(Problem(where, "weight must be 1 (learn from it) or 0 (context only)"))
        if message.role != MessageRole.ASSISTANT and message.weight is not None:
            found.append(Problem(where, "only assistant messages carry a weight"))
    return found


def problems(messages: Sequence[MessageDraft]) -> list[Problem]:
    """Why these messages cannot be trained on (empty list: they can). Message numbers are
    1-based, as the editor shows them."""
    if not messages:
        return [Problem("messages", "add at least a user message and an assistant answer")]
    found = message_problems(messages) + _order_problems(messages)
    if not any(m.role == MessageRole.ASSISTANT and m.weight in (None, 1) for m in messages):
        found.append(
            Problem(
                "messages",
                "at least one assistant message must have weight 1 (something to learn from)",
            )
        )
    return found


def _order_problems(messages: Sequence[MessageDraft]) -> list[Problem]:
    found: list[Problem] = []
    seen_other = False
    previous: MessageRole | None = None
    for number, message in enumerate(messages, start=1):
        where = f"message {number}"
        role = message.role
        if role == MessageRole.SYSTEM:
            if seen_other:
                found.append(Problem(where, "a system message may only come first"))
        elif not seen_other and role == MessageRole.ASSISTANT:
            found.append(Problem(where, "the conversation must start with a user message"))
        elif role == MessageRole.ASSISTANT and previous == MessageRole.ASSISTANT:
            found.append(Problem(where, "two assistant messages in a row: add the user turn"))
        if role != MessageRole.SYSTEM:
            seen_other = True
        previous = role
    last = messages[-1].role if messages else None
    if last is not None and last != MessageRole.ASSISTANT:
        found.append(
            Problem(f"message {len(messages)}", "the conversation must end with an answer")
        )
    return found


def content_hash(messages: Sequence[MessageDraft]) -> str:
    """The same messages (roles, texts, weights) give the same hash, whatever the names or
    surrounding whitespace."""
    canonical = [
        [m.role.value, " ".join(m.content.split()), m.weight]
        for m in (msg.normalised() for msg in messages)
    ]
    payload = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def token_count(
    messages: Sequence[MessageDraft], system_message: str = "", base_model: str | None = None
) -> int:
    """Tokens of the example this conversation becomes: the model's system message first
    unless the conversation brings its own."""
    rows: list[dict[str, object]] = [{"role": m.role.value, "content": m.content} for m in messages]
    if system_message and not any(m.role == MessageRole.SYSTEM for m in messages):
        rows.insert(0, {"role": "system", "content": system_message})
    return tokens.count_messages(rows, base_model)


def origin_label(
    origin: ConversationOrigin, ref: Mapping[str, Any] | None, chat_titles: Mapping[int, str]
) -> str:
    """Where a conversation came from, in words (shown with every conversation)."""
    ref = ref or {}
    if "chat_id" in ref:
        chat_id = int(ref["chat_id"])
        ids = ", ".join(f"#{i}" for i in ref.get("message_ids", []))
        title = chat_titles.get(chat_id)
        chat = f"chat “{title}” (#{chat_id})" if title else f"chat #{chat_id} (deleted)"
        return f"{chat}, messages {ids}" if ids else chat
    if "file" in ref:
        line = ref.get("line")
        return f"file {ref['file']}" + (f", line {line}" if line else "")
    if origin == ConversationOrigin.MANUAL:
        return "entered by hand"
    return origin.value
