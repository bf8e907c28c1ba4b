from __future__ import annotations

import random

import pytest

from core.training.pii import describe, find_personal_data
from core.training.text import (
    question_key,
    question_keys,
    sentence_count,
    system_message_advice,
    texts_matching,
)
from core.training.tokens import count_messages, count_text, count_text_batch, encoding_name_for


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("Write to jan.novak@example.com for help.", ["e-mail address"]),
        ("Call +49 30 1234567 or (030) 1234-567.", ["phone number", "phone number"]),
        ("Pay to DE89 3704 0044 0532 0130 00 please.", ["IBAN"]),
        ("Pay to DE89370400440532013000.", ["IBAN"]),
        ("Order 2024-05-01 for 3 relays at 12.50 EUR, part RL-2201.", []),
        ("Not an IBAN: DE00 1234 5678 9012 3456 78.", []),
        ("Orders over 250 EUR ship free within 2 days.", []),
        ("Our order SO-24-118734 has not arrived.", []),
    ],
)
def test_personal_data(text: str, kinds: list[str]) -> None:
    assert [f.kind for f in find_personal_data(text)] == kinds


def test_describe() -> None:
    findings = find_personal_data("a@b.example.com, c@d.example.org, +44 20 7946 0958")
    assert describe(findings) == "2 e-mail addresses, 1 phone number"


def test_question_key_folds_case_space_and_punctuation() -> None:
    assert question_key("What is our  return window?") == question_key("what is our return-window")
    assert question_key("Was kostet Versand?") != question_key("Was kostet Porto?")


def test_sentences_and_advice() -> None:
    assert sentence_count("") == 0
    assert sentence_count("Be brief. Use English! Ok?") == 3
    assert sentence_count("One sentence without stop") == 1
    assert system_message_advice("A. " * 6) is None
    advice = system_message_advice("A. " * 8)
    assert advice is not None and "8 sentences" in advice


def test_tokens_offline() -> None:
    assert count_text("hello world") == 2
    assert count_text_batch(["hello world", "", "<|endoftext|>"])[0:2] == [2, 0]
    # Special tokens in user text are counted as text, never as a control token.
    assert count_text("<|endoftext|>") > 1
    # "user" is one token too (the cookbook counts every string value of a message).
    assert count_messages([{"role": "user", "content": "hello world"}]) == 1 + 2 + 3 + 3
    assert encoding_name_for("gpt-4o-mini-2024-07-18") == "o200k_base"
    assert encoding_name_for("gpt-3.5-turbo-0125") == "cl100k_base"
    assert count_text("hello world", "gpt-3.5-turbo") == 2


_PIECES = [
    *"aZ_ -.,!?@0123456789\t\n\r\x0b\x0c\x1c\x1f",
    "DE89",
    "ß",
    "\u0301",
    "\uac00",
    "ﬁ",
    "①",
    "٣٤",  # Arabic-Indic digits: \d matches them
    "\u3000",  # ideographic space: \s matches it
    "\u00a0",
    "İ",
    "ς",
    "\x00",
]


def _random_texts(seed: int, count: int = 3000) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 14))) for _ in range(count)]


def test_question_keys_equal_question_key_on_each() -> None:
    for seed in range(5):
        texts = _random_texts(seed)
        ascii_only = [t for t in texts if t.isascii()]
        assert question_keys(texts) == [question_key(t) for t in texts]
        assert question_keys(ascii_only) == [question_key(t) for t in ascii_only]


def test_the_literal_scans_find_exactly_what_the_patterns_find() -> None:
    from core.training.pii import _ANY_HINT, texts_with_candidates
    from core.training.tokens import _UNSAFE_SPACE, _UNSAFE_SPACE_ASCII

    for seed in range(5):
        texts = [t.replace("\x00", "") for t in _random_texts(seed)]
        assert texts_with_candidates(texts) == [
            i for i, t in enumerate(texts) if _ANY_HINT.search(t)
        ]
        assert texts_matching(texts, _UNSAFE_SPACE, _UNSAFE_SPACE_ASCII) == [
            i for i, t in enumerate(texts) if _UNSAFE_SPACE.search(t)
        ]
        assert texts_matching(texts, _UNSAFE_SPACE) == [
            i for i, t in enumerate(texts) if _UNSAFE_SPACE.search(t)
        ]


def test_bulk_steps_pause_the_cycle_collector_until_the_outermost_ends() -> None:
    import gc

    from core.training.bulk import bulk, paused_collection

    @bulk
    def inner() -> bool:
        return gc.isenabled()

    assert gc.isenabled()
    with paused_collection():
        assert not inner()
        assert not gc.isenabled()  # the inner step ended, the outer one has not
    assert gc.isenabled()
    gc.disable()
    try:
        inner()
        assert not gc.isenabled()  # a collector that was off stays off
    finally:
        gc.enable()
