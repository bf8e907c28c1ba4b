"""``@Model Name`` mentions in chat messages. Model names may contain spaces (and never an
``@``), so a mention is matched against the names of the chat's models, longest first:
"@Northwind Sales Europe" addresses that model, not "Northwind Sales"."""

from __future__ import annotations

import re
from collections.abc import Iterable


def _pattern(name: str) -> re.Pattern[str]:
    # Not inside a word or an e-mail address before the @; a whole name after it.
    return re.compile(r"(?<![\w@.])@" + re.escape(name) + r"(?!\w)", re.IGNORECASE)


def mentioned(text: str, names: Iterable[tuple[int, str]]) -> list[int]:
    """The ids of the named things mentioned in ``text``, in order of first mention."""
    found: list[tuple[int, int]] = []
    taken: list[tuple[int, int]] = []
    for key, name in sorted(names, key=lambda item: -len(item[1])):
        for match in _pattern(name).finditer(text):
            span = match.span()
            if any(span[0] < end and start < span[1] for start, end in taken):
                continue
            taken.append(span)
            found.append((span[0], key))
    ordered: list[int] = []
    for _, key in sorted(found):
        if key not in ordered:
            ordered.append(key)
    return ordered


def without_mention(text: str, name: str) -> str:
    """The text as the mentioned model should read it: its own mention removed."""
    stripped = re.sub(r"[ \t]{2,}", " ", _pattern(name).sub("", text))
    return stripped.strip(" ,:") or text
