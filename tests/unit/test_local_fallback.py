"""The offline local provider answers only from an example about the question: similarity
carried by "what is the" alone is not enough."""

from __future__ import annotations

from core.providers.local import shares_substance


def test_filler_words_alone_do_not_make_an_answer() -> None:
    assert not shares_substance(
        "What is the weather in Paris tomorrow?",
        "What is the escalation path in Support?",
        "First line, then the product specialist, then the quality team.",
    )
    assert not shares_substance(
        "How do I reset my password?", "How do I check stock?", "Open the ERP's stock view."
    )


def test_a_word_of_substance_in_common_does() -> None:
    assert shares_substance(
        "What are your opening hours?",
        "What are our office and warehouse hours?",
        "Monday to Friday, 8 to 17.",
    )
    # Compared by their first five letters: returned meets returns.
    assert shares_substance("Can it be returned?", "Returns", "Within 30 days.")
    # A question of filler only (e.g. "why?") is left to the similarity alone.
    assert shares_substance("Why?", "Anything", "Anything")
