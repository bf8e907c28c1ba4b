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
from collections.abc import Iterable, Sequence
from typing import IO

from core.training.builder import Example, SourceRef, parse_line, read_lines
from core.training.bulk import bulk
from core.training.checker import Checker
from core.training.findings import Finding, Report

MIN_EXAMPLES = 10
RECOMMENDED_EXAMPLES = 50
DEFAULT_EXAMPLE_TOKEN_LIMIT = 65_536


def example_token_limit(base_model: str | None) -> int:
    """Tokens one training example may hold for this base model."""
    name = (base_model or "").removeprefix("ft:")
    if name.startswith("gpt-3.5"):
        return 16_385
    return DEFAULT_EXAMPLE_TOKEN_LIMIT


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
    checker = Checker(report, base_model, examples, listwise=listwise)
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
    checker = Checker(report, base_model, ())
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


def _finish(checker: Checker, *, allow_empty: bool) -> Report:
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
