"""What a fine-tuning job will bill: trained tokens and cost, estimated before it runs.

Providers bill every token of every example once per epoch. When epochs are "auto", OpenAI
chooses them from the example count; the data-preparation guide's heuristic is used here:
3 epochs, raised for small sets (towards 100 example passes, at most 25 epochs) and lowered
for large ones (towards 25,000 example passes, at least 1 epoch). Examples longer than the
per-example limit are cut, so at most the limit is billed for each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25_000
MIN_DEFAULT_EPOCHS = 1
MAX_DEFAULT_EPOCHS = 25


def auto_epochs(examples: int) -> int:
    if examples <= 0:
        return TARGET_EPOCHS
    if examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // examples)
    if examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // examples)
    return TARGET_EPOCHS


@dataclass(frozen=True)
class Estimate:
    epochs: int
    epochs_auto: bool
    tokens_per_epoch: int
    billed_tokens: int
    cost: Decimal  # in the connection's currency

    def describe(self) -> str:
        how = "auto, estimated" if self.epochs_auto else "set"
        return (
            f"{self.billed_tokens:,} billed tokens ({self.tokens_per_epoch:,} × {self.epochs} "
            f"epochs, {how}) ≈ {self.cost:,.2f}"
        )


def estimate(
    example_tokens: Sequence[int],
    *,
    n_epochs: int | None,
    token_limit: int,
    price_per_million: Decimal,
) -> Estimate:
    per_epoch = sum(min(token_limit, n) for n in example_tokens)
    epochs = n_epochs or auto_epochs(len(example_tokens))
    billed = per_epoch * epochs
    return Estimate(epochs, n_epochs is None, per_epoch, billed, cost_of(billed, price_per_million))


def cost_of(tokens: int, price_per_million: Decimal) -> Decimal:
    return (Decimal(tokens) * Decimal(price_per_million) / Decimal(1_000_000)).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_UP
    )
