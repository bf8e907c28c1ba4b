"""Small text measures shown next to editors."""

from __future__ import annotations

import re
import unicodedata

_SENTENCE_END = re.compile(r"[.!?…]+(?=\s|$)")
RECOMMENDED_SYSTEM_SENTENCES = 6


def sentence_count(text: str) -> int:
    text = text.strip()
    if not text:
        return 0
    ends = len(_SENTENCE_END.findall(text))
    # A last sentence without a full stop still counts.
    return ends + (0 if _SENTENCE_END.search(text[-1:] + " ") else 1)


def system_message_advice(text: str) -> str | None:
    sentences = sentence_count(text)
    if sentences > RECOMMENDED_SYSTEM_SENTENCES:
        return (
            f"{sentences} sentences: keep the system message to 5–6 sentences (role, tone, "
            "language, constraints); move policies and facts into Q&As or conversations."
        )
    return None


_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def question_key(question: str) -> str:
    """The same question written with other case, spacing or punctuation gets the same key
    (duplicate and conflict checks, the clean-up view)."""
    text = unicodedata.normalize("NFKC", question).casefold()
    return _NON_WORD.sub(" ", text).strip()[:512]
