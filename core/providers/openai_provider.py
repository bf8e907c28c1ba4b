"""The OpenAI provider, through the official ``openai`` SDK.

The key never passes through the database: a connection names the environment variable
(or Streamlit secret) that holds it, and it is read only here, when a client is built.
SDK errors become domain errors with wording a trainer can act on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import cast

import openai
from openai.types.chat import ChatCompletionMessageParam

from core.errors import (
    FineTuningUnavailable,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
    UnknownBaseModel,
)
from core.providers.base import (
    BaseModel,
    ChatDelta,
    ChatTurn,
    Checkpoint,
    Job,
    JobEvent,
    JobRequest,
)

# Models whose names start with these can be fine-tuned (the rest are listed for chat).
FINE_TUNABLE_PREFIXES = ("gpt-4o-mini", "gpt-4o-2024", "gpt-4.1", "gpt-3.5-turbo")
DEFAULT_TIMEOUT = 30.0


def _is_fine_tuning_unavailable(message: str) -> bool:
    text = message.lower()
    return ("fine-tun" in text or "fine_tun" in text) and (
        "not available" in text or "no longer" in text or "not supported" in text
    )


@contextmanager
def translate_errors(action: str, key_env: str | None = None) -> Iterator[None]:
    """Turn SDK exceptions into the domain's, naming what we were doing."""
    try:
        yield
    except openai.AuthenticationError as exc:
        where = f" (from {key_env})" if key_env else ""
        raise ProviderAuthError(
            f"OpenAI refused the API key{where} while trying to {action}. Check the key."
        ) from exc
    except openai.RateLimitError as exc:
        retry = exc.response.headers.get("retry-after") if exc.response is not None else None
        seconds = float(retry) if retry and retry.replace(".", "", 1).isdigit() else None
        raise ProviderRateLimited(
            f"OpenAI is rate-limiting requests ({action}); it will be retried"
            + (f" in {seconds:g} s." if seconds else " shortly."),
            retry_after=seconds,
        ) from exc
    except openai.APITimeoutError as exc:
        raise ProviderUnavailable(
            f"OpenAI did not answer in time while trying to {action}."
        ) from exc
    except openai.APIConnectionError as exc:
        raise ProviderUnavailable(
            f"Could not reach OpenAI while trying to {action} (network or outage)."
        ) from exc
    except openai.InternalServerError as exc:
        raise ProviderUnavailable(
            f"OpenAI had a server error ({exc.status_code}) while trying to {action}; "
            "try again later."
        ) from exc
    except openai.NotFoundError as exc:
        raise UnknownBaseModel(
            f"OpenAI does not know the model asked for ({action}): {exc.message}"
        ) from exc
    except openai.APIStatusError as exc:
        if _is_fine_tuning_unavailable(exc.message):
            raise FineTuningUnavailable(
                "Fine-tuning is not available to this account or model at OpenAI "
                f"({exc.message}). OpenAI is winding down self-serve fine-tuning; export the "
                "training set as JSONL to use it elsewhere."
            ) from exc
        if exc.status_code == 403:
            raise ProviderAuthError(f"OpenAI refused to {action}: {exc.message}") from exc
        raise ProviderError(f"OpenAI could not {action}: {exc.message}") from exc


class OpenAIProvider:
    kind = "openai"

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None = None,
        *,
        key_env: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not api_key:
            raise ProviderAuthError(
                f"No OpenAI API key: set the environment variable or secret "
                f"{key_env or 'OPENAI_API_KEY'}."
            )
        self.key_env = key_env
        # max_retries=0 here; callers that may safely retry do so themselves (a retried job
        # creation could start a second, paid job).
        self.client = openai.OpenAI(
            api_key=api_key, base_url=base_url or None, timeout=timeout, max_retries=0
        )

    def list_base_models(self) -> list[BaseModel]:
        with translate_errors("list the models", self.key_env):
            models = list(self.client.models.list())
        result = []
        for model in models:
            shutdown = getattr(model, "shutdown_date", None)
            result.append(
                BaseModel(
                    id=model.id,
                    fine_tunable=model.id.startswith(FINE_TUNABLE_PREFIXES)
                    and not model.id.startswith("ft:"),
                    shutdown_date=date.fromisoformat(shutdown[:10]) if shutdown else None,
                    owned_by=model.owned_by,
                )
            )
        return sorted(result, key=lambda m: m.id)

    def chat(self, model: str, messages: Sequence[ChatTurn]) -> Iterator[ChatDelta]:
        payload = cast(
            "list[ChatCompletionMessageParam]",
            [
                {"role": m.role, "content": m.content, **({"name": m.name} if m.name else {})}
                for m in messages
            ],
        )
        with translate_errors("answer in chat", self.key_env):
            stream = self.client.chat.completions.create(
                model=model,
                messages=payload,
                stream=True,
            )
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield ChatDelta(chunk.choices[0].delta.content)
        yield ChatDelta("", meta={"provider": "openai", "model": model})

    # Fine-tuning jobs: completed by the compilation engine (issue 6).
    def upload_training_file(self, filename: str, content: bytes) -> str:
        raise NotImplementedError

    def create_job(self, request: JobRequest) -> Job:
        raise NotImplementedError

    def find_job(self, metadata: Mapping[str, str]) -> Job | None:
        raise NotImplementedError

    def get_job(self, job_id: str) -> Job:
        raise NotImplementedError

    def list_events(self, job_id: str) -> list[JobEvent]:
        raise NotImplementedError

    def list_checkpoints(self, job_id: str) -> list[Checkpoint]:
        raise NotImplementedError

    def cancel_job(self, job_id: str) -> Job:
        raise NotImplementedError
