"""The checks of a training set, example by example and list-wise over whole batches (see
``core.training.validator`` for the rules and ``Checker`` for how memory stays bounded)."""

from __future__ import annotations

import bisect
import re
from array import array
from collections.abc import Sequence
from itertools import accumulate, pairwise, repeat
from operator import add, sub
from typing import Any

from core.training import pii, tokens
from core.training.builder import Example, SourceRef
from core.training.findings import Finding, Report, plural
from core.training.listwise import (
    NOT_LEARNABLE,
    PlainMessages,
    duplicate_groups,
    plain_messages,
    plan_of,
)
from core.training.text import question_keys, texts_matching

SHORT_ANSWER_WORDS = 3


LONG_ANSWER_WORDS = 1_500


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


# Sort keys of an example's own findings: per message, in the order the checks run, then
# the example as a whole.
_DETAIL, _SPECIAL, _LENGTH = 0, 1, 2


_WHOLE = 1 << 30


class Checker:
    """One pass over the examples, in batches: the texts of a batch are checked, counted
    and scanned for personal data together, then let go; across batches only a few numbers
    per example are kept (for duplicates and contradictions), so that a file of any size is
    checked in bounded memory.

    In a batch, the examples whose messages are all plain (see ``PLAIN_KEYS``) are checked
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
                plain_messages(
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

    def check_plain(self, found: PlainMessages) -> None:
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
                marks[j] = NOT_LEARNABLE
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
            plan = plan_of(signature)
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
                f"{where}: a very short answer ({plural(words, 'word')})",
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
        for members in duplicate_groups(self.pair_keys):
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
        for members in duplicate_groups(self.line_digests):
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
