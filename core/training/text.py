"""Small text measures shown next to editors."""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, count
from operator import add

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


# ASCII letters and digits are the only ASCII word characters once "_" counts as a separator.
_ASCII_SEPARATORS = str.maketrans({chr(c): " " for c in range(1, 128) if not chr(c).isalnum()})


def question_keys(questions: Sequence[str]) -> list[str]:
    """``question_key`` of each question. ASCII questions (NFKC and case folding leave them
    as they are, apart from lower case) go through one translation of all of them joined:
    a regular-expression substitution per question costs more than the rest of a
    100,000-example pre-flight's duplicate check."""
    keys = [""] * len(questions)
    plain = [i for i, q in enumerate(questions) if q.isascii() and "\0" not in q]
    if plain:
        joined = "\0".join([questions[i] for i in plain]).lower().translate(_ASCII_SEPARATORS)
        for i, part in zip(plain, joined.split("\0"), strict=True):
            keys[i] = " ".join(part.split())[:512]
    if len(plain) < len(questions):
        for i in set(range(len(questions))).difference(plain):
            keys[i] = question_key(questions[i])
    return keys


@dataclass(frozen=True)
class AsciiLiterals:
    """What a pattern amounts to on ASCII text: after ``translate(table)`` (each character
    class of the pattern mapped to one stand-in), it matches exactly where one of
    ``literals`` occurs. A literal search is many times faster than the regular-expression
    engine trying a character class at every position of a few million characters."""

    table: dict[int, str]
    literals: tuple[str, ...]


def texts_matching(
    texts: Sequence[str],
    pattern: re.Pattern[str],
    ascii: AsciiLiterals | None = None,
    *,
    separator: str = "\0",
) -> list[int]:
    """Indexes of the texts in which ``pattern`` matches, from one scan over all of them
    joined by ``separator`` (one character, which the pattern must not match)."""
    hits: set[int] = set()
    others: Sequence[str] = texts
    other_indexes: Sequence[int] = range(len(texts))
    if ascii is not None:
        plain = [i for i, text in enumerate(texts) if text.isascii()]
        if plain:
            picked = [texts[i] for i in plain] if len(plain) < len(texts) else texts
            joined = separator.join(picked).translate(ascii.table)
            hits.update(plain[k] for k in _occurrences(joined, picked, ascii.literals))
        if len(plain) == len(texts):
            return sorted(hits)
        other_indexes = sorted(set(range(len(texts))).difference(plain))
        others = [texts[i] for i in other_indexes]
    joined = separator.join(others)
    starts: list[int] = []
    position = 0
    while (match := pattern.search(joined, position)) is not None:
        if not starts:
            starts = _starts(others)
        k = bisect.bisect_right(starts, match.start()) - 1
        hits.add(other_indexes[k])
        position = starts[k + 1]
    return sorted(hits)


def _starts(texts: Sequence[str]) -> list[int]:
    """Where each text starts in the texts joined by one character, and where the next
    would."""
    return list(map(add, accumulate(map(len, texts), initial=0), count()))


def _occurrences(joined: str, texts: Sequence[str], literals: Sequence[str]) -> set[int]:
    hits: set[int] = set()
    starts: list[int] = []
    for literal in literals:
        found = joined.find(literal)
        while found != -1:
            if not starts:
                starts = _starts(texts)
            k = bisect.bisect_right(starts, found) - 1
            hits.add(k)
            found = joined.find(literal, starts[k + 1])
    return hits
