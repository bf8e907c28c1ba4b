"""What OpenAI and Azure OpenAI share: both are spoken through the official ``openai`` SDK
(``OpenAI`` or ``AzureOpenAI``) with the same files, jobs, events, checkpoints and chat.

The SDK's own retries are off (``max_retries=0``): it would retry a 429
``insufficient_quota`` like a rate limit, and a job creation that no idempotency key
protects. Reads are retried here instead, a bounded number of times with jittered, capped
waits that honour ``Retry-After``; job creation never is. Lists are read page by page within
the bounds of ``core.providers.limits``.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import openai
from openai import omit
from openai.types.chat import ChatCompletionMessageParam
from openai.types.fine_tuning import FineTuningJob

from core.errors import (
    FineTuningUnavailable,
    ProviderAuthError,
    ProviderError,
    ProviderOutOfCredit,
    ProviderRateLimited,
    ProviderUnavailable,
    UnknownBaseModel,
)
from core.providers import limits
from core.providers.base import (
    ChatDelta,
    ChatTurn,
    Checkpoint,
    Deployments,
    Job,
    JobEvent,
    JobRequest,
)

logger = logging.getLogger("arbiter.providers")

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
PAGE_SIZE = 100
# 429s that no wait cures: the account has no credit (OpenAI) or the resource is over its
# quota (Azure's ``quotaExceeded``).
OUT_OF_CREDIT_CODES = frozenset(
    {"insufficient_quota", "billing_hard_limit_reached", "billing_not_active", "quotaExceeded"}
)
# The real API's wording for a base model that cannot be fine-tuned or has a typo in it:
# "Model X is not available for fine-tuning or does not exist." (Azure: "... does not
# support fine-tuning").
_NO_SUCH_BASE_MODEL = ("does not exist", "does not support fine-tuning", "not a valid model")


def _code(exc: openai.APIStatusError) -> str | None:
    code = getattr(exc, "code", None)
    return str(code) if code is not None else None


def is_out_of_credit(exc: openai.APIStatusError) -> bool:
    return _code(exc) in OUT_OF_CREDIT_CODES or getattr(exc, "type", None) in OUT_OF_CREDIT_CODES


def is_unknown_base_model(message: str, code: str | None) -> bool:
    text = message.lower()
    if code == "model_not_found":
        return True
    return ("fine-tun" in text or "fine_tun" in text or "model" in text) and any(
        words in text for words in _NO_SUCH_BASE_MODEL
    )


def is_fine_tuning_unavailable(message: str, code: str | None = None) -> bool:
    if code == "model_not_available":
        return True
    text = message.lower()
    return ("fine-tun" in text or "fine_tun" in text) and (
        "not available" in text or "no longer" in text or "not supported" in text
    )


@contextmanager
def translate_errors(
    action: str, vendor: str = "OpenAI", key_env: str | None = None
) -> Iterator[None]:
    """Turn SDK exceptions into the domain's, naming the vendor and what we were doing."""
    try:
        yield
    except openai.AuthenticationError as exc:
        where = f" (from {key_env})" if key_env else ""
        raise ProviderAuthError(
            f"{vendor} refused the API key{where} while trying to {action}. Check the key."
        ) from exc
    except openai.RateLimitError as exc:
        if is_out_of_credit(exc):
            raise ProviderOutOfCredit(
                f"{vendor} says the account is out of credit or over its quota "
                f"({_code(exc) or exc.type}) while trying to {action}: add credit or raise "
                "the quota, then compile again. Nothing was retried."
            ) from exc
        seconds = limits.parse_retry_after(exc.response.headers if exc.response else None)
        raise ProviderRateLimited(
            f"{vendor} is rate-limiting requests ({action}); it will be retried"
            + (f" in {seconds:g} s." if seconds else " shortly."),
            retry_after=seconds,
        ) from exc
    except openai.APITimeoutError as exc:
        raise ProviderUnavailable(
            f"{vendor} did not answer in time while trying to {action}."
        ) from exc
    except openai.APIConnectionError as exc:
        raise ProviderUnavailable(
            f"Could not reach {vendor} while trying to {action} (network or outage)."
        ) from exc
    except openai.InternalServerError as exc:
        raise ProviderUnavailable(
            f"{vendor} had a server error ({exc.status_code}) while trying to {action}; "
            "try again later."
        ) from exc
    except openai.APIStatusError as exc:
        raise _status_error(exc, action, vendor) from exc


def _status_error(exc: openai.APIStatusError, action: str, vendor: str) -> ProviderError:
    code = _code(exc)
    if is_unknown_base_model(exc.message, code):
        return UnknownBaseModel(
            f"{vendor} does not know the model asked for, or cannot fine-tune it ({action}): "
            f"{exc.message} Check the base model's name against the models the connection "
            "lists."
        )
    if is_fine_tuning_unavailable(exc.message, code):
        return FineTuningUnavailable(
            f"Fine-tuning is not available to this account or model at {vendor} "
            f"({exc.message}). OpenAI is winding down self-serve fine-tuning; export the "
            "training set as JSONL to use it elsewhere."
        )
    if exc.status_code == 404:
        return ProviderError(
            f"{vendor} could not find what was asked for ({action}): {exc.message}"
        )
    if exc.status_code == 403:
        return ProviderAuthError(f"{vendor} refused to {action}: {exc.message}")
    if exc.status_code == 408 or exc.status_code == 409:
        return ProviderUnavailable(f"{vendor} asked to try again ({action}): {exc.message}")
    return ProviderError(f"{vendor} could not {action}: {exc.message}")


class SdkProvider:
    """The fine-tuning lifecycle over an ``openai`` SDK client. Subclasses build the client
    and say how a job request is sent and found again."""

    kind = "openai"
    vendor = "OpenAI"
    poll_seconds = 10.0
    max_poll_seconds = 120.0

    def __init__(
        self,
        client: openai.OpenAI,
        *,
        key_env: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.key_env = key_env
        self._sleep = sleep
        self._rng = rng or random.Random()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={str(self.client.base_url)!r})"

    @property
    def deployments(self) -> Deployments | None:
        return None

    # -- plumbing --------------------------------------------------------------------------

    def _translate(self, action: str) -> AbstractContextManager[None]:
        return translate_errors(action, self.vendor, self.key_env)

    def _once(self, action: str, call: Callable[[], T]) -> T:
        with self._translate(action):
            return call()

    def _read(self, action: str, call: Callable[[], T]) -> T:
        """``call`` with up to ``READ_ATTEMPTS`` attempts for outages and short rate limits;
        out of credit, a refused key and the like fail at the first answer."""
        attempt = 1
        while True:
            try:
                return self._once(action, call)
            except ProviderRateLimited as exc:
                if (
                    attempt >= limits.READ_ATTEMPTS
                    or (exc.retry_after or 0) > limits.MAX_RETRY_AFTER_IN_CALL
                ):
                    raise
                wait = limits.backoff_delay(attempt, retry_after=exc.retry_after, rng=self._rng)
            except ProviderUnavailable:
                if attempt >= limits.READ_ATTEMPTS:
                    raise
                wait = limits.backoff_delay(attempt, rng=self._rng)
            logger.info("%s: attempt %d failed; trying again in %.2f s", action, attempt, wait)
            self._sleep(wait)
            attempt += 1

    def _pages(
        self,
        action: str,
        fetch: Callable[[str | None], Any],
        *,
        until: Callable[[Any], bool] | None = None,
        max_items: int = limits.MAX_ITEMS,
    ) -> list[Any]:
        """Every item of an SDK cursor list, within the bounds of ``limits``."""

        def page(after: str | None) -> tuple[Sequence[Any], bool]:
            answer = self._read(action, lambda: fetch(after))
            return list(answer.data or []), bool(getattr(answer, "has_more", False))

        return limits.collect_pages(
            page, lambda item: str(item.id), until=until, max_items=max_items, what=action
        ).items

    # -- chat ------------------------------------------------------------------------------

    def chat(self, model: str, messages: Sequence[ChatTurn]) -> Iterator[ChatDelta]:
        payload = cast(
            "list[ChatCompletionMessageParam]",
            [
                {"role": m.role, "content": m.content, **({"name": m.name} if m.name else {})}
                for m in messages
            ],
        )
        with self._translate("answer in chat"):
            stream = self.client.chat.completions.create(model=model, messages=payload, stream=True)
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield ChatDelta(chunk.choices[0].delta.content)
        yield ChatDelta("", meta={"provider": self.kind, "model": model})

    # -- fine-tuning jobs ------------------------------------------------------------------

    def upload_training_file(self, filename: str, content: bytes) -> str:
        # A repeated upload costs nothing but storage: retried like a read.
        uploaded = self._read(
            "upload the training file",
            lambda: self.client.files.create(file=(filename, content), purpose="fine-tune"),
        )
        return uploaded.id

    def _create_arguments(self, request: JobRequest) -> dict[str, Any]:
        raise NotImplementedError

    def create_job(self, request: JobRequest) -> Job:
        # Never retried: the API takes no idempotency key, so a retry after a lost answer
        # could start a second, paid job. The caller looks the job up instead (find_job).
        arguments = self._create_arguments(request)
        job = self._once(
            "start the fine-tuning job", lambda: self.client.fine_tuning.jobs.create(**arguments)
        )
        return job_from_sdk(job)

    def _matching_job(
        self, matches: Callable[[FineTuningJob], bool], metadata: dict[str, str] | None = None
    ) -> Job | None:
        found: list[FineTuningJob] = []

        def fetch(after: str | None) -> Any:
            return self.client.fine_tuning.jobs.list(
                limit=PAGE_SIZE, after=after or omit, metadata=metadata or omit
            )

        def stop(job: FineTuningJob) -> bool:
            if matches(job):
                found.append(job)
                return True
            return False

        self._pages("look for the fine-tuning job", fetch, until=stop)
        return job_from_sdk(found[0]) if found else None

    def get_job(self, job_id: str) -> Job:
        return job_from_sdk(
            self._read(
                "read the fine-tuning job", lambda: self.client.fine_tuning.jobs.retrieve(job_id)
            )
        )

    def list_events(self, job_id: str, since_id: str | None = None) -> list[JobEvent]:
        # Newest first, page by page, until the newest event already known.
        def fetch(after: str | None) -> Any:
            return self.client.fine_tuning.jobs.list_events(
                job_id, limit=PAGE_SIZE, after=after or omit
            )

        newest_first = self._pages(
            "read the job's events",
            fetch,
            until=lambda e: since_id is not None and e.id == since_id,
        )
        return [
            JobEvent(
                id=event.id,
                created_at=_time(event.created_at) or datetime.now(UTC),
                level=event.level,
                message=event.message,
                event_type=getattr(event, "type", None) or "message",
                data=cast("Mapping[str, Any] | None", getattr(event, "data", None)) or None,
            )
            for event in reversed(newest_first)
        ]

    def list_checkpoints(self, job_id: str) -> list[Checkpoint]:
        def fetch(after: str | None) -> Any:
            return self.client.fine_tuning.jobs.checkpoints.list(
                job_id, limit=PAGE_SIZE, after=after or omit
            )

        result = [
            Checkpoint(
                id=item.id,
                step=item.step_number,
                metrics={
                    k: float(v) for k, v in item.metrics.model_dump().items() if v is not None
                },
                created_at=_time(item.created_at),
                model=item.fine_tuned_model_checkpoint,
            )
            for item in self._pages("read the job's checkpoints", fetch)
        ]
        return sorted(result, key=lambda c: c.step)

    def cancel_job(self, job_id: str) -> Job:
        return job_from_sdk(
            self._read(
                "cancel the fine-tuning job", lambda: self.client.fine_tuning.jobs.cancel(job_id)
            )
        )


def _time(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def job_from_sdk(job: FineTuningJob) -> Job:
    # getattr: Azure's jobs (2024-10-21) carry neither metadata nor always hyperparameters.
    hyper = getattr(job, "hyperparameters", None)
    epochs = hyper.n_epochs if hyper is not None else None
    error = getattr(job, "error", None)
    return Job(
        id=job.id,
        status=job.status,
        base_model=job.model,
        fine_tuned_model=getattr(job, "fine_tuned_model", None),
        trained_tokens=getattr(job, "trained_tokens", None),
        error=error.message if error else None,
        error_code=error.code if error else None,
        estimated_finish=_time(getattr(job, "estimated_finish", None)),
        metadata=dict(getattr(job, "metadata", None) or {}),
        created_at=_time(getattr(job, "created_at", None)),
        finished_at=_time(getattr(job, "finished_at", None)),
        n_epochs=epochs if isinstance(epochs, int) else None,
    )
