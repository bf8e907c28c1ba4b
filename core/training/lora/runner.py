"""What the training process does with one job folder: load the base model, tokenize the
training set, train (resuming from the last checkpoint), save the adapter, and record every
step in ``progress.json`` for the provider to read."""

from __future__ import annotations

import json
import logging
import os
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import ProviderError
from core.training.lora import jobs
from core.training.lora import store as adapter_store
from core.training.lora.errors import TrainingCancelled
from core.training.lora.trainer import StepReport

if TYPE_CHECKING:
    from core.training.lora.dpo import DpoTrainer

logger = logging.getLogger("arbiter.training")


class Progress:
    """progress.json as this process changes it (it is the only writer while it lives)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = jobs.load_progress(folder)
        self.data["starts"] = int(self.data["starts"]) + 1
        self.started = time.monotonic()
        self.first_step: int | None = None

    def save(self, **changes: Any) -> None:
        self.data.update(changes)
        jobs.save_progress(self.folder, self.data)

    def message(self, text: str, level: str = "info") -> None:
        number = sum(1 for e in self.data["events"] if e["type"] == "message") + 1
        self.data["events"].append(
            {
                "id": f"{self.folder.name}-msg-{number}",
                "created_at": time.time(),
                "level": level,
                "message": text,
                "type": "message",
                "data": None,
            }
        )
        self.save()

    def resumed_at(self, step: int) -> None:
        """Steps after the checkpoint are trained again (with the same batches)."""
        self.data["events"] = [
            e for e in self.data["events"] if e["type"] != "metrics" or e["data"]["step"] <= step
        ]
        self.data["checkpoints"] = [c for c in self.data["checkpoints"] if c["step"] <= step]

    def step(self, report: StepReport) -> None:
        metrics = {
            "step": report.step,
            "train_loss": round(report.loss, 6),
            "train_mean_token_accuracy": round(report.accuracy, 6),
            "total_steps": report.total_steps,
        }
        self.data["events"].append(
            {
                "id": f"{self.folder.name}-step-{report.step}",
                "created_at": time.time(),
                "level": "info",
                "message": f"Step {report.step}/{report.total_steps}: "
                f"training loss={report.loss:.4f}",
                "type": "metrics",
                "data": metrics,
            }
        )
        if self.first_step is None:
            self.first_step = report.step - 1
            self.started = time.monotonic()
        done = report.step - self.first_step
        per_step = (time.monotonic() - self.started) / max(1, done)
        remaining = per_step * (report.total_steps - report.step)
        self.save(
            step=report.step,
            total_steps=report.total_steps,
            estimated_finish=time.time() + remaining,
            seconds_per_step=per_step,
        )

    def checkpoint(self, report: StepReport) -> None:
        self.data["checkpoints"].append(
            {
                "id": f"{self.folder.name}-ckpt-{report.step}",
                "step": report.step,
                "created_at": time.time(),
                "metrics": {
                    "train_loss": round(report.loss, 6),
                    "train_mean_token_accuracy": round(report.accuracy, 6),
                },
            }
        )
        self.save()


def run(folder: Path) -> int:
    lock = jobs.take_lock(folder)
    if lock is None:
        return 0  # another process trains this job
    try:
        progress = Progress(folder)
        if progress.data["status"] in jobs.FINISHED:
            return 0
        if (folder / jobs.CANCEL).exists():
            progress.message("Training cancelled")
            progress.save(status="cancelled", finished_at=time.time())
            return 0
        progress.save(status="running", pid=os.getpid())
        try:
            train(folder, progress)
        except TrainingCancelled:
            progress.message("Training cancelled between two steps")
            progress.save(status="cancelled", finished_at=time.time())
        except ProviderError as exc:
            progress.message(exc.message, level="error")
            progress.save(status="failed", error=exc.message, finished_at=time.time())
        except Exception as exc:  # a crash is reported on the compilation, not lost
            traceback.print_exc()
            text = f"Training stopped on an unexpected error: {type(exc).__name__}: {exc}"
            progress.message(text, level="error")
            progress.save(status="failed", error=text, finished_at=time.time())
        return 0
    finally:
        lock.close()


def train(folder: Path, progress: Progress) -> None:
    from core.training.lora import examples, models, trainer

    spec = jobs.load_spec(folder)
    adapter = Path(spec.adapter_dir)
    if (adapter / "arbiter.json").exists():  # saved by an earlier process that then died
        publish(spec, progress)  # nothing when that process uploaded it whole
        progress.message(f"New model ready: {spec.model}")
        progress.save(status="succeeded", fine_tuned_model=spec.model, finished_at=time.time())
        return
    again = int(progress.data["starts"]) > 1
    progress.message(
        "Training process restarted: resuming from the last checkpoint"
        if again
        else f"Loading the base model {spec.base_model}"
    )
    models.set_threads(spec.threads)
    model, tokenizer = models.load_base(spec.base_model, Path(spec.cache_dir))
    content = Path(spec.training_file).read_bytes()
    context = models.context_tokens(spec.base_model)
    run: trainer.Trainer
    if spec.method == "dpo":
        run, count, tokens = _dpo_trainer(folder, spec, model, tokenizer, content, context)
        what = f"preference pairs (DPO, beta {spec.beta or 0.1:g})"
    else:
        tokenized = examples.build_examples(tokenizer, content, context)
        plan = trainer.plan(
            len(tokenized), spec.n_epochs, spec.batch_size, spec.learning_rate_multiplier
        )
        run = trainer.Trainer(
            trainer.with_lora(model, spec.lora_rank, spec.seed),
            tokenized,
            plan,
            pad_id=int(tokenizer.pad_token_id),
            seed=spec.seed,
            checkpoint_dir=folder / "checkpoints",
            checkpoint_every=spec.checkpoint_every,
        )
        count, tokens = len(tokenized), sum(len(e.input_ids) for e in tokenized)
        what = "examples"
    plan = run.plan
    progress.save(trained_tokens=tokens * plan.epochs, total_steps=plan.total_steps)
    done = run.resume()
    progress.resumed_at(done)
    progress.message(
        f"Resumed at step {done} of {plan.total_steps}"
        if done
        else f"Training {count} {what} ({tokens:,} tokens): {plan.epochs} epochs, "
        f"batch size {plan.batch_size}, learning rate {plan.learning_rate:g}, LoRA rank "
        f"{spec.lora_rank}, {plan.total_steps} steps"
    )
    run.run(progress.step, progress.checkpoint, lambda: (folder / jobs.CANCEL).exists())
    facts: dict[str, Any] = {
        "base_model": spec.base_model,
        "job": spec.id,
        "steps": plan.total_steps,
        "method": spec.method,
    }
    run.save_adapter(adapter, facts)
    publish(spec, progress)
    if spec.method != "dpo":  # the pre-flight's estimate is of supervised training
        record_speed(folder, spec, tokens * plan.epochs / plan.total_steps, progress)
    progress.message(f"New model ready: {spec.model}")
    progress.save(status="succeeded", fine_tuned_model=spec.model, finished_at=time.time())


def publish(spec: jobs.JobSpec, progress: Progress) -> None:
    """Make the saved adapter readable by every instance before the job succeeds: with a
    bucket as the store, upload it (an error fails the job, naming the bucket)."""
    adapter = Path(spec.adapter_dir)
    store = adapter_store.open_store(spec.adapter_store, adapter.parent)
    if isinstance(store, adapter_store.S3Store):
        progress.message(f"Uploading the adapter to {store.url}")
    store.publish(adapter.name)


def _dpo_trainer(
    folder: Path, spec: jobs.JobSpec, model: Any, tokenizer: Any, content: bytes, context: Any
) -> tuple[DpoTrainer, int, int]:
    """The supervised adapter, trainable, under the DPO loss: (trainer, pairs, tokens)."""
    from peft import PeftModel

    from core.training.lora import dpo, trainer

    if not spec.init_adapter or not (Path(spec.init_adapter) / "arbiter.json").exists():
        raise ProviderError(
            f"The supervised adapter to train with DPO is missing ({spec.init_adapter})."
        )
    pairs = dpo.tokenize_pairs(tokenizer, content, context)
    plan = trainer.plan(len(pairs), spec.n_epochs, spec.batch_size, None)
    rate = dpo.DPO_LEARNING_RATE * (spec.learning_rate_multiplier or 1.0)
    plan = trainer.Plan(plan.epochs, plan.batch_size, rate, plan.steps_per_epoch)
    policy = PeftModel.from_pretrained(model, spec.init_adapter, is_trainable=True)
    run = dpo.DpoTrainer(
        policy,
        pairs,
        plan,
        beta=spec.beta or dpo.DEFAULT_BETA,
        pad_id=int(tokenizer.pad_token_id),
        seed=spec.seed,
        checkpoint_dir=folder / "checkpoints",
        checkpoint_every=spec.checkpoint_every,
    )
    tokens = sum(len(p.preferred.input_ids) + len(p.rejected.input_ids) for p in pairs)
    return run, len(pairs), tokens


SPEED = "speed.json"


def record_speed(
    folder: Path, spec: jobs.JobSpec, tokens_per_step: float, progress: Progress
) -> None:
    """This machine's measured training speed, for the pre-flight's time estimate."""
    per_step = progress.data.get("seconds_per_step")
    if not per_step:
        return
    speeds = {
        "tokens_per_second": tokens_per_step / float(per_step),
        "threads": spec.threads,
        "base_model": spec.base_model,
        "measured_at": time.time(),
    }
    jobs.write_atomically(folder.parent.parent / SPEED, json.dumps(speeds).encode())
