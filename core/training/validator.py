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

import bisect
import io
import itertools
import re
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, pairwise, repeat
from operator import add, sub
from typing import IO, Any, cast

from core.training import pii, tokens
from core.training.builder import Example, SourceRef, parse_line, read_lines
from core.training.bulk import bulk
from core.training.text import question_keys, texts_matching

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


# Messages of this shape (most of a training set: every Q&A example) need none of the
# detailed checks, which are then done for whole lists at once; the rest go message by
# message. A weight is allowed on assistant messages only.
_PLAIN_ROLES = frozenset({"system", "user", "assistant"})
_PLAIN_KEYS = frozenset({"role", "content", "weight"})
_LEARNABLE = "assistant"
_NOT_LEARNABLE = "assistant, weight 0"
# Sort keys of an example's own findings: per message, in the order the checks run, then
# the example as a whole.
_DETAIL, _SPECIAL, _LENGTH = 0, 1, 2
_WHOLE = 1 << 30


@dataclass(frozen=True)
class _Plan:
    """What a sequence of plain messages holds, by position: the learnable assistant
    messages, the (single user message, assistant message) pairs, and the error if the
    example teaches nothing."""

    learnable: tuple[int, ...]
    pairs: tuple[tuple[int, int], ...]
    error: tuple[str, str] | None


def _plan(marks: tuple[str, ...]) -> _Plan:
    learnable: list[int] = []
    pairs: list[tuple[int, int]] = []
    users = assistants = 0
    last_user: int | None = None
    for position, mark in enumerate(marks):
        if mark == "user":
            users += 1
            last_user = position
        elif mark != "system":
            assistants += 1
            if mark == _LEARNABLE:
                learnable.append(position)
                if last_user is not None and users == 1:
                    pairs.append((last_user, position))
    error = None
    if assistants == 0:
        error = ("example_missing_assistant_message", "no assistant message")
    elif not learnable:
        error = (
            "no_learnable_message",
            "every assistant message has weight 0: the example teaches nothing",
        )
    return _Plan(tuple(learnable), tuple(pairs), error)


class _Checker:
    """One pass over the examples, in batches: the texts of a batch are checked, counted
    and scanned for personal data together, then let go; across batches only a few numbers
    per example are kept (for duplicates and contradictions), so that a file of any size is
    checked in bounded memory.

    In a batch, the examples whose messages are all plain (see ``_PLAIN_KEYS``) are checked
    list-wise, the others one by one (``check``, also the reference the list-wise checks
    must agree with: ``listwise=False`` checks every example so). Findings of the examples
    are collected with a sort key and reported in their order, as one by one."""

    def __init__(
        self,
        report: Report,
        base_model: str | None,
        examples: Sequence[Example],
        *,
        listwise: bool = True,
    ) -> None:
        self.report = report
        self.base_model = base_model
        self.listwise = listwise
        # In memory (a model's set): the examples, for their sources. A file: nothing kept.
        self.examples = examples
        self.count = 0
        self.batch: list[Example] = []
        self.batch_characters = 0
        self.reset()
        # Across batches, 8 bytes a value. Texts are compared by their 64-bit hashes: a
        # collision could at worst add a duplicate warning, never an error.
        self.lines = array("q")  # the line of each example
        self.pair_keys = array("q")  # question asked alone, normalised
        self.pair_answers = array("q")  # its answer, spacing and case folded
        self.pair_digests = array("q")  # the example's line digest
        self.pair_examples = array("q")
        self.line_digests = array("q")  # examples read from file lines: the line digest
        self.line_examples = array("q")

    def reset(self) -> None:
        """Forget the batch. Examples are named by their index in the batch."""
        self.batch, self.batch_characters = [], 0
        self.pending: list[tuple[int, int, int, Finding]] = []
        # Of the examples checked one by one: the texts to count and the fixed overhead.
        self.example_texts: dict[int, list[str]] = {}
        self.overhead: dict[int, int] = {}
        # (example, message position, content) of their text contents.
        self.contents: list[tuple[int, int, str]] = []
        # (example, message position, question, answer) of single-question examples.
        self.pairs: list[tuple[int, int, str, str]] = []
        # Of the examples checked list-wise: indexes, message offsets, roles and contents.
        self.plain: list[int] = []
        self.offsets: list[int] = [0]
        self.roles: list[str] = []
        self.texts: list[str] = []
        self.distinct: list[str] = []

    def error(self, index: int, position: int, order: int, code: str, message: str) -> None:
        example = self.batch[index]
        finding = Finding("error", code, message, example.line, example.sources)
        self.pending.append((index, position, order, finding))

    def warn(self, index: int, position: int, order: int, code: str, message: str) -> None:
        example = self.batch[index]
        finding = Finding("warning", code, message, example.line, example.sources)
        self.pending.append((index, position, order, finding))

    def add(self, example: Example, size: int = 0) -> None:
        """Take the next example; ``size``: its line's length, when read from a file."""
        ordinal = self.count
        self.count += 1
        self.lines.append(example.line)
        if example.sources and example.sources[0].kind == "line":
            self.line_digests.append(hash(example.digest))
            self.line_examples.append(ordinal)
        self.batch.append(example)
        self.batch_characters += size
        if len(self.batch) >= _BATCH or self.batch_characters >= _BATCH_CHARACTERS:
            self.flush()

    def flush(self) -> None:
        """Check the batch, count its tokens and scan it for personal data, then let it go."""
        if not self.batch:
            return
        self.check_batch()
        self.check_personal_data()
        self.count_tokens()
        self.keep_pairs()
        self.reset()

    def check_batch(self) -> None:
        batch = self.batch
        if self.listwise:
            self.check_plain(
                _plain_messages(
                    [
                        (i, messages)
                        for i, example in enumerate(batch)
                        if type(data := example.data) is dict
                        and type(messages := data.get("messages")) is list
                        and messages
                    ]
                )
            )
        for i in sorted(set(range(len(batch))).difference(self.plain)):
            self.check(i, batch[i])
        for i, example in enumerate(batch):
            sources = example.sources
            if len(sources) > 1 and sources[0].kind != "line":
                self.warn(
                    i,
                    -1,
                    0,
                    "duplicate",
                    f"{len(sources)} records give this identical example; it is kept once",
                )
        self.pending.sort(key=lambda item: item[:3])
        for *_, finding in self.pending:
            self.report.add(finding)

    def check_plain(self, found: _PlainMessages) -> None:
        """The checks of ``check`` for examples of plain messages only, list-wise."""
        plain, flat, roles, texts, weighted = found
        if not plain:
            return
        self.plain = [i for i, _ in plain]
        self.offsets = offsets = list(accumulate(map(len, (m for _, m in plain)), initial=0))
        self.roles, self.texts = roles, texts
        marks = roles.copy()
        for j in weighted:
            if flat[j]["weight"] == 0:
                marks[j] = _NOT_LEARNABLE
        # Examples grouped by their sequence of roles: a Q&A set has one such sequence.
        groups: dict[tuple[str, ...], list[int]] = {}
        for k, signature in enumerate(
            [tuple(marks[start:end]) for start, end in pairwise(offsets)]
        ):
            group = groups.get(signature)
            if group is None:
                groups[signature] = [k]
            else:
                group.append(k)
        learnable: list[int] = []  # flat indexes
        for signature, ks in groups.items():
            plan = _plan(signature)
            if plan.error:
                for k in ks:
                    self.error(self.plain[k], _WHOLE, 0, *plan.error)
            for position in plan.learnable:
                learnable += [offsets[k] + position for k in ks]
            for user, assistant in plan.pairs:
                self.pairs += [
                    (
                        self.plain[k],
                        assistant + 1,
                        texts[offsets[k] + user],
                        texts[offsets[k] + assistant],
                    )
                    for k in ks
                ]
        if len(groups) > 1:
            learnable.sort()
        # The system message is in every example: the scans run over distinct texts.
        self.distinct = list(dict.fromkeys(texts))
        special = {self.distinct[i] for i in texts_matching(self.distinct, _SPECIAL_TOKEN)}
        if special:
            for j, text in enumerate(texts):
                if text in special:
                    self.check_special(*self.where(j), text)
        # Words are only counted exactly where the cheap count is near a limit.
        answers = [texts[j] for j in learnable]
        spaces = list(map(str.count, answers, repeat(" ")))
        for j, answer, gaps in zip(learnable, answers, spaces, strict=True):
            if len(answer) < 64 or not SHORT_ANSWER_WORDS - 1 <= gaps < LONG_ANSWER_WORDS:
                self.check_length(*self.where(j), answer)

    def where(self, j: int) -> tuple[int, int]:
        """The example index and the message position of a plain message."""
        k = bisect.bisect_right(self.offsets, j) - 1
        return self.plain[k], j - self.offsets[k] + 1

    def check(self, index: int, example: Example) -> None:
        texts: list[str] = []
        self.example_texts[index] = texts
        self.overhead[index] = 0
        data = example.data
        if not isinstance(data, dict):
            self.error(index, _WHOLE, 0, "data_type", "the example is not a JSON object")
            return
        messages = data.get("messages")
        if not isinstance(messages, list) or not messages:
            self.error(
                index, _WHOLE, 0, "missing_messages_list", 'the example has no "messages" list'
            )
            return
        overhead = tokens.TOKENS_PER_REPLY
        assistants = learnable = 0
        last_user: str | None = None
        users = 0
        for position, message in enumerate(messages, start=1):
            if not isinstance(message, dict):
                self.error(
                    index,
                    position,
                    _DETAIL,
                    "message_not_object",
                    f"message {position} is not a JSON object",
                )
                continue
            overhead += tokens.TOKENS_PER_MESSAGE
            role = message.get("role")
            weight = message.get("weight")
            content = self.check_message(index, position, message)
            if isinstance(role, str):
                texts.append(role)
            if isinstance(content, str):
                texts.append(content)
                self.contents.append((index, position, content))
                if "<|" in content:
                    self.check_special(index, position, content)
            name = message.get("name")
            if isinstance(name, str) and name:
                texts.append(name)
                overhead += 1
            if role == "user" and isinstance(content, str):
                users += 1
                last_user = content
            elif role == "assistant":
                assistants += 1
                if weight != 0:
                    learnable += 1
                    if isinstance(content, str) and content and not content.isspace():
                        self.check_length(index, position, content)
                        if last_user is not None and users == 1:
                            self.pairs.append((index, position, last_user, content))
        self.overhead[index] = overhead
        if assistants == 0:
            self.error(
                index, _WHOLE, 0, "example_missing_assistant_message", "no assistant message"
            )
        elif learnable == 0:
            self.error(
                index,
                _WHOLE,
                0,
                "no_learnable_message",
                "every assistant message has weight 0: the example teaches nothing",
            )

    def check_message(self, index: int, position: int, message: dict[str, Any]) -> Any:
        """The detailed checks of a message; returns its content if it is text, else None."""
        where = f"message {position}"

        def error(code: str, text: str) -> None:
            self.error(index, position, _DETAIL, code, text)

        has_calls = "function_call" in message or "tool_calls" in message
        for key in ("role", "content"):
            if key not in message and not (key == "content" and has_calls):
                error("message_missing_key", f'{where} has no "{key}"')
        unknown = set(message) - MESSAGE_KEYS
        if unknown:
            error(
                "message_unrecognized_key",
                f"{where} has unrecognised keys: {', '.join(sorted(map(str, unknown)))}",
            )
        role = message.get("role")
        if "role" in message and role not in ROLES:
            error("unrecognized_role", f"{where} has the unknown role {role!r}")
        content = message.get("content")
        if content is None:
            if "content" in message and not has_calls:
                error("missing_content", f"{where} ({role}) has no content")
        elif not isinstance(content, str):
            error("content_not_text", f"{where} ({role}): content must be text")
            content = None
        elif not content.strip():
            error("missing_content", f"{where} ({role}) has empty content")
        if "weight" in message:
            weight = message["weight"]
            if role != "assistant":
                error(
                    "weight_not_assistant",
                    f"{where} ({role}): only assistant messages may have a weight",
                )
            elif isinstance(weight, bool) or weight not in (0, 1):
                error("invalid_weight", f"{where}: weight must be 0 or 1")
        return content

    def check_special(self, index: int, position: int, content: str) -> None:
        found = _SPECIAL_TOKEN.search(content)
        if found:
            self.error(
                index,
                position,
                _SPECIAL,
                "special_token",
                f"message {position} contains the special token {found.group()}; "
                "providers reject or misread it",
            )

    def check_length(self, index: int, position: int, answer: str) -> None:
        where = f"message {position}"
        words = len(_WORD.findall(answer)) if len(answer) < 64 else answer.count(" ") + 1
        if words < SHORT_ANSWER_WORDS:
            self.warn(
                index,
                position,
                _LENGTH,
                "short_answer",
                f"{where}: a very short answer ({_plural(words, 'word')})",
            )
        elif words > LONG_ANSWER_WORDS:
            self.warn(
                index,
                position,
                _LENGTH,
                "long_answer",
                f"{where}: a very long answer (about {words:,} words)",
            )

    def keep_pairs(self) -> None:
        """Keep the batch's single-question pairs, in example order, by their hashes."""
        self.pairs.sort(key=lambda item: item[:2])
        base = self.count - len(self.batch)
        keys = question_keys([question for _, _, question, _ in self.pairs])
        for key, (index, _, _, answer) in zip(keys, self.pairs, strict=True):
            if key:
                self.pair_keys.append(hash(key))
                self.pair_answers.append(hash(" ".join(answer.split()).casefold()))
                self.pair_digests.append(hash(self.batch[index].digest))
                self.pair_examples.append(base + index)

    def sources_of(self, ordinal: int) -> tuple[SourceRef, ...]:
        if self.examples:
            return self.examples[ordinal].sources
        return (SourceRef("line", self.lines[ordinal]),)

    def check_personal_data(self) -> None:
        texts = list(dict.fromkeys([*self.distinct, *(c for _, _, c in self.contents)]))
        flagged = {
            texts[i]: found
            for i in pii.texts_with_candidates(texts)
            if (found := pii.describe(pii.find_personal_data(texts[i])))
        }
        if not flagged:
            return
        where = [(*self.where(j), text) for j, text in enumerate(self.texts) if text in flagged]
        where += [item for item in self.contents if item[2] in flagged]
        for index, position, text in sorted(where, key=lambda item: item[:2]):
            example = self.batch[index]
            self.report.add(
                Finding(
                    "warning",
                    "personal_data",
                    f"message {position} contains personal data: {flagged[text]}",
                    example.line,
                    example.sources,
                )
            )

    def count_tokens(self) -> None:
        unique = list(
            dict.fromkeys(
                [
                    *set(self.roles),
                    *self.distinct,
                    *(t for texts in self.example_texts.values() for t in texts),
                ]
            )
        )
        count = dict(
            zip(unique, tokens.count_text_batch(unique, self.base_model), strict=True)
        ).__getitem__
        counts = [0] * len(self.batch)
        if self.plain:
            # Running totals of (text tokens + per-message overhead), read at the examples'
            # boundaries.
            per_message = map(
                add,
                map(count, self.roles),
                map(add, map(count, self.texts), repeat(tokens.TOKENS_PER_MESSAGE)),
            )
            at = list(map(list(accumulate(per_message, initial=0)).__getitem__, self.offsets))
            totals = map(add, map(sub, at[1:], at[:-1]), repeat(tokens.TOKENS_PER_REPLY))
            for index, total in zip(self.plain, totals, strict=True):
                counts[index] = total
        for index, texts in self.example_texts.items():
            if texts:
                counts[index] = sum(map(count, texts)) + self.overhead[index]
        self.report.example_tokens += counts
        limit = self.report.token_limit
        for index, total in enumerate(counts):
            if total > limit:
                example = self.batch[index]
                self.report.add(
                    Finding(
                        "error",
                        "too_many_tokens",
                        f"{total:,} tokens; {self.base_model or 'the base model'} takes at "
                        f"most {limit:,} per example",
                        example.line,
                        example.sources,
                    )
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


_PlainMessages = tuple[
    list[tuple[int, list[Any]]], list[dict[str, Any]], list[str], list[str], list[int]
]


def _plain_messages(candidates: list[tuple[int, list[Any]]]) -> _PlainMessages:
    """The examples (of those with a messages list) whose messages are all plain; their
    messages in one list, with their roles and contents; the indexes of the messages with a
    weight. Each test runs over all messages at once and only looks for the culprits when
    it fails."""
    while candidates:
        flat = [m for _, messages in candidates for m in messages]
        bad: set[int] = set()
        if set(map(type, flat)) != {dict}:
            bad = {j for j, m in enumerate(flat) if type(m) is not dict}
        else:
            roles = list(map(dict.get, flat, repeat("role")))
            contents = list(map(dict.get, flat, repeat("content")))
            if set(map(type, roles)) != {str}:
                bad = {j for j, r in enumerate(roles) if type(r) is not str}
            elif not _PLAIN_ROLES.issuperset(roles):
                bad = {j for j, r in enumerate(roles) if r not in _PLAIN_ROLES}
            elif set(map(type, contents)) != {str}:
                bad = {j for j, c in enumerate(contents) if type(c) is not str}
            elif not all(contents) or any(map(str.isspace, cast("list[str]", contents))):
                bad = {j for j, c in enumerate(contents) if not c or c.isspace()}
            else:
                # Role and content are there: a message with more keys has a weight or
                # another key.
                weighted = [j for j, size in enumerate(map(len, flat)) if size > 2]
                bad = {
                    j
                    for j in weighted
                    if not _PLAIN_KEYS.issuperset(flat[j])
                    or roles[j] != "assistant"
                    or type(weight := flat[j]["weight"]) is not int
                    or weight not in (0, 1)
                }
                if not bad:
                    return (
                        candidates,
                        flat,
                        cast("list[str]", roles),
                        cast("list[str]", contents),
                        weighted,
                    )
        owner = [k for k, (_, messages) in enumerate(candidates) for _ in messages]
        dropped = {owner[j] for j in bad}
        candidates = [c for k, c in enumerate(candidates) if k not in dropped]
    return [], [], [], [], []


@bulk
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


@bulk
def validate(
    examples: Sequence[Example],
    *,
    base_model: str | None = None,
    token_limit: int | None = None,
    broken_lines: Iterable[tuple[int, str]] = (),
    allow_empty: bool = False,
    listwise: bool = True,
) -> Report:
    """Check a training set; also counts the tokens of every example. ``allow_empty``: no
    examples at all is fine (a model without training data gets a configuration-only
    version). ``listwise=False`` checks every example one by one (the reference for
    tests)."""
    report = _report(base_model, token_limit)
    for line, message in broken_lines:
        _broken(report, line, message)
    checker = _Checker(report, base_model, examples, listwise=listwise)
    for example in examples:
        checker.add(example)
    return _finish(checker, allow_empty=allow_empty)


@bulk
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
            checker.add(parsed, len(raw or b""))
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
