"""Validation of a training set against the providers' rules, for a model's compiled set
and for any JSONL file alike (``python -m core validate FILE``).

Errors (the provider would reject the file, or the example teaches nothing) follow the
format checks of OpenAI's chat data-preparation guide (not a dict, missing messages list,
message missing role or content, unrecognised keys or roles, missing content, no assistant
message) plus: weights only 0 or 1 and only on assistant messages, at least one learnable
assistant message, empty content, special tokens such as ``<|endoftext|>``, the base
model's per-example token limit, and the minimum of 10 examples.

Warnings (worth a look, not blocking): duplicates, contradicting answers to the same
question, personal data, very short or very long answers, fewer than 50 examples.

Every finding names where it is: the example's line and the records it came from.

A file is read line by line (``validate_stream``): what is kept across lines is a few
numbers per example, so memory stays small whatever the file's size.
"""

from __future__ import annotations

import io
import itertools
import re
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from core.training import pii, tokens
from core.training.builder import Example, SourceRef, parse_line, read_lines
from core.training.text import question_key

MIN_EXAMPLES = 10
RECOMMENDED_EXAMPLES = 50
DEFAULT_EXAMPLE_TOKEN_LIMIT = 65_536
SHORT_ANSWER_WORDS = 3
LONG_ANSWER_WORDS = 1_500
# Each kind of finding is listed this many times at most; the count is always complete.
FINDINGS_PER_CODE = 200
# Examples whose texts are counted and checked together before they are let go: enough
# to share the work, few enough to keep memory small.
_BATCH = 1_000
_BATCH_CHARACTERS = 4_000_000

ROLES = frozenset({"system", "user", "assistant", "tool", "function"})
MESSAGE_KEYS = frozenset(
    {"role", "content", "name", "weight", "function_call", "tool_calls", "tool_call_id"}
)
_SPECIAL_TOKEN = re.compile(r"<\|[A-Za-z0-9_]+\|>")
_WORD = re.compile(r"\w+")


def example_token_limit(base_model: str | None) -> int:
    """Tokens one training example may hold for this base model."""
    name = (base_model or "").removeprefix("ft:")
    if name.startswith("gpt-3.5"):
        return 16_385
    return DEFAULT_EXAMPLE_TOKEN_LIMIT


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" or "warning"
    code: str
    message: str
    line: int | None = None  # the example's line in the training file
    sources: tuple[SourceRef, ...] = ()

    @property
    def where(self) -> str:
        if self.sources and self.sources[0].kind != "line":
            named = ", ".join(s.describe() for s in self.sources[:3])
            more = f" and {len(self.sources) - 3} more" if len(self.sources) > 3 else ""
            return named + more + (f" (line {self.line})" if self.line else "")
        return f"line {self.line}" if self.line else "training set"

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message}"

    def as_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "line": self.line,
            "sources": [s.as_json() for s in self.sources],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        return cls(
            data["severity"],
            data["code"],
            data["message"],
            data.get("line"),
            tuple(SourceRef.from_json(s) for s in data.get("sources", [])),
        )


@dataclass
class Report:
    example_count: int
    example_tokens: list[int]
    token_limit: int
    findings: list[Finding] = field(default_factory=list)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def total_tokens(self) -> int:
        return sum(self.example_tokens)

    @property
    def errors(self) -> int:
        return sum(n for (severity, _), n in self.counts.items() if severity == "error")

    @property
    def warnings(self) -> int:
        return sum(n for (severity, _), n in self.counts.items() if severity == "warning")

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def add(self, finding: Finding) -> None:
        key = (finding.severity, finding.code)
        seen = self.counts.get(key, 0)
        self.counts[key] = seen + 1
        if seen < FINDINGS_PER_CODE:
            self.findings.append(finding)

    def summary(self) -> str:
        return (
            f"{self.example_count:,} examples, {self.total_tokens:,} tokens, "
            f"{_plural(self.errors, 'error')}, {_plural(self.warnings, 'warning')}"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "example_count": self.example_count,
            "total_tokens": self.total_tokens,
            "token_limit": self.token_limit,
            "errors": self.errors,
            "warnings": self.warnings,
            "counts": [[s, c, n] for (s, c), n in sorted(self.counts.items())],
            "findings": [f.as_json() for f in self.findings],
        }


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


class _Checker:
    """One pass over the examples, in batches: the texts of a batch are counted and checked
    for personal data together, then let go; across batches only a few numbers per example
    are kept (for duplicates and contradictions), so that a file of any size is checked in
    bounded memory."""

    def __init__(self, report: Report, base_model: str | None, examples: Sequence[Example]) -> None:
        self.report = report
        self.base_model = base_model
        # In memory (a model's set): the examples, for their sources. A file: nothing kept.
        self.examples = examples
        self.count = 0
        # The current batch: its examples, its distinct texts, per example the indexes of
        # its texts and the fixed per-message overhead, and every content with its place.
        self.batch: list[Example] = []
        self.batch_characters = 0
        self.texts: dict[str, int] = {}
        self.example_texts: list[list[int]] = []
        self.overhead: list[int] = []
        self.contents: list[tuple[int, Example, int]] = []
        # Across batches, 8 bytes a value. Texts are compared by their 64-bit hashes: a
        # collision could at worst add a duplicate warning, never an error.
        self.lines = array("q")  # the line of each example
        self.pair_keys = array("q")  # question asked alone, normalised
        self.pair_answers = array("q")  # its answer, spacing and case folded
        self.pair_digests = array("q")  # the example's line digest
        self.pair_examples = array("q")
        self.line_digests = array("q")  # examples read from file lines: the line digest
        self.line_examples = array("q")

    def error(self, example: Example, code: str, message: str) -> None:
        self.report.add(Finding("error", code, message, example.line, example.sources))

    def warn(self, example: Example, code: str, message: str) -> None:
        self.report.add(Finding("warning", code, message, example.line, example.sources))

    def text_index(self, text: str) -> int:
        index = self.texts.get(text)
        if index is None:
            index = self.texts[text] = len(self.texts)
            self.batch_characters += len(text)
        return index

    def add(self, example: Example) -> None:
        ordinal = self.count
        self.count += 1
        self.lines.append(example.line)
        if example.sources and example.sources[0].kind == "line":
            self.line_digests.append(hash(example.digest))
            self.line_examples.append(ordinal)
        elif len(example.sources) > 1:
            self.warn(
                example,
                "duplicate",
                f"{len(example.sources)} records give this identical example; it is kept once",
            )
        self.batch.append(example)
        self.check(example, ordinal)
        if len(self.batch) >= _BATCH or self.batch_characters >= _BATCH_CHARACTERS:
            self.flush()

    def check(self, example: Example, ordinal: int) -> None:
        indexes: list[int] = []
        self.example_texts.append(indexes)
        self.overhead.append(0)
        data = example.data
        if not isinstance(data, dict):
            self.error(example, "data_type", "the example is not a JSON object")
            return
        messages = data.get("messages")
        if not isinstance(messages, list) or not messages:
            self.error(example, "missing_messages_list", 'the example has no "messages" list')
            return
        overhead = tokens.TOKENS_PER_REPLY
        assistants = learnable = 0
        last_user: str | None = None
        users = 0
        for position, message in enumerate(messages, start=1):
            if not isinstance(message, dict):
                self.error(
                    example, "message_not_object", f"message {position} is not a JSON object"
                )
                continue
            overhead += tokens.TOKENS_PER_MESSAGE
            role = message.get("role")
            content = message.get("content")
            weight = message.get("weight")
            well_formed = (
                role in ROLES
                and type(content) is str
                and content
                and not content.isspace()
                and MESSAGE_KEYS.issuperset(message)
                and ("weight" not in message or (role == "assistant" and weight in (0, 1)))
                and type(weight) is not bool
            )
            if not well_formed:
                content = self.check_message(example, position, message)
            if isinstance(role, str):
                indexes.append(self.text_index(role))
            if isinstance(content, str):
                indexes.append(self.text_index(content))
                if "<|" in content:
                    found = _SPECIAL_TOKEN.search(content)
                    if found:
                        self.error(
                            example,
                            "special_token",
                            f"message {position} contains the special token {found.group()}; "
                            "providers reject or misread it",
                        )
                self.contents.append((indexes[-1], example, position))
            name = message.get("name")
            if isinstance(name, str) and name:
                indexes.append(self.text_index(name))
                overhead += 1
            if role == "user" and isinstance(content, str):
                users += 1
                last_user = content
            elif role == "assistant":
                assistants += 1
                if weight != 0:
                    learnable += 1
                    if isinstance(content, str) and content and not content.isspace():
                        self.check_length(example, position, content)
                        if last_user is not None and users == 1:
                            self.add_pair(example, ordinal, last_user, content)
        self.overhead[-1] = overhead
        if assistants == 0:
            self.error(example, "example_missing_assistant_message", "no assistant message")
        elif learnable == 0:
            self.error(
                example,
                "no_learnable_message",
                "every assistant message has weight 0: the example teaches nothing",
            )

    def check_message(self, example: Example, position: int, message: dict[str, Any]) -> Any:
        """The detailed checks of a message that is not plainly well formed; returns its
        content if it is text, else None."""
        where = f"message {position}"
        has_calls = "function_call" in message or "tool_calls" in message
        for key in ("role", "content"):
            if key not in message and not (key == "content" and has_calls):
                self.error(example, "message_missing_key", f'{where} has no "{key}"')
        unknown = set(message) - MESSAGE_KEYS
        if unknown:
            self.error(
                example,
                "message_unrecognized_key",
                f"{where} has unrecognised keys: {', '.join(sorted(map(str, unknown)))}",
            )
        role = message.get("role")
        if "role" in message and role not in ROLES:
            self.error(example, "unrecognized_role", f"{where} has the unknown role {role!r}")
        content = message.get("content")
        if content is None:
            if "content" in message and not has_calls:
                self.error(example, "missing_content", f"{where} ({role}) has no content")
        elif not isinstance(content, str):
            self.error(example, "content_not_text", f"{where} ({role}): content must be text")
            content = None
        elif not content.strip():
            self.error(example, "missing_content", f"{where} ({role}) has empty content")
        if "weight" in message:
            weight = message["weight"]
            if role != "assistant":
                self.error(
                    example,
                    "weight_not_assistant",
                    f"{where} ({role}): only assistant messages may have a weight",
                )
            elif isinstance(weight, bool) or weight not in (0, 1):
                self.error(example, "invalid_weight", f"{where}: weight must be 0 or 1")
        return content

    def add_pair(self, example: Example, ordinal: int, question: str, answer: str) -> None:
        key = question_key(question)
        if key:
            self.pair_keys.append(hash(key))
            self.pair_answers.append(hash(" ".join(answer.split()).casefold()))
            self.pair_digests.append(hash(example.digest))
            self.pair_examples.append(ordinal)

    def flush(self) -> None:
        """Count the tokens of the batch and check its personal data, then let it go."""
        if not self.batch:
            return
        self.check_personal_data()
        counts = tokens.count_text_batch(list(self.texts), self.base_model)
        limit = self.report.token_limit
        for example, indexes, overhead in zip(
            self.batch, self.example_texts, self.overhead, strict=True
        ):
            count = sum(counts[i] for i in indexes) + overhead if indexes else 0
            self.report.example_tokens.append(count)
            if count > limit:
                self.error(
                    example,
                    "too_many_tokens",
                    f"{count:,} tokens; {self.base_model or 'the base model'} takes at most "
                    f"{limit:,} per example",
                )
        self.batch, self.texts, self.example_texts, self.overhead = [], {}, [], []
        self.contents, self.batch_characters = [], 0

    def sources_of(self, ordinal: int) -> tuple[SourceRef, ...]:
        if self.examples:
            return self.examples[ordinal].sources
        return (SourceRef("line", self.lines[ordinal]),)

    def check_personal_data(self) -> None:
        texts = list(self.texts)
        flagged = {
            i: found
            for i in pii.texts_with_candidates(texts)
            if (found := pii.describe(pii.find_personal_data(texts[i])))
        }
        if not flagged:
            return
        for index, example, position in self.contents:
            if index in flagged:
                self.warn(
                    example,
                    "personal_data",
                    f"message {position} contains personal data: {flagged[index]}",
                )

    def check_length(self, example: Example, position: int, answer: str) -> None:
        where = f"message {position}"
        words = len(_WORD.findall(answer)) if len(answer) < 64 else answer.count(" ") + 1
        if words < SHORT_ANSWER_WORDS:
            self.warn(
                example, "short_answer", f"{where}: a very short answer ({_plural(words, 'word')})"
            )
        elif words > LONG_ANSWER_WORDS:
            self.warn(
                example, "long_answer", f"{where}: a very long answer (about {words:,} words)"
            )

    def check_pairs(self) -> None:
        """The same question (ignoring case, spacing, punctuation) asked more than once."""
        for members in _groups(self.pair_keys):
            if len({self.pair_digests[i] for i in members}) == 1:
                continue  # the same line repeated: reported as an identical example
            ordinals = [self.pair_examples[i] for i in members]
            sources = tuple(s for o in ordinals for s in self.sources_of(o))
            lines = ", ".join(str(self.lines[o]) for o in ordinals[:10])
            distinct = len({self.pair_answers[i] for i in members})
            if distinct > 1:
                code, message = (
                    "contradiction",
                    f"the same question has {distinct} different answers (lines {lines})",
                )
            else:
                code = "duplicate"
                message = f"the same question and answer appear more than once (lines {lines})"
            self.report.add(Finding("warning", code, message, self.lines[ordinals[0]], sources))

    def check_identical_lines(self) -> None:
        for members in _groups(self.line_digests):
            ordinals = [self.line_examples[i] for i in members]
            lines = ", ".join(str(self.lines[o]) for o in ordinals[:10])
            first = ordinals[0]
            self.report.add(
                Finding(
                    "warning",
                    "duplicate",
                    f"identical examples on lines {lines}",
                    self.lines[first],
                    self.sources_of(first),
                )
            )


def _groups(values: array[int]) -> list[list[int]]:
    """The positions of the values that occur more than once, grouped, in the order of
    their first occurrence."""
    order = sorted(range(len(values)), key=values.__getitem__)
    groups = [
        members
        for _, group in itertools.groupby(order, key=values.__getitem__)
        if len(members := list(group)) > 1
    ]
    groups.sort(key=lambda members: members[0])
    return groups


def validate(
    examples: Sequence[Example],
    *,
    base_model: str | None = None,
    token_limit: int | None = None,
    broken_lines: Iterable[tuple[int, str]] = (),
    allow_empty: bool = False,
) -> Report:
    """Check a training set; also counts the tokens of every example. ``allow_empty``: no
    examples at all is fine (a model without training data gets a configuration-only
    version)."""
    report = _report(base_model, token_limit)
    for line, message in broken_lines:
        _broken(report, line, message)
    checker = _Checker(report, base_model, examples)
    for example in examples:
        checker.add(example)
    return _finish(checker, allow_empty=allow_empty)


def validate_stream(
    stream: IO[bytes], *, base_model: str | None = None, token_limit: int | None = None
) -> Report:
    """Check a JSONL training file of any size, reading it line by line: memory grows with
    the number of lines (a few dozen bytes each), never with their length."""
    report = _report(base_model, token_limit)
    checker = _Checker(report, base_model, ())
    for number, raw in read_lines(stream):
        if number == 1 and raw is not None and raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            # Every line would be an error of its own; one says it all.
            _broken(report, 1, "the file is UTF-16 text; save it as UTF-8")
            break
        parsed = parse_line(number, raw)
        if isinstance(parsed, str):
            _broken(report, number, parsed)
        else:
            checker.add(parsed)
    return _finish(checker, allow_empty=False)


def validate_jsonl(content: bytes, *, base_model: str | None = None) -> Report:
    """Check any JSONL training file held in memory; findings name its lines."""
    return validate_stream(io.BytesIO(content), base_model=base_model)


def _report(base_model: str | None, token_limit: int | None) -> Report:
    limit = token_limit or example_token_limit(base_model)
    return Report(example_count=0, example_tokens=[], token_limit=limit)


def _broken(report: Report, line: int, message: str) -> None:
    report.add(Finding("error", "invalid_line", message, line, (SourceRef("line", line),)))


def _finish(checker: _Checker, *, allow_empty: bool) -> Report:
    checker.flush()
    checker.check_identical_lines()
    checker.check_pairs()
    report = checker.report
    total = report.example_count = checker.count
    if total == 0 and allow_empty:
        pass
    elif total < MIN_EXAMPLES:
        report.add(
            Finding(
                "error",
                "too_few_examples",
                f"{total} examples; fine-tuning needs at least {MIN_EXAMPLES}",
            )
        )
    elif total < RECOMMENDED_EXAMPLES:
        report.add(
            Finding(
                "warning",
                "few_examples",
                f"{total} examples; at least {RECOMMENDED_EXAMPLES} usually give clearly better "
                "results",
            )
        )
    report.findings.sort(key=lambda f: (f.severity != "error", f.line or 0))
    return report
