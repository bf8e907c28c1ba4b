"""The training-set builder, the validator (on a corpus of malformed files), token counting
and the cost estimate."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import pytest

from core.training import tokens
from core.training.builder import (
    ConversationRecord,
    Example,
    MessageRecord,
    QARecord,
    SourceData,
    SourceRef,
    build_training_set,
    parse_jsonl,
)
from core.training.cost import auto_epochs, estimate
from core.training.diff import diff_manifests
from core.training.hierarchy import Relation
from core.training.validator import example_token_limit, validate, validate_jsonl
from tests.paths import DATA

CORPUS = DATA / "training"


def _codes(report: object, severity: str) -> set[str]:
    return {f.code for f in report.findings if f.severity == severity}  # type: ignore[attr-defined]


def test_a_good_file_has_no_errors_and_counts_tokens() -> None:
    report = validate_jsonl((CORPUS / "good.jsonl").read_bytes())
    assert report.ok, [str(f) for f in report.findings]
    assert report.example_count == 12
    assert _codes(report, "warning") == {"few_examples"}
    first = json.loads((CORPUS / "good.jsonl").read_text().splitlines()[0])
    assert report.example_tokens[0] == tokens.count_messages(first["messages"])
    assert report.total_tokens == sum(report.example_tokens) > 12 * 20


CORPUS_CASES = [
    ("not_a_dict.jsonl", "data_type", 3),
    ("missing_messages.jsonl", "missing_messages_list", 4),
    ("message_missing_role.jsonl", "message_missing_key", 5),
    ("message_missing_content.jsonl", "message_missing_key", 5),
    ("message_not_object.jsonl", "message_not_object", 3),
    ("unrecognized_key.jsonl", "message_unrecognized_key", 6),
    ("bad_role.jsonl", "unrecognized_role", 7),
    ("null_content.jsonl", "missing_content", 2),
    ("empty_content.jsonl", "missing_content", 2),
    ("content_not_text.jsonl", "content_not_text", 8),
    ("no_assistant.jsonl", "example_missing_assistant_message", 9),
    ("weight_on_user.jsonl", "weight_not_assistant", 10),
    ("invalid_weight.jsonl", "invalid_weight", 11),
    ("nothing_learnable.jsonl", "no_learnable_message", 12),
    ("special_token.jsonl", "special_token", 1),
    ("invalid_json.jsonl", "invalid_line", 4),
    ("empty_line.jsonl", "invalid_line", 6),
    ("not_utf8.jsonl", "invalid_line", 5),
    ("too_long.jsonl", "too_many_tokens", 7),
    ("too_few.jsonl", "too_few_examples", None),
]


@pytest.mark.parametrize(("name", "code", "line"), CORPUS_CASES, ids=[c[0] for c in CORPUS_CASES])
def test_each_malformed_file_gives_its_error_on_its_line(
    name: str, code: str, line: int | None
) -> None:
    report = validate_jsonl((CORPUS / name).read_bytes(), base_model="gpt-4o-mini-2024-07-18")
    errors = [f for f in report.findings if f.severity == "error"]
    assert [(f.code, f.line) for f in errors] == [(code, line)], [str(f) for f in errors]
    if line is not None:
        assert f"line {line}" in str(errors[0])


def test_every_file_of_the_corpus_is_covered() -> None:
    covered = {name for name, _, _ in CORPUS_CASES} | {"good.jsonl", "warnings.jsonl"}
    assert {p.name for p in CORPUS.glob("*.jsonl")} == covered


def test_warnings_name_their_lines() -> None:
    report = validate_jsonl((CORPUS / "warnings.jsonl").read_bytes())
    assert report.ok
    found = {(f.code, f.line) for f in report.findings}
    assert ("contradiction", 1) in found  # rule 1 answered twice, differently (lines 1, 12)
    assert ("personal_data", 13) in found
    assert ("short_answer", 14) in found
    assert ("duplicate", 3) in found  # line 15 repeats line 3
    contradiction = next(f for f in report.findings if f.code == "contradiction")
    assert {s.record_id for s in contradiction.sources} == {1, 12}


def test_token_limit_depends_on_the_base_model() -> None:
    assert example_token_limit("gpt-4o-mini-2024-07-18") == 65_536
    assert example_token_limit("gpt-3.5-turbo-0125") == 16_385


def _qa(i: int, model: int = 1, question: str | None = None, answer: str = "") -> QARecord:
    return QARecord(i, model, question or f"Question {i}?", answer or f"Answer number {i}.")


def test_builder_is_deterministic_and_puts_the_system_message_everywhere() -> None:
    qas = [_qa(i) for i in range(1, 21)]
    conv = ConversationRecord(
        7,
        1,
        (
            MessageRecord("user", "Can I return a relay?"),
            MessageRecord("assistant", "Yes, within 14 days.", 0),
            MessageRecord("user", "Are you sure?"),
            MessageRecord("assistant", "Sorry: within 30 days.", 1),
        ),
    )
    one = build_training_set("Be brief.", [SourceData(1, "Master", Relation.OWN, qas, [conv])])
    shuffled = list(reversed(qas))
    renumbered = [QARecord(q.id + 100, q.model_id, q.question, q.answer) for q in shuffled]
    two = build_training_set(
        "Be brief.", [SourceData(1, "Master", Relation.OWN, renumbered, [conv])]
    )
    assert one.content == two.content and one.sha256 == two.sha256
    lines = one.content.decode().splitlines()
    assert len(lines) == one.size == 21
    for line in lines:
        first = json.loads(line)["messages"][0]
        assert first == {"role": "system", "content": "Be brief."}
    conversation = next(e for e in one.examples if e.sources[0].kind == "conversation")
    assert [m.get("weight") for m in conversation.data["messages"]] == [None, None, 0, None, 1]
    assert json.loads(lines[conversation.line - 1]) == conversation.data
    assert validate(one.examples).ok


def test_identical_examples_are_kept_once_with_every_source() -> None:
    master = SourceData(1, "Master", Relation.OWN, [_qa(1, 1, "Same?", "Same answer here.")])
    child = SourceData(2, "Sales", Relation.AGGREGATED, [_qa(2, 2, "Same?", "Same answer here.")])
    built = build_training_set("", [master, child])
    assert built.size == 1 and built.duplicates_removed == 1
    assert [s.key for s in built.examples[0].sources] == ["qa:1", "qa:2"]
    assert "system" not in built.content.decode()
    report = validate(built.examples)
    dup = next(f for f in report.findings if f.code == "duplicate")
    assert "Sales" in str(dup) and "Master" in str(dup)


def test_a_conversation_with_its_own_system_message_keeps_it() -> None:
    conv = ConversationRecord(
        3,
        1,
        (
            MessageRecord("system", "Own."),
            MessageRecord("user", "Hi"),
            MessageRecord("assistant", "Hello!", 1),
        ),
    )
    built = build_training_set("Model's.", [SourceData(1, "M", Relation.OWN, (), [conv])])
    assert [m["content"] for m in built.examples[0].data["messages"]] == ["Own.", "Hi", "Hello!"]


def test_the_file_parser_reads_what_the_builder_wrote() -> None:
    built = build_training_set(
        "S.", [SourceData(1, "M", Relation.OWN, [_qa(i) for i in range(12)])]
    )
    parsed, broken = parse_jsonl(built.content)
    assert not broken
    assert [e.data for e in parsed] == [e.data for e in built.examples]
    assert [e.digest for e in parsed] == [e.digest for e in built.examples]


def test_diff_names_added_removed_and_changed_records() -> None:
    old = build_training_set("S.", [SourceData(1, "M", Relation.OWN, [_qa(1), _qa(2), _qa(3)])])
    new = build_training_set(
        "S.", [SourceData(1, "M", Relation.OWN, [_qa(1), _qa(3, answer="New text."), _qa(4)])]
    )
    diff = diff_manifests(old.manifest(), new.manifest())
    assert (diff.added, diff.removed, diff.changed, diff.unchanged) == (1, 1, 1, 1)
    assert [r.key for r in diff.added_records] == ["qa:4"]
    assert [r.key for r in diff.removed_records] == ["qa:2"]
    assert [r.key for r in diff.changed_records] == ["qa:3"]
    assert not diff_manifests(new.manifest(), new.manifest()).any
    # The pre-flight compares a stored manifest with the examples themselves.
    stored = json.loads(json.dumps(old.manifest()))
    assert diff_manifests(stored, [(e.digest, e.sources) for e in new.examples]) == diff


_ALPHABET = [
    *"abcXYZ  \t\n\r.,;:'!?\"()-_/0123456789",
    "é",
    "ß",
    "ж",
    "中",
    "😀",
    "\u00a0",
    "\u3000",
    "'s",
    "'LL",
    "\u0301",
    "\x1c",
    "<|endoftext|>",
    "\r\n",
    "  ",
    " hello",
    " world",
    "Northwind",
]


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-3.5-turbo"])
def test_fast_token_counts_equal_tiktoken_exactly(model: str) -> None:
    rng = random.Random(11)
    texts = ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 50))) for _ in range(5000)]
    encoding = tokens.get_encoding(tokens.encoding_name_for(model))
    expected = [len(encoding.encode_ordinary(t)) for t in texts]
    assert tokens.count_text_batch(texts, model) == expected
    assert tokens.count_text_batch(texts, model) == expected  # from the warm cache


def test_auto_epochs_follow_the_guide() -> None:
    assert auto_epochs(10) == 10
    assert auto_epochs(50) == 3
    assert auto_epochs(100_000) == 1
    assert auto_epochs(20_000) == 1
    assert auto_epochs(5_000) == 3


def test_cost_estimate() -> None:
    est = estimate(
        [100, 200, 70_000], n_epochs=None, token_limit=65_536, price_per_million=Decimal("3.00")
    )
    assert est.epochs == 25 and est.epochs_auto  # 3 examples: 100 // 3 capped at 25
    assert est.tokens_per_epoch == 100 + 200 + 65_536
    assert est.billed_tokens == est.tokens_per_epoch * 25
    assert est.cost == Decimal("4.9377")
    fixed = estimate([1_000_000], n_epochs=2, token_limit=10**7, price_per_million=Decimal("3"))
    assert (fixed.billed_tokens, fixed.cost, fixed.epochs_auto) == (
        2_000_000,
        Decimal("6.0000"),
        False,
    )


def test_validate_command_names_lines_and_fails_on_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from core.cli import main

    assert main(["validate", str(CORPUS / "good.jsonl")]) == 0
    assert "12 examples" in capsys.readouterr().out
    assert main(["validate", str(CORPUS / "bad_role.jsonl")]) == 1
    out = capsys.readouterr().out
    assert "bad_role.jsonl:7: error: message 1 has the unknown role 'customer'" in out
    assert main(["validate", str(CORPUS / "missing-file.jsonl")]) == 1
    assert "Cannot read" in capsys.readouterr().err


def test_the_personal_data_prefilter_never_misses_a_finding() -> None:
    from core.training.pii import find_personal_data, texts_with_candidates

    rng = random.Random(5)
    pieces = [*"0123456789 -.()+@abcXYZDEGB\n", "DE89 3704 0044 0532 0130 00", "jan@x.example.com"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 30))) for _ in range(3000)]
    with_findings = {i for i, t in enumerate(texts) if find_personal_data(t)}
    assert with_findings and with_findings <= set(texts_with_candidates(texts))


def _random_example(rng: random.Random, number: int) -> Example:
    """A plain Q&A-shaped example, or one with any of the faults the validator knows."""
    roles = ["system", "user", "assistant", "assistant", "tool", "customer", None, 5]
    texts = ["Hi", "ok", "Yes, within 14 days.", "Call +49 30 1234567 now", "x@y.example",
             "<|endoftext|> x", "Question one?", "question ONE", "word " * 1600, "ok" + " ." * 25,
             "", " ", None,
             3, ["x"], "DE89 3704 0044 0532 0130 00", "a  b"]  # fmt: skip

    def message() -> dict[str, object]:
        m: dict[str, object] = {}
        if rng.random() < 0.95:
            m["role"] = rng.choice(roles[:4] if rng.random() < 0.9 else roles)
        if rng.random() < 0.95:
            m["content"] = rng.choice(texts[:10] if rng.random() < 0.9 else texts)
        if rng.random() < 0.15:
            m["weight"] = rng.choice([0, 1, 1, 2, True, None])
        if rng.random() < 0.05:
            m["name"] = rng.choice(["bob", "", 4])
        if rng.random() < 0.03:
            m["tool_calls"] = []
        return m

    data: object
    r = rng.random()
    if r < 0.02:
        data = [1]
    elif r < 0.04:
        data = {"messages": rng.choice([[], "x", [1, "x"]])}
    elif r < 0.5:
        data = {
            "messages": [
                {"role": "system", "content": "S"},
                {"role": "user", "content": rng.choice(texts[:10])},
                {"role": "assistant", "content": rng.choice(texts[:10])},
            ]
        }
    else:
        data = {"messages": [message() for _ in range(rng.randint(1, 6))]}
    sources = (
        (SourceRef("line", number),)
        if rng.random() < 0.5
        else tuple(SourceRef("qa", rng.randint(1, 50), 1, "M") for _ in range(rng.randint(1, 3)))
    )
    return Example(number, data, sources, str(rng.randint(1, 30)))


def test_list_wise_checks_find_what_the_one_by_one_checks_find() -> None:
    rng = random.Random(3)
    seen: set[str] = set()
    for _ in range(30):
        examples = [_random_example(rng, n) for n in range(1, rng.randint(2, 300))]
        limit = rng.choice([None, 60])
        fast = validate(examples, token_limit=limit)
        reference = validate(examples, token_limit=limit, listwise=False)
        assert fast.example_tokens == reference.example_tokens
        assert fast.counts == reference.counts
        assert [f.as_json() for f in fast.findings] == [f.as_json() for f in reference.findings]
        seen.update(code for _, code in fast.counts)
    # The generator reaches every kind of finding of an example.
    assert seen >= {
        "contradiction",
        "duplicate",
        "personal_data",
        "special_token",
        "short_answer",
        "long_answer",
        "no_learnable_message",
        "example_missing_assistant_message",
        "too_many_tokens",
        "invalid_weight",
        "weight_not_assistant",
        "missing_content",
        "content_not_text",
        "unrecognized_role",
        "message_missing_key",
        "message_not_object",
        "missing_messages_list",
        "data_type",
    }, seen
