"""Open-weights LoRA on this machine: training tokens per second of the provider's training
loop against a bare PyTorch + PEFT loop on the same batches, chat first-token latency and
tokens per second, and peak memory of each (SmolLM2-135M-Instruct, 2 threads).

    python -m bench lora
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Figure, at_least, at_most, table

THREADS = 2
STEPS = 6  # measured, after one warm-up step each
FACTS = [
    (f"What is the code of the Quillmore locker {n}?", f"Locker {n} opens with code {n * 37}.")
    for n in range(1, 9)
]
BENCH = "LoRA (SmolLM2-135M, 2 threads)"


def _content() -> bytes:
    lines = [
        {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
        for q, a in FACTS
    ]
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _training(cache: str) -> dict[str, float]:
    import torch

    from core.training.lora import examples, models, trainer

    models.set_threads(THREADS)
    base, tokenizer = models.load_base(models.BUNDLED_ID, Path(cache))
    built = examples.build_examples(tokenizer, _content(), models.BUNDLED_CONTEXT)
    plan = trainer.plan(len(built), n_epochs=STEPS + 1, batch_size=len(built))
    ours = trainer.Trainer(
        trainer.with_lora(base, 16, 42),
        built,
        plan,
        pad_id=int(tokenizer.pad_token_id),
        seed=42,
        checkpoint_dir=Path(cache) / "bench-checkpoints",
        checkpoint_every=10_000,
    )
    # The bare loop: the same model (LoRA from the same start), optimiser and batches.
    bare_model = trainer.with_lora(models.load_base(models.BUNDLED_ID, Path(cache))[0], 16, 42)
    bare_model.train()
    optimizer = torch.optim.AdamW(
        [p for p in bare_model.parameters() if p.requires_grad], lr=plan.learning_rate
    )
    batches = [trainer.collate([built[i] for i in s], ours.pad_id) for s in ours.steps]

    def bare_step(batch: dict[str, Any]) -> None:
        optimizer.zero_grad()
        bare_model(**batch).loss.backward()
        optimizer.step()

    ours.model.train()
    ours.step()  # warm-up, both
    bare_step(batches[0])
    # Step by step in turn, so that whatever else the machine does slows both alike.
    ours_seconds = bare_seconds = 0.0
    for batch in batches[1:]:
        started = time.perf_counter()
        ours.step()
        ours_seconds += time.perf_counter() - started
        started = time.perf_counter()
        bare_step(batch)
        bare_seconds += time.perf_counter() - started
    tokens = sum(len(built[i].input_ids) for s in ours.steps[1:] for i in s)
    return {
        "ours": tokens / ours_seconds,
        "bare": tokens / bare_seconds,
        "step_seconds": ours_seconds / STEPS,
        "peak_mb": _peak_mb(),
    }


def _chat(cache: str) -> dict[str, float]:
    from core.training.lora import generation, models

    models.set_threads(THREADS)
    loaded = generation.loaded(models.BUNDLED_ID, None, Path(cache))
    messages = [{"role": "user", "content": "Tell me about the history of bread in detail."}]
    generation.answer(loaded, messages, 8)  # warm-up
    started = time.perf_counter()
    first = None
    text = []
    for piece in generation.stream(loaded, messages, 96):
        if first is None:
            first = time.perf_counter() - started
        text.append(piece)
    total = time.perf_counter() - started
    generated = len(loaded.tokenizer("".join(text), add_special_tokens=False)["input_ids"])
    return {
        "first_token": first or total,
        "tokens_per_second": (generated - 1) / max(1e-9, total - (first or 0)),
        "peak_mb": _peak_mb(),
    }


def _in_child(name: str, cache: str) -> dict[str, float]:
    # Each part in its own process: its peak memory is its own.
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result: dict[str, float] = pool.apply(globals()[name], (cache,))
    return result


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory() as cache:
        training = _in_child("_training", cache)
        chat = _in_child("_chat", cache)
    ratio = training["ours"] / training["bare"]
    return [
        Figure(BENCH, "training tokens/s (provider step)", training["ours"], "/s"),
        at_least(
            BENCH,
            "training speed vs bare PyTorch + PEFT loop",
            ratio,
            0.9,
            note=f"bare loop {training['bare']:,.0f} tokens/s; "
            f"{training['step_seconds']:.2f} s per step of {len(FACTS)} examples",
        ),
        Figure(BENCH, "training peak memory (both loops, one process)", training["peak_mb"], "MB"),
        at_most(BENCH, "chat first token", chat["first_token"], 1.0),
        at_least(BENCH, "chat tokens/s", chat["tokens_per_second"], 15, unit="/s"),
        Figure(BENCH, "chat peak memory", chat["peak_mb"], "MB"),
    ]


if __name__ == "__main__":
    print(table(run()))
