"""Preference training (DPO) in our own LoRA loop, after the supervised epochs.

Direct Preference Optimization (Rafailov et al., 2023) trains the policy πθ to prefer the
preferred answer y_w over the non-preferred y_l of each prompt x, against a frozen reference
π_ref, with the loss

    -log σ(β · ((log πθ(y_w|x) − log π_ref(y_w|x)) − (log πθ(y_l|x) − log π_ref(y_l|x))))

Here πθ is the base model with the supervised LoRA adapter, trained further, and π_ref is
the same model with the adapter disabled (PEFT's ``disable_adapter()``): no second copy of
the weights is held. A sequence's log-probability is the sum over the answer's tokens (the
template's end-of-turn marks included; the prompt is context only), as in the supervised loss.

Why not TRL's ``DPOTrainer``: TRL is not installed, adding it pulls many packages (datasets,
accelerate's trainer stack, ...) for one loss, and our loop is hand-written anyway (fixed
seed and data order, checkpoints and resume, cancel between steps, progress events): the
loss is a dozen lines on top of it, and the rest of the loop is shared with supervised
training. The reference log-probabilities do not change while training, so they are
computed once per pair (with the adapter disabled) and kept.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import ProviderError
from core.training.lora.examples import IGNORE, TokenizedExample, tokenize
from core.training.lora.trainer import Plan, StepReport, Trainer, collate

if TYPE_CHECKING:
    import torch
    from peft import PeftModel
    from transformers import PreTrainedTokenizerBase

DEFAULT_BETA = 0.1
# Smaller than supervised LoRA's 3e-3: DPO moves an already trained adapter.
DPO_LEARNING_RATE = 1e-3


@dataclass(frozen=True)
class TokenizedPair:
    line: int
    preferred: TokenizedExample
    rejected: TokenizedExample


def parse_pairs(content: bytes) -> list[tuple[int, list[dict[str, Any]], str, str]]:
    """(line, prompt messages, preferred, non-preferred) of every line of preference JSONL."""
    found = []
    for number, raw in enumerate(content.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
            prompt = list(data["input"]["messages"])
            preferred = str(data["preferred_output"][0]["content"])
            rejected = str(data["non_preferred_output"][0]["content"])
        except (ValueError, KeyError, TypeError, IndexError):
            raise ProviderError(
                f"Line {number} of the preference file is not a preference pair."
            ) from None
        found.append((number, prompt, preferred, rejected))
    if not found:
        raise ProviderError("The preference file holds no preference pair.")
    return found


def tokenize_pairs(
    tokenizer: PreTrainedTokenizerBase, content: bytes, context: int | None
) -> list[TokenizedPair]:
    pairs = []
    for line, prompt, preferred, rejected in parse_pairs(content):
        # Earlier assistant turns are context only: only the answer carries the loss.
        turns = [{**m, "weight": 0} for m in prompt]
        chosen, other = (
            tokenize(tokenizer, [*turns, {"role": "assistant", "content": text}], line, context)
            for text in (preferred, rejected)
        )
        pairs.append(TokenizedPair(line, chosen, other))
    return pairs


def sequence_logps(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Sum of the log-probabilities of the labelled tokens of each sequence."""
    import torch

    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    labels = batch["labels"][:, 1:]
    trained = labels != IGNORE
    logps = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    picked = torch.gather(logps, 2, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * trained).sum(dim=-1)


def dpo_loss(
    policy_w: torch.Tensor,
    policy_l: torch.Tensor,
    ref_w: torch.Tensor,
    ref_l: torch.Tensor,
    beta: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean DPO loss of a batch and each pair's margin (the difference of log-ratios)."""
    import torch

    margin = (policy_w - ref_w) - (policy_l - ref_l)
    return -torch.nn.functional.logsigmoid(beta * margin).mean(), margin


class DpoTrainer(Trainer):
    """The supervised loop (batches, checkpoints, resume, cancel) with the DPO loss per step.
    ``StepReport.accuracy`` is the share of the batch's pairs whose margin is positive."""

    def __init__(
        self,
        model: PeftModel,
        pairs: Sequence[TokenizedPair],
        the_plan: Plan,
        *,
        beta: float,
        pad_id: int,
        seed: int,
        checkpoint_dir: Any,
        checkpoint_every: int,
    ) -> None:
        # The examples of the base loop are the pairs' preferred answers (for counting only).
        super().__init__(
            model,
            [p.preferred for p in pairs],
            the_plan,
            pad_id=pad_id,
            seed=seed,
            checkpoint_dir=checkpoint_dir,
            checkpoint_every=checkpoint_every,
        )
        self.pairs = pairs
        self.beta = beta
        self.reference = self.reference_logps(range(len(pairs)))

    def _batch(self, indices: Sequence[int]) -> dict[str, torch.Tensor]:
        chosen = [self.pairs[i].preferred for i in indices]
        rejected = [self.pairs[i].rejected for i in indices]
        batch = collate([*chosen, *rejected], self.pad_id)
        return {name: tensor.to(self.model.device) for name, tensor in batch.items()}

    def reference_logps(self, indices: Sequence[int]) -> list[tuple[float, float]]:
        """(log π_ref(y_w|x), log π_ref(y_l|x)) per pair: the adapter disabled, no gradient."""
        import torch

        found: list[tuple[float, float]] = []
        chunk = max(1, self.plan.batch_size)
        ordered = list(indices)
        with torch.no_grad(), self.model.disable_adapter():
            for start in range(0, len(ordered), chunk):
                part = ordered[start : start + chunk]
                logps = sequence_logps(self.model, self._batch(part)).tolist()
                found += list(zip(logps[: len(part)], logps[len(part) :], strict=True))
        return found

    def margins(self) -> list[float]:
        """Each pair's margin now (no gradient): how much more the policy prefers y_w."""
        import torch

        with torch.no_grad():
            logps = [
                sequence_logps(self.model, self._batch([i])).tolist()
                for i in range(len(self.pairs))
            ]
        return [
            (w - rw) - (lo - rl) for (w, lo), (rw, rl) in zip(logps, self.reference, strict=True)
        ]

    def step(self) -> StepReport:
        import torch

        indices = self.steps[self.done]
        batch = self._batch(indices)
        self.optimizer.zero_grad(set_to_none=True)
        logps = sequence_logps(self.model, batch)
        count = len(indices)
        ref = torch.tensor([self.reference[i] for i in indices], device=logps.device)
        loss, margin = dpo_loss(logps[:count], logps[count:], ref[:, 0], ref[:, 1], self.beta)
        loss.backward()  # type: ignore[no-untyped-call]
        self.optimizer.step()
        self.done += 1
        return StepReport(
            step=self.done,
            total_steps=len(self.steps),
            loss=float(loss.detach()),
            accuracy=float((margin.detach() > 0).float().mean()),
        )
