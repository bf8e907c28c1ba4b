"""What a valid Q&A field is: one set of rules for cell edits, new rows, pasted rows and
imported files, so that every way in refuses the same things with the same words."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from core.domain import (
    ANSWER_MAX,
    NOTES_MAX,
    QUESTION_MAX,
    SECTION_MAX,
    QAType,
    control_character,
)
from core.training.text import texts_matching

EDITABLE_FIELDS = ("section", "question", "answer", "qa_type", "is_active", "notes")
FIELD_LABELS = {
    "section": "section",
    "question": "question",
    "answer": "answer",
    "qa_type": "type",
    "is_active": "active",
    "notes": "notes",
}
_TEXT_LIMITS = {
    "section": SECTION_MAX,
    "question": QUESTION_MAX,
    "answer": ANSWER_MAX,
    "notes": NOTES_MAX,
}
_REQUIRED = frozenset({"question", "answer"})
_TRUE = frozenset({"true", "yes", "y", "1", "active", "on", "x"})
_FALSE = frozenset({"false", "no", "n", "0", "inactive", "off"})
REPLACEMENT_CHARACTER = "\ufffd"
# What makes a text value need the full check: a broken character, a control character
# or a carriage return (``clean_text`` turns it into a line feed).
_FLAGGED = re.compile("[\ufffd\x00-\x08\x0b-\x1f]")


class FieldError(ValueError):
    """A refused value; the message names the field and says what is allowed."""


def parse_type(raw: Any) -> QAType:
    if isinstance(raw, QAType):
        return raw
    text = str(raw if raw is not None else "").strip().lower()
    if text == "":
        return QAType.TRAINING
    for member in QAType:
        if text == member.value:
            return member
    raise FieldError(f"type {str(raw)!r} is unknown; use training or validation")


def parse_active(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    text = str(raw if raw is not None else "").strip().lower()
    if text == "":
        return True
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise FieldError(f"active {str(raw)!r} is unknown; use yes or no (true/false, 1/0)")


def clean_text(field: str, raw: Any) -> str:
    label = FIELD_LABELS[field]
    text = "" if raw is None else str(raw)
    if REPLACEMENT_CHARACTER in text:
        raise FieldError(f"{label} has broken characters (the file is not valid UTF-8 there)")
    control = control_character(text)
    if control:
        raise FieldError(f"{label} holds the control character {control}; remove it")
    # One kind of line break, whatever the file or browser sent (XLSX keeps no CR anyway).
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if field in _REQUIRED and not text:
        raise FieldError(f"{label} is empty")
    limit = _TEXT_LIMITS[field]
    if len(text) > limit:
        raise FieldError(f"{label} has {len(text):,} characters; at most {limit:,} are allowed")
    return text


def clean_field(field: str, raw: Any) -> Any:
    """The stored form of one field's value, or FieldError saying why it is refused."""
    if field == "qa_type":
        return parse_type(raw)
    if field == "is_active":
        return parse_active(raw)
    if field in _TEXT_LIMITS:
        return clean_text(field, raw)
    raise FieldError(f"{field!r} cannot be edited")


def clean_column(field: str, raws: Sequence[str]) -> tuple[list[Any], dict[int, str]]:
    """``clean_field`` over a whole column of an imported file: the stored values (None
    where refused) and, by position, why each refused value is refused. The checks run over
    the column at once and only the values they flag go through ``clean_field`` one by one:
    at 100,000 rows the value-by-value checks cost more than writing the rows."""
    if field in ("qa_type", "is_active"):
        # Few distinct spellings: each is parsed once.
        parsed: dict[str, Any] = {}
        failed: dict[str, str] = {}
        for raw in set(raws):
            try:
                parsed[raw] = clean_field(field, raw)
            except FieldError as exc:
                failed[raw] = str(exc)
        if not failed:
            return list(map(parsed.__getitem__, raws)), {}
        return (
            list(map(parsed.get, raws)),
            {i: failed[raw] for i, raw in enumerate(raws) if raw in failed},
        )
    if field not in _TEXT_LIMITS:
        raise FieldError(f"{field!r} cannot be edited")
    # A line feed is never flagged: it separates the values in the scan.
    suspects = set(texts_matching(raws, _FLAGGED, separator="\n"))
    values: list[Any] = list(map(str.strip, raws))
    if field in _REQUIRED:
        suspects.update(i for i, value in enumerate(values) if not value)
    limit = _TEXT_LIMITS[field]
    if max(map(len, values), default=0) > limit:
        suspects.update(i for i, value in enumerate(values) if len(value) > limit)
    errors: dict[int, str] = {}
    for i in suspects:
        try:
            values[i] = clean_field(field, raws[i])
        except FieldError as exc:
            values[i] = None
            errors[i] = str(exc)
    return values, errors
