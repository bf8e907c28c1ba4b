"""One line of a JSONL file as Python data, or a one-line reason why not.

``json.loads`` accepts things that break later or that are not JSON at all: nesting deeper
than the interpreter's recursion limit (``RecursionError``), integers longer than Python
converts (``ValueError``), ``NaN``/``Infinity`` and numbers like ``1e999999`` (stored as
"nan"/"inf"), duplicate keys (the last one silently wins) and lone surrogate halves
(``"\\ud800"``, which no UTF-8 database column or file can hold). Every importer and the
validator read lines through ``load_line``, so all of them refuse the same lines with the
same words, naming the line through the caller.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# Far above any training example or Q&A row (a chat example is 3 levels deep) and far below
# the recursion limit, so that nothing that walks the value later can overflow the stack.
MAX_DEPTH = 100
# Longer integers are not quantities anyone means; Python refuses over 4,300 digits anyway.
MAX_INT_DIGITS = 100
# An escaped half of a surrogate pair; only then can a parsed string hold a lone one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JSONLineError(ValueError):
    """The line is not JSON that can be stored; ``str()`` says why in a few words."""


def _int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise JSONLineError(f"a number with {digits:,} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONLineError(f"the number {text[:20]} is out of range")
    return value


def _constant(name: str) -> Any:
    raise JSONLineError(f"{name} is not a JSON value")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JSONLineError(f"the key {key[:40]!r} appears twice in one object")
            seen.add(key)
    return result


def _depth(value: Any) -> int:
    """How deeply ``value`` nests, without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in item if isinstance(child, dict | list))
    return deepest


def load_line(line: str) -> Any:
    """The JSON value of ``line``; ``JSONLineError`` with a short reason otherwise."""
    if line.startswith("\ufeff"):
        raise JSONLineError("a byte-order mark (U+FEFF) starts the line")
    try:
        value = json.loads(
            line,
            parse_int=_int,
            parse_float=_float,
            parse_constant=_constant,
            object_pairs_hook=_object,
        )
    except JSONLineError:
        raise
    except json.JSONDecodeError as exc:
        raise JSONLineError(f"not valid JSON ({exc.msg}, column {exc.colno})") from None
    except RecursionError:
        raise JSONLineError(f"nested more than {MAX_DEPTH} levels deep") from None
    # Counting brackets is fast and bounds the depth; only a line with many (most of them
    # probably inside strings) is walked to find its real depth.
    if line.count("[") + line.count("{") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        raise JSONLineError(f"nested more than {MAX_DEPTH} levels deep")
    if _SURROGATE_ESCAPE.search(line):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise JSONLineError(
                "a string holds half of a surrogate pair (\\ud800-\\udfff alone), which is not text"
            ) from None
    return value
