"""Errors of open-weights fine-tuning. Each is a provider error, so a compilation that meets
one fails with its message and the last good version stays active."""

from __future__ import annotations

from core.errors import ProviderError, ProviderUnavailable, UnknownBaseModel


class BaseModelUnavailable(UnknownBaseModel):
    """The base model is neither the bundled one nor a loadable causal language model."""


class TrainingSetTooLong(ProviderError):
    """An example does not fit in the base model's context."""


class TrainingSetEmpty(ProviderError):
    """No example has an assistant message to learn (weight 1)."""


class AdapterSaveFailed(ProviderError):
    """The adapter (or a checkpoint) could not be written: a full disk, no permission."""


class AdapterMissing(ProviderError):
    """The adapter store holds no complete adapter of a trained model."""


class AdapterStoreFailed(ProviderUnavailable):
    """The adapter store (a bucket) could not be reached, refused access, or a transfer
    failed: the message names the bucket and the reason, never a credential."""


class TrainingCancelled(Exception):
    """Raised between steps when a cancel was asked for; not an error."""
