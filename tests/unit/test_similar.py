"""The near-duplicate matcher: what counts as the same question, and that the blocked scan
finds what comparing every pair finds."""

from __future__ import annotations

import random

from core.training.similar import (
    answers_differ,
    naive_similar_pairs,
    one_word_apart,
    similar_groups,
    similar_pairs,
    similar_to,
)

INSTAGRAM = "How often should we post on Instagram?"


def test_other_filler_words_are_the_same_question() -> None:
    assert similar_groups(
        [INSTAGRAM, "Tell me the weather", "How often do we post on Instagram?"]
    ) == [[0, 2]]


def test_a_typo_and_case_and_punctuation_are_the_same_question() -> None:
    questions = [
        INSTAGRAM,
        "how often should we post on instagarm",
        "HOW OFTEN SHOULD WE POST ON INSTAGRAM",
    ]
    assert similar_groups(questions) == [[0, 1, 2]]


def test_another_subject_number_or_negation_is_another_question() -> None:
    questions = [
        INSTAGRAM,
        "How often should we post on Facebook?",
        "Can we post on Instagram?",
        "Can't we post on Instagram?",
        "What is the status of order 12345?",
        "What is the status of order 12346?",
        "When do we ship to customers in France?",
        "When do we ship to customers in Norway?",
    ]
    assert similar_groups(questions) == []


def test_one_word_apart() -> None:
    assert one_word_apart(frozenset({"post", "instagram"}), frozenset({"post", "instagram"}))
    assert one_word_apart(frozenset({"post", "instagram"}), frozenset({"post", "instagarm"}))
    assert one_word_apart(frozenset({"post"}), frozenset({"post", "instagram"}))
    assert not one_word_apart(frozenset({"post", "france"}), frozenset({"post", "norway"}))
    assert not one_word_apart(frozenset({"a1", "b1"}), frozenset({"c1", "d1"}))


def test_similar_to_names_the_existing_questions() -> None:
    existing = ["Do we ship to Norway?", INSTAGRAM, "how often should we post on instagram"]
    assert similar_to(["How often do we post on Instagram?", "Who signs invoices?"], existing) == {
        0: [1, 2]
    }


def test_answers_differ_only_when_they_say_something_else() -> None:
    assert not answers_differ("Twice a week.", "twice a week")
    assert not answers_differ("Twice a week on weekdays.", "Twice a week on weekdyas.")
    assert answers_differ("Twice a week.", "Once a month, on Mondays.")


def _questions(count: int) -> list[str]:
    rng = random.Random(5)
    subjects = ["instagram", "invoice", "relay", "warranty", "datasheet", "newsletter", "refund"]
    verbs = ["post", "send", "check", "cancel", "update", "approve"]
    places = ["france", "norway", "spain", "poland", "the uk"]
    made: list[str] = []
    for _ in range(count):
        if made and rng.random() < 0.2:
            words = rng.choice(made).split()
            i = rng.randrange(len(words))
            if len(words[i]) > 4:
                words[i] = words[i][:2] + words[i][3] + words[i][2] + words[i][4:]
            made.append(" ".join(words))
        else:
            made.append(
                f"How {rng.choice(['should', 'do', 'can'])} we {rng.choice(verbs)} the "
                f"{rng.choice(subjects)} to {rng.choice(places)}?"
            )
    return made


def test_the_blocked_scan_finds_the_pairs_all_pairs_find() -> None:
    questions = _questions(400)
    reference = naive_similar_pairs(questions)
    assert len(reference) > 100
    assert similar_pairs(questions) == reference


def test_groups_join_the_pairs() -> None:
    questions = _questions(300)
    pairs = similar_pairs(questions)
    grouped = {i for group in similar_groups(questions) for i in group}
    assert grouped == {i for pair in pairs for i in pair}


def test_similar_to_finds_what_the_whole_scan_finds_across_the_two_sets() -> None:
    questions = _questions(400)
    existing, new = questions[:300], questions[300:]
    expected: dict[int, list[int]] = {}
    for a, b in sorted(similar_pairs(questions)):
        if a < 300 <= b:
            expected.setdefault(b - 300, []).append(a)
    assert expected and similar_to(new, existing) == expected


def test_a_validation_split_is_seeded_per_section_and_keeps_near_duplicates_together() -> None:
    from core.training.split import split_validation

    questions = [
        f"What is rule {n} about {topic}?" for topic in ("refunds", "invoices") for n in range(50)
    ]
    questions += [INSTAGRAM, "How often do we post on Instagram?"] * 5
    sections = ["Refunds"] * 50 + ["Invoices"] * 50 + ["Social"] * 10
    first = split_validation(sections, questions, 0.1, seed=3)
    assert first == split_validation(sections, questions, 0.1, seed=3)
    assert first != split_validation(sections, questions, 0.1, seed=4)
    per_section = {
        s: sum(v for v, t in zip(first, sections, strict=True) if t == s) for s in set(sections)
    }
    assert per_section["Refunds"] == per_section["Invoices"] == 5
    # The Instagram questions are one group: all on one side, and training keeps the only group.
    assert per_section["Social"] == 0
    for group in similar_groups(questions):
        assert len({first[i] for i in group}) == 1
