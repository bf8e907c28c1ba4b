"""How close a version's answer is to the expected answer of a validation Q&A.

The metric is token-overlap F1, as in the SQuAD evaluation: both texts are lower-cased,
stripped of punctuation and of the articles a/an/the, and split into words; precision is
the share of the answer's words found in the expected answer (each word counted as often
as it occurs in both), recall the share of the expected words found in the answer, and F1
their harmonic mean. 1.0 means the same words, 0.0 none in common. A version's validation
score is the mean F1 over its validation Q&As. It rewards saying the expected facts in the
expected words; it cannot judge a correct answer worded very differently, which is why the
per-question answers are kept in the validation report for people to read.

Beside it, an evaluation (``core.services.evaluation``) reports per question the exact match
after the same normalisation, a fuzzy similarity of the normalised texts (rapidfuzz's
token-set ratio, 0..1: word order and repeated words do not count against an answer), and,
with a judge connection, an LLM judge's 1-5 score (``core.training.judge``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

_PUNCTUATION = re.compile(r"[^\w\s]", re.UNICODE)
_ARTICLES = frozenset({"a", "an", "the"})


def normalized_words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).casefold()
    return [w for w in _PUNCTUATION.sub(" ", text).split() if w not in _ARTICLES]


def token_f1(answer: str, expected: str) -> float:
    got, want = normalized_words(answer), normalized_words(expected)
    if not got or not want:
        return float(got == want)
    common = sum((Counter(got) & Counter(want)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(got), common / len(want)
    return 2 * precision * recall / (precision + recall)


def exact_match(answer: str, expected: str) -> bool:
    return normalized_words(answer) == normalized_words(expected)


def similarity(answer: str, expected: str) -> float:
    from rapidfuzz import fuzz

    got, want = " ".join(normalized_words(answer)), " ".join(normalized_words(expected))
    if not got or not want:
        return float(got == want)
    return round(fuzz.token_set_ratio(got, want) / 100, 4)


def mean(scores: Iterable[float]) -> float | None:
    values = list(scores)
    return sum(values) / len(values) if values else None
