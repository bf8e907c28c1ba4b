"""Preference data (for DPO): a prompt, the answer preferred and the one not preferred, from
Train AI's corrections (the wrong answer is kept beside the correction). Written as OpenAI's
preference fine-tuning JSONL, which Azure OpenAI and TRL's DPOTrainer read too::

    {"input": {"messages": [system?, user, assistant, ..., user]},
     "preferred_output": [{"role": "assistant", "content": "..."}],
     "non_preferred_output": [{"role": "assistant", "content": "..."}]}

and checked line by line: the shape, a prompt that ends with the user's turn, two different
non-empty answers, the per-example token limit, and the minimum number of pairs."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from core.training.builder import SourceRef, parse_line, read_lines
from core.training.findings import Finding, Report
from core.training.tokens import count_text

MIN_PAIRS = 10
ROLES = frozenset({"system", "user", "assistant"})


@dataclass(frozen=True)
class PreferencePair:
    prompt: Sequence[tuple[str, str]]  # (role, content), ending with the user's turn
    preferred: str
    non_preferred: str


def preference_line(pair: PreferencePair) -> bytes:
    line = {
        "input": {"messages": [{"role": r, "content": c} for r, c in pair.prompt]},
        "preferred_output": [{"role": "assistant", "content": pair.preferred}],
        "non_preferred_output": [{"role": "assistant", "content": pair.non_preferred}],
    }
    return json.dumps(line, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n"


def preference_jsonl(pairs: Iterable[PreferencePair]) -> bytes:
    """Sorted by their bytes, as training sets are: the same pairs give the same file."""
    return b"".join(sorted(preference_line(p) for p in pairs))


def _answer(value: Any) -> str | None:
    if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], dict):
        return None
    message = value[0]
    content = message.get("content")
    if message.get("role") != "assistant" or not isinstance(content, str):
        return None
    return content


def line_problems(value: Any) -> tuple[list[str], int]:
    """What is wrong with one preference line, and its tokens."""
    if not isinstance(value, dict):
        return ["a line must be a JSON object"], 0
    prompt = value.get("input")
    messages = prompt.get("messages") if isinstance(prompt, dict) else None
    problems: list[str] = []
    if not isinstance(messages, list) or not messages:
        return ["input.messages must be a non-empty list"], 0
    texts: list[str] = []
    for position, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if role not in ROLES or not isinstance(content, str):
            problems.append(f"input.messages[{position}] needs a role and text content")
        else:
            texts.append(content)
    last = messages[-1]
    if isinstance(last, dict) and last.get("role") != "user":
        problems.append("the prompt must end with the user's message")
    preferred = _answer(value.get("preferred_output"))
    other = _answer(value.get("non_preferred_output"))
    for name, answer in (("preferred_output", preferred), ("non_preferred_output", other)):
        if answer is None:
            problems.append(f"{name} must be one assistant message with text")
        elif not answer.strip():
            problems.append(f"{name} is empty")
    if (
        preferred is not None
        and other is not None
        and " ".join(preferred.split()) == " ".join(other.split())
    ):
        problems.append("the preferred and the non-preferred answers are the same")
    texts += [a for a in (preferred, other) if a]
    return problems, sum(count_text(t) for t in texts)


def looks_like_preference_file(stream: IO[bytes]) -> bool:
    """Whether the first line is a preference line (the stream is rewound either way)."""
    first = next(read_lines(stream), None)
    stream.seek(0)
    parsed = parse_line(1, first[1]) if first else None
    return (
        not isinstance(parsed, str | None)
        and isinstance(parsed.data, dict)
        and ("preferred_output" in parsed.data)
    )


def validate_preference_stream(stream: IO[bytes], *, token_limit: int) -> Report:
    report = Report(example_count=0, example_tokens=[], token_limit=token_limit)
    for number, raw in read_lines(stream):
        parsed = parse_line(number, raw)
        if isinstance(parsed, str):
            report.add(
                Finding("error", "invalid_line", parsed, number, (SourceRef("line", number),))
            )
            continue
        problems, tokens = line_problems(parsed.data)
        report.example_count += 1
        report.example_tokens.append(tokens)
        where = (SourceRef("line", number),)
        for problem in problems:
            report.add(Finding("error", "invalid_preference", problem, number, where))
        if tokens > token_limit:
            report.add(
                Finding(
                    "error",
                    "too_long",
                    f"{tokens:,} tokens; the base model takes at most {token_limit:,} per example",
                    number,
                    where,
                )
            )
    if report.example_count < MIN_PAIRS:
        report.add(
            Finding(
                "error",
                "too_few_examples",
                f"{report.example_count} preference pairs; preference fine-tuning needs at "
                f"least {MIN_PAIRS}",
            )
        )
    report.findings.sort(key=lambda f: (f.severity != "error", f.line or 0))
    return report
