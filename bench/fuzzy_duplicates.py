"""Fuzzy duplicate questions at 100,000 Q&As: the blocked scan of ``core.training.similar``
against comparing every pair (on 5,000, where all pairs still finish), in one run.

    python -m bench.fuzzy_duplicates

The questions are a support team's: 100,000 different questions about products, channels,
orders and policies (with order numbers and negations), and among them about 5% asked again
in other words (filler words changed, a typo, a word added or dropped).
"""

from __future__ import annotations

import random
import time

from bench.common import Figure, at_least, at_most, table

ROWS = 100_000
NAIVE_ROWS = 5_000
CHECKED = 2_000
TARGET = 10.0

_SUBJECTS = [
    "instagram", "facebook", "linkedin", "newsletter", "blog", "webshop", "catalogue",
    "invoice", "order", "delivery", "return", "warranty", "refund", "discount", "sample",
    "datasheet", "certificate", "stock", "price", "quote", "relay", "connector", "sensor",
    "cable", "fuse", "terminal", "power supply", "switch", "enclosure", "battery", "charger",
]  # fmt: skip
_VERBS = [
    "post", "send", "update", "check", "order", "return", "cancel", "change", "approve",
    "ship", "replace", "repair", "test", "label", "pack", "store", "quote", "invoice",
]  # fmt: skip
_PLACES = [
    "germany", "austria", "switzerland", "norway", "france", "italy", "spain", "poland",
    "the netherlands", "belgium", "sweden", "denmark", "the uk", "the us", "canada",
]  # fmt: skip
_WHEN = ["today", "this week", "on weekends", "before noon", "after the holidays", "in winter"]
_TEMPLATES = [
    "How often should we {verb} the {subject}?",
    "Can we {verb} the {subject} to {place}?",
    "Who may {verb} a {subject} {when}?",
    "What does it cost to {verb} the {subject} to {place} {when}?",
    "Is it possible to {verb} the {subject} for order {number}?",
    "Why can't we {verb} the {subject} {when}?",
    "When do we {verb} the {subject} for customers in {place}?",
    "Which team decides how to {verb} the {subject} {when}?",
]
_FILLER_SWAPS = [("should we", "do we"), ("Can we", "Could we"), ("What does", "What will")]


def _variant(rng: random.Random, question: str) -> str:
    """The same question asked in other words."""
    roll = rng.random()
    for old, new in _FILLER_SWAPS:
        if old in question and roll < 0.5:
            return question.replace(old, new)
    words = question.rstrip("?").split()
    if roll < 0.75:
        i = rng.randrange(len(words))
        word = words[i]
        if len(word) > 4:
            j = rng.randrange(1, len(word) - 2)
            words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]  # a typo
    else:
        words.insert(rng.randrange(1, len(words)), rng.choice(["please", "usually", "still"]))
    return " ".join(words) + "?"


def questions(count: int, seed: int = 17) -> list[str]:
    rng = random.Random(seed)
    made: list[str] = []
    while len(made) < count:
        if made and rng.random() < 0.05:
            made.append(_variant(rng, rng.choice(made)))
            continue
        made.append(
            rng.choice(_TEMPLATES).format(
                verb=rng.choice(_VERBS),
                subject=rng.choice(_SUBJECTS),
                place=rng.choice(_PLACES),
                when=rng.choice(_WHEN),
                number=rng.randrange(10_000, 99_999),
            )
        )
    return made


def run() -> list[Figure]:
    from core.training.similar import (
        naive_similar_pairs,
        similar_groups,
        similar_pairs,
        similar_to,
    )

    name = "Fuzzy duplicates"
    big = questions(ROWS)
    started = time.perf_counter()
    groups = similar_groups(big)
    blocked_big = time.perf_counter() - started

    extra = questions(ROWS + CHECKED, seed=18)[ROWS:]
    started = time.perf_counter()
    leaks = similar_to(extra, big)
    checked = time.perf_counter() - started

    small = big[:NAIVE_ROWS]
    started = time.perf_counter()
    found = similar_pairs(small)
    blocked_small = time.perf_counter() - started
    started = time.perf_counter()
    reference = naive_similar_pairs(small)
    naive_small = time.perf_counter() - started
    recall = len(found & reference) / len(reference) if reference else 1.0
    # What all pairs would cost at 100,000: the 5,000-row time scaled by the pair count.
    scale = (ROWS * (ROWS - 1)) / (NAIVE_ROWS * (NAIVE_ROWS - 1))
    return [
        at_most(
            name,
            f"blocked scan, {ROWS:,} questions",
            blocked_big,
            TARGET,
            f"{len(groups):,} groups",
        ),
        Figure(
            name,
            f"{CHECKED:,} new questions against {ROWS:,} (import, leakage check)",
            checked,
            "s",
            note=f"{len(leaks):,} with a similar existing question",
        ),
        Figure(name, f"blocked scan, {NAIVE_ROWS:,} questions", blocked_small, "s"),
        Figure(
            name,
            f"all pairs, {NAIVE_ROWS:,} questions",
            naive_small,
            "s",
            note=f"≈ {naive_small * scale / 3600:,.1f} h at {ROWS:,} by the pair count",
        ),
        at_least(
            name,
            f"all pairs ÷ blocked, {NAIVE_ROWS:,} questions",
            naive_small / blocked_small,
            10,
        ),
        Figure(
            name,
            f"pairs found, blocked vs all pairs ({NAIVE_ROWS:,})",
            100 * recall,
            "%",
            note=f"{len(found):,} of {len(reference):,}; {len(found - reference)} not in all pairs",
        ),
    ]


if __name__ == "__main__":
    print(table(run()))
