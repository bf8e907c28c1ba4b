"""Answers from a base model with (or without) a trained adapter, streamed token by token.

Loaded models are kept per process (a few, least recently used first out) and shared by every
session; one answer at a time per model, since a CPU is busy with one anyway.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.training.lora import models

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

MAX_NEW_TOKENS = 256


@dataclass
class Loaded:
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    stop: list[int]
    lock: threading.Lock


_cache: OrderedDict[tuple[str, str], Loaded] = OrderedDict()
_cache_lock = threading.Lock()


def _cache_size() -> int:
    return max(1, int(os.environ.get("ARBITER_CHAT_MODELS") or 2))


def adapter_base(adapter: Path) -> str:
    return str(json.loads((adapter / "arbiter.json").read_text(encoding="utf-8"))["base_model"])


def loaded(base_model: str, adapter: Path | None, cache_dir: Path) -> Loaded:
    key = (base_model, str(adapter or ""))
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
        model, tokenizer = models.load_base(base_model, cache_dir)
        if adapter is not None:
            from peft import PeftModel

            # Merged into the weights: answers as fast as the base model.
            model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
            model.eval()
        found = Loaded(model, tokenizer, models.stop_tokens(tokenizer), threading.Lock())
        _cache[key] = found
        while len(_cache) > _cache_size():
            _cache.popitem(last=False)
        return found


def forget(adapter: Path) -> None:
    with _cache_lock:
        for key in [k for k in _cache if k[1] == str(adapter)]:
            del _cache[key]


def prompt_ids(tokenizer: PreTrainedTokenizerBase, messages: Sequence[dict[str, str]]) -> Any:
    return tokenizer.apply_chat_template(
        list(messages), add_generation_prompt=True, return_tensors="pt", return_dict=True
    )


def stream(
    model: Loaded, messages: Sequence[dict[str, str]], max_new_tokens: int = MAX_NEW_TOKENS
) -> Iterator[str]:
    """The answer's text as it is generated (greedy: the same question, the same answer)."""
    from transformers import TextIteratorStreamer

    inputs = prompt_ids(model.tokenizer, messages).to(model.model.device)
    streamer = TextIteratorStreamer(
        model.tokenizer,
        skip_prompt=True,
        skip_special_tokens=True,
        clean_up_tokenization_spaces=False,
        timeout=300,
    )
    failure: list[BaseException] = []

    def generate() -> None:
        with model.lock:
            try:
                model.model.generate(  # type: ignore[operator]
                    **inputs,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    eos_token_id=model.stop,
                    pad_token_id=model.tokenizer.pad_token_id,
                    streamer=streamer,
                )
            except BaseException as exc:  # handed to the reader, which raises it
                failure.append(exc)
                streamer.end()  # type: ignore[no-untyped-call]

    worker = threading.Thread(target=generate, name="lora-generate", daemon=True)
    worker.start()
    yield from (text for text in streamer if text)
    worker.join()
    if failure:
        raise failure[0]


def answer(model: Loaded, messages: Sequence[dict[str, str]], max_new_tokens: int = 64) -> str:
    return "".join(stream(model, messages, max_new_tokens)).strip()
