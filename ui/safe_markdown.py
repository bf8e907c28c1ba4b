"""User and model text as Markdown that fetches nothing.

Chat messages, answers and transcript messages are Markdown, and a Markdown image
(``![](https://tracker.example/pixel)``, or ``![x][ref]`` with the address elsewhere) makes
the browser load it the moment a trainer opens the page, telling a stranger who read what,
when, from which address (seen: opening the curation page fetched both images of an
imported transcript, with the studio's address as Referer). So no image is ever formed:
the ``[`` after each ``!`` is escaped, and the text shows as written, address included, for
the reader to open if they choose. Code keeps its text untouched (Markdown shows a
backslash there literally, and code never loads images). Raw HTML such as ``<img>`` needs
nothing: Streamlit shows it as text unless told otherwise, which these pages never do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# Fenced code blocks, inline code spans, or an image opener.
_PIECES = re.compile(r"(?P<fence>^(?P<mark>`{3,}|~{3,})[^\n]*\n.*?(?:^(?P=mark)[ \t]*$|\Z))"
                     r"|(?P<code>(?P<ticks>`+).+?(?P=ticks))"
                     r"|(?P<image>!\[)", re.MULTILINE | re.DOTALL)  # fmt: skip


def _piece(match: re.Match[str]) -> str:
    return "!\\[" if match.group("image") else match.group(0)


def without_images(text: str) -> str:
    """``text`` with every Markdown image turned into the text that wrote it."""
    return _PIECES.sub(_piece, text) if "![" in text else text


def without_images_streamed(chunks: Iterable[str]) -> Iterator[str]:
    """The same for text that arrives in pieces (an answer being written): a ``!`` at the
    end of a piece waits for the next one, which may begin with ``[``. Inside code the
    escape shows as a backslash until the answer is complete and shown again whole."""
    held = ""
    for chunk in chunks:
        text = held + chunk
        held = "!" if text.endswith("!") else ""
        text = text[:-1] if held else text
        if text:
            yield text.replace("![", "!\\[")
    if held:
        yield held
