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
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.training import pii, tokens
from core.training.builder import Example, SourceRef, parse_jsonl
from core.training.text import question_key

MIN_EXAMPLES = 10
RECOMMENDED_EXAMPLES = 50
DEFAULT_EXAMPLE_TOKEN_LIMIT = 65_536
SHORT_ANSWER_WORDS = 3
LONG_ANSWER_WORDS = 1_500
# Each kind of finding is listed this many times at most; the count is always complete.
FINDINGS_PER_CODE = 200

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
    """One pass over the examples, collecting findings and the texts to count."""

    def __init__(self, report: Report, examples: Sequence[Example]) -> None:
        self.report = report
        self.examples = examples
        self.texts: dict[str, int] = {}
        # Per example: indexes into the text list, and the fixed per-message overhead.
        self.example_texts: list[list[int]] = []
        self.overhead: list[int] = []
        self.pairs: dict[str, list[tuple[str, Example]]] = defaultdict(list)
        # (text index, example, message position) of every content, checked at the end.
        self.contents: list[tuple[int, Example, int]] = []

    def error(self, example: Example, code: str, message: str) -> None:
        self.report.add(Finding("error", code, message, example.line, example.sources))

    def warn(self, example: Example, code: str, message: str) -> None:
        self.report.add(Finding("warning", code, message, example.line, example.sources))

    def text_index(self, text: str) -> int:
        index = self.texts.get(text)
        if index is None:
            index = self.texts[text] = len(self.texts)
        return index

    def check(self, example: Example) -> None:
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
                            self.pairs[question_key(last_user)].append((content, example))
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
        for key, answers in self.pairs.items():
            if len(answers) < 2 or not key:
                continue
            distinct = {" ".join(a.split()).casefold() for a, _ in answers}
            examples = [e for _, e in answers]
            if len({e.digest for e in examples}) == 1:
                continue  # the same line repeated: reported as an identical example
            sources = tuple(s for e in examples for s in e.sources)
            lines = ", ".join(str(e.line) for e in examples[:10])
            if len(distinct) > 1:
                code, message = (
                    "contradiction",
                    f"the same question has {len(distinct)} different answers (lines {lines})",
                )
            else:
                code = "duplicate"
                message = f"the same question and answer appear more than once (lines {lines})"
            self.report.add(Finding("warning", code, message, examples[0].line, sources))

    def count_tokens(self, base_model: str | None) -> None:
        counts = tokens.count_text_batch(list(self.texts), base_model)
        self.report.example_tokens = [
            sum(counts[i] for i in indexes) + overhead if indexes else 0
            for indexes, overhead in zip(self.example_texts, self.overhead, strict=True)
        ]


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
    limit = token_limit or example_token_limit(base_model)
    report = Report(example_count=len(examples), example_tokens=[], token_limit=limit)
    for line, message in broken_lines:
        report.add(Finding("error", "invalid_line", message, line, (SourceRef("line", line),)))
    checker = _Checker(report, examples)
    same_lines: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        checker.check(example)
        if example.sources and example.sources[0].kind == "line":
            same_lines[example.digest].append(example)
        elif len(example.sources) > 1:
            checker.warn(
                example,
                "duplicate",
                f"{len(example.sources)} records give this identical example; it is kept once",
            )
    for copies in same_lines.values():
        if len(copies) > 1:
            lines = ", ".join(str(e.line) for e in copies[:10])
            checker.warn(copies[0], "duplicate", f"identical examples on lines {lines}")
    checker.check_pairs()
    checker.check_personal_data()
    checker.count_tokens(base_model)
    for example, count in zip(examples, report.example_tokens, strict=True):
        if count > limit:
            checker.error(
                example,
                "too_many_tokens",
                f"{count:,} tokens; {base_model or 'the base model'} takes at most {limit:,} per "
                "example",
            )
    total = len(examples)
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


def validate_jsonl(content: bytes, *, base_model: str | None = None) -> Report:
    """Check any JSONL training file; findings name its lines."""
    examples, broken = parse_jsonl(content)
    return validate(examples, base_model=base_model, broken_lines=broken)
