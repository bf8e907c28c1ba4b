"""The LoRA training loop: fixed seed and data order, a loss per step, checkpoints every N
steps, resume from the last one, a cancel check between steps, and the adapter written
atomically (a temporary folder renamed into place, so a half-written adapter is never used).
"""

from __future__ import annotations

import errno
import json
import math
import random
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.training.lora.errors import AdapterSaveFailed, TrainingCancelled
from core.training.lora.examples import IGNORE, TokenizedExample

if TYPE_CHECKING:
    import torch
    from peft import PeftModel
    from transformers import PreTrainedModel

# "auto": enough optimiser steps for a small set to be learnt word for word (measured: 6
# facts reach a loss near 0 in about 40 full-batch steps), at least 3 passes over a large one.
AUTO_MIN_STEPS = 40
AUTO_MIN_EPOCHS = 3
MAX_EPOCHS = 50
AUTO_MAX_BATCH = 8
BASE_LEARNING_RATE = 3e-3
TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj")
ADAPTER_FILE = "adapter_model.safetensors"
KEEP_CHECKPOINTS = 2


@dataclass(frozen=True)
class Plan:
    epochs: int
    batch_size: int
    learning_rate: float
    steps_per_epoch: int

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch


def plan(
    examples: int,
    n_epochs: int | None = None,
    batch_size: int | None = None,
    learning_rate_multiplier: float | None = None,
) -> Plan:
    """The hyperparameters to use; None is "auto"."""
    batch = max(1, min(batch_size or min(AUTO_MAX_BATCH, examples), examples))
    per_epoch = math.ceil(examples / batch)
    epochs = n_epochs or min(MAX_EPOCHS, max(AUTO_MIN_EPOCHS, -(-AUTO_MIN_STEPS // per_epoch)))
    rate = BASE_LEARNING_RATE * (learning_rate_multiplier or 1.0)
    return Plan(epochs, batch, rate, per_epoch)


@dataclass(frozen=True)
class StepReport:
    step: int
    total_steps: int
    loss: float
    accuracy: float  # share of trained tokens predicted right (before the update)


def batches(count: int, the_plan: Plan, seed: int) -> list[list[int]]:
    """Every step's example indices: a fixed shuffle per epoch, the same after a resume."""
    steps = []
    for epoch in range(the_plan.epochs):
        order = list(range(count))
        random.Random(seed * 1_000 + epoch).shuffle(order)
        for start in range(0, count, the_plan.batch_size):
            steps.append(order[start : start + the_plan.batch_size])
    return steps


def collate(examples: Sequence[TokenizedExample], pad_id: int) -> dict[str, torch.Tensor]:
    import torch

    width = max(len(e.input_ids) for e in examples)
    ids, mask, labels = [], [], []
    for e in examples:
        missing = width - len(e.input_ids)
        ids.append(e.input_ids + [pad_id] * missing)
        mask.append([1] * len(e.input_ids) + [0] * missing)
        labels.append(e.labels + [IGNORE] * missing)
    return {
        "input_ids": torch.tensor(ids),
        "attention_mask": torch.tensor(mask),
        "labels": torch.tensor(labels),
    }


def with_lora(model: PreTrainedModel, rank: int, seed: int) -> PeftModel:
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)  # LoRA's A matrices start random: the same seed, the same start
    config = LoraConfig(
        r=rank,
        lora_alpha=2 * rank,
        lora_dropout=0.0,  # no randomness while training: the same set gives the same adapter
        target_modules=list(TARGET_MODULES),
        task_type="CAUSAL_LM",
    )
    peft_model: PeftModel = get_peft_model(model, config)
    return peft_model


def _accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    predicted = logits[:, :-1].argmax(dim=-1)
    target = labels[:, 1:]
    trained = target != IGNORE
    total = int(trained.sum())
    return float(((predicted == target) & trained).sum()) / total if total else 0.0


class Trainer:
    """One training run over tokenized examples, resumable from its checkpoint folder."""

    def __init__(
        self,
        model: PeftModel,
        examples: Sequence[TokenizedExample],
        the_plan: Plan,
        *,
        pad_id: int,
        seed: int,
        checkpoint_dir: Path,
        checkpoint_every: int,
    ) -> None:
        import torch

        self.model = model
        self.examples = examples
        self.plan = the_plan
        self.pad_id = pad_id
        self.steps = batches(len(examples), the_plan, seed)
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = max(1, checkpoint_every)
        trainable = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(trainable, lr=the_plan.learning_rate)
        self.done = 0  # steps finished

    def resume(self) -> int:
        """Load the last complete checkpoint, if any; returns the steps it had done."""
        import torch
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        found = last_checkpoint(self.checkpoint_dir)
        if found is None:
            return 0
        set_peft_model_state_dict(self.model, load_file(str(found / ADAPTER_FILE)))
        self.optimizer.load_state_dict(torch.load(found / "optimizer.pt", weights_only=True))
        self.done = int(json.loads((found / "state.json").read_text())["step"])
        return self.done

    def run(
        self,
        on_step: Callable[[StepReport], None],
        on_checkpoint: Callable[[StepReport], None],
        cancelled: Callable[[], bool],
    ) -> None:
        self.model.train()
        while self.done < len(self.steps):
            if cancelled():
                raise TrainingCancelled
            report = self.step()
            on_step(report)
            if report.step % self.checkpoint_every == 0 and report.step < len(self.steps):
                self.save_checkpoint(report)
                on_checkpoint(report)
        self.model.eval()

    def step(self) -> StepReport:
        batch = collate([self.examples[i] for i in self.steps[self.done]], self.pad_id)
        batch = {name: tensor.to(self.model.device) for name, tensor in batch.items()}
        self.optimizer.zero_grad(set_to_none=True)
        output = self.model(**batch)
        output.loss.backward()
        self.optimizer.step()
        self.done += 1
        return StepReport(
            step=self.done,
            total_steps=len(self.steps),
            loss=float(output.loss.detach()),
            accuracy=_accuracy(output.logits.detach(), batch["labels"]),
        )

    def save_checkpoint(self, report: StepReport) -> None:
        import torch
        from peft import get_peft_model_state_dict
        from safetensors.torch import save_file

        target = self.checkpoint_dir / f"step-{report.step:06d}"

        def write(partial: Path) -> None:
            state = get_peft_model_state_dict(self.model)
            save_file({k: v.contiguous() for k, v in state.items()}, str(partial / ADAPTER_FILE))
            torch.save(self.optimizer.state_dict(), partial / "optimizer.pt")
            facts = {"step": report.step, "loss": report.loss, "accuracy": report.accuracy}
            (partial / "state.json").write_text(json.dumps(facts))

        write_folder(target, write, what=f"the checkpoint at step {report.step}")
        for old in sorted(self.checkpoint_dir.glob("step-*"))[:-KEEP_CHECKPOINTS]:
            shutil.rmtree(old, ignore_errors=True)

    def save_adapter(self, target: Path, facts: dict[str, Any]) -> None:
        def write(partial: Path) -> None:
            self.model.save_pretrained(str(partial), safe_serialization=True)
            (partial / "arbiter.json").write_text(json.dumps(facts, indent=2))

        write_folder(target, write, what="the adapter")


def last_checkpoint(folder: Path) -> Path | None:
    complete = [p for p in sorted(folder.glob("step-*")) if (p / "state.json").exists()]
    return complete[-1] if complete else None


def write_folder(target: Path, write: Callable[[Path], None], *, what: str) -> None:
    """Write a folder beside its place and rename it into place: readers see all of it or
    none of it. A full disk (or any write error) leaves nothing behind and says so."""
    partial = target.with_name(f".{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        partial.mkdir(parents=True)
        write(partial)
        if target.exists():
            shutil.rmtree(target)
        partial.rename(target)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        reason = "the disk is full" if exc.errno == errno.ENOSPC else str(exc)
        raise AdapterSaveFailed(f"Could not save {what} to {target}: {reason}.") from None
    except RuntimeError as exc:  # torch and safetensors wrap write errors
        shutil.rmtree(partial, ignore_errors=True)
        full = "No space left" in str(exc)
        reason = "the disk is full" if full else str(exc)
        raise AdapterSaveFailed(f"Could not save {what} to {target}: {reason}.") from None
