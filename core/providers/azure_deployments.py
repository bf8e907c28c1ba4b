"""Deployments of trained models at Azure OpenAI, which answers only through a deployment.

``ArmDeployments`` makes them through Azure Resource Manager with the official management
SDK (``azure-mgmt-cognitiveservices``), signed in with a Microsoft Entra ID token for
https://management.azure.com/.default. ``ManualDeployments`` is for a connection whose
deployments an admin makes by hand and names per version.

Nothing here waits for a deployment: ``deploy`` sends one PUT (``polling=False``) and the
caller reads ``deployment_status`` on its own schedule, so a worker is never held for the
minutes a deployment takes. The PUT is idempotent, and ``deploy`` first reads the
deployment of that name: asked again after a crash, it finds the deployment it made and
makes no second one.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from core.errors import (
    DeploymentFailed,
    ProviderAuthError,
    ProviderError,
    ProviderOutOfCredit,
    ProviderRateLimited,
    ProviderUnavailable,
)
from core.providers import limits
from core.providers.base import Deployment

logger = logging.getLogger("arbiter.providers")

T = TypeVar("T")

MANAGEMENT_URL = "https://management.azure.com"
MANAGEMENT_SCOPE = "https://management.azure.com/.default"
DEPLOYMENT_NAME_MAX = 64
# Resource Manager error codes that mean "no capacity left", not "try again".
_NO_QUOTA = frozenset({"InsufficientQuota", "QuotaExceeded", "SpecialFeatureOrQuotaIdRequired"})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
VENDOR = "Azure Resource Manager"


@contextmanager
def translate_arm_errors(action: str) -> Iterator[None]:
    """Turn azure-core exceptions into domain errors (messages name no token)."""
    try:
        yield
    except ClientAuthenticationError as exc:
        raise ProviderAuthError(
            f"{VENDOR} refused the Microsoft Entra ID sign-in while trying to {action}. The "
            "identity needs the 'Cognitive Services Contributor' role on the resource."
        ) from exc
    except HttpResponseError as exc:
        raise _status_error(exc, action) from exc
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise ProviderUnavailable(
            f"Could not reach {VENDOR} while trying to {action} (network, timeout or outage)."
        ) from exc


def _status_error(exc: HttpResponseError, action: str) -> ProviderError:
    status = exc.status_code or 0
    code = exc.error.code if exc.error is not None else None
    message = exc.error.message if exc.error is not None and exc.error.message else exc.reason
    if code in _NO_QUOTA:
        return ProviderOutOfCredit(
            f"Azure has no quota left for another deployment ({code}) while trying to "
            f"{action}: remove deployments that are not in use, or raise the quota. {message}"
        )
    if status == 429:
        headers = getattr(exc.response, "headers", None)
        seconds = limits.parse_retry_after(headers)
        return ProviderRateLimited(
            f"{VENDOR} is rate-limiting requests ({action}); it will be retried"
            + (f" in {seconds:g} s." if seconds else " shortly."),
            retry_after=seconds,
        )
    if status == 403:
        return ProviderAuthError(f"{VENDOR} refused to {action} ({code}): {message}")
    if status >= 500 or status in (408, 409):
        return ProviderUnavailable(f"{VENDOR} could not {action} now ({status}); try again later.")
    return DeploymentFailed(f"{VENDOR} could not {action} ({code or status}): {message}")


def deployment_name(model_name: str, compilation_id: int) -> str:
    """The deployment of a compilation's result: always the same name for the same
    compilation, so that asking again never makes a second deployment."""
    tail = f"-c{compilation_id}"
    slug = "".join(c if c.isalnum() else "-" for c in model_name.lower()).strip("-")
    slug = "-".join(part for part in slug.split("-") if part) or "model"
    return f"arbiter-{slug}"[: DEPLOYMENT_NAME_MAX - len(tail)].rstrip("-") + tail


class ManualDeployments:
    """Deployments made by hand: the version names its deployment, which is taken as it is."""

    automatic = False

    def deploy(self, model: str, name: str, tags: Mapping[str, str] | None = None) -> Deployment:
        raise ProviderError(
            "Deployments on this connection are made by hand: deploy the model "
            f"{model} in Azure (portal or CLI) and give the version its deployment name."
        )

    def deployment_status(self, name: str) -> Deployment | None:
        return Deployment(name=name, model="", state="Manual")

    def remove_deployment(self, name: str) -> None:
        raise ProviderError(
            f"Deployments on this connection are made by hand: remove {name} in Azure."
        )

    def list_deployments(self) -> list[Deployment]:
        return []


class UnconfiguredDeployments:
    """A connection that should deploy automatically but names no resource to deploy in."""

    automatic = True

    def _refuse(self) -> ProviderError:
        return ProviderError(
            "This Azure OpenAI connection names no subscription, resource group and resource, "
            "so it cannot deploy trained models: fill them in, or say that deployments are "
            "made by hand."
        )

    def deploy(self, model: str, name: str, tags: Mapping[str, str] | None = None) -> Deployment:
        raise self._refuse()

    def deployment_status(self, name: str) -> Deployment | None:
        raise self._refuse()

    def remove_deployment(self, name: str) -> None:
        raise self._refuse()

    def list_deployments(self) -> list[Deployment]:
        raise self._refuse()


class ArmDeployments:
    """Deployments of one Azure OpenAI resource (account), through Resource Manager."""

    automatic = True

    def __init__(
        self,
        credential: TokenCredential,
        *,
        subscription_id: str,
        resource_group: str,
        account_name: str,
        base_url: str = MANAGEMENT_URL,
        sku: str = "Standard",
        capacity: int = 1,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

        self.resource_group = resource_group
        self.account_name = account_name
        self.sku = sku
        self.capacity = capacity
        self._sleep = sleep
        self._rng = rng or random.Random()
        # retry_total=0: retries are bounded here, like every provider call.
        self.client = CognitiveServicesManagementClient(
            credential,
            subscription_id,
            base_url=base_url,
            credential_scopes=[MANAGEMENT_SCOPE],
            retry_total=0,
            connection_timeout=timeout,
            read_timeout=timeout,
        )
        # Bearer tokens go over TLS only; a plain-http loopback address is a local test
        # server, the one place where the SDK is told to allow it.
        split = urlsplit(base_url)
        self._options: dict[str, Any] = (
            {"enforce_https": False}
            if split.scheme == "http" and split.hostname in _LOOPBACK
            else {}
        )

    def __repr__(self) -> str:
        return f"ArmDeployments(account={self.account_name!r})"

    def _call(self, action: str, call: Callable[[], T]) -> T:
        """Every call here is idempotent, so each may be tried ``READ_ATTEMPTS`` times."""
        attempt = 1
        while True:
            try:
                with translate_arm_errors(action):
                    return call()
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

    def deploy(self, model: str, name: str, tags: Mapping[str, str] | None = None) -> Deployment:
        from azure.mgmt.cognitiveservices import models as arm

        existing = self.deployment_status(name)
        if existing is not None:
            if existing.model != model:
                raise DeploymentFailed(
                    f"A deployment named {name} exists already for another model "
                    f"({existing.model}); it was left as it is."
                )
            return existing
        body = arm.Deployment(
            sku=arm.Sku(name=self.sku, capacity=self.capacity),
            properties=arm.DeploymentProperties(
                model=arm.DeploymentModel(format="OpenAI", name=model, version="1")
            ),
            tags=dict(tags or {}),
        )

        def put() -> Any:
            return self.client.deployments.begin_create_or_update(
                self.resource_group, self.account_name, name, body, polling=False, **self._options
            ).result()

        return _deployment(self._call(f"deploy {model} as {name}", put))

    def deployment_status(self, name: str) -> Deployment | None:
        def get() -> Any:
            try:
                return self.client.deployments.get(
                    self.resource_group, self.account_name, name, **self._options
                )
            except ResourceNotFoundError:
                return None

        found = self._call(f"read the deployment {name}", get)
        return _deployment(found) if found is not None else None

    def remove_deployment(self, name: str) -> None:
        def delete() -> None:
            try:
                self.client.deployments.begin_delete(
                    self.resource_group, self.account_name, name, polling=False, **self._options
                ).result()
            except ResourceNotFoundError:
                return

        self._call(f"remove the deployment {name}", delete)

    def list_deployments(self) -> list[Deployment]:
        def read() -> list[Deployment]:
            pages = self.client.deployments.list(
                self.resource_group, self.account_name, **self._options
            ).by_page()
            found: dict[str, Deployment] = {}
            for number, page in enumerate(pages, start=1):
                before = len(found)
                for item in page:
                    found.setdefault(str(item.name), _deployment(item))
                if len(found) == before or number >= limits.MAX_PAGES:
                    break  # a page that brings nothing new: the list repeats itself
                if len(found) >= limits.MAX_ITEMS:
                    break
            return sorted(found.values(), key=lambda d: d.name)

        return self._call("list the deployments", read)


def _deployment(item: Any) -> Deployment:
    properties = item.properties
    model = properties.model if properties is not None else None
    state = properties.provisioning_state if properties is not None else None
    return Deployment(
        name=str(item.name),
        model=str(model.name) if model is not None and model.name else "",
        state=str(getattr(state, "value", state) or "Unknown"),
        tags=dict(item.tags or {}),
    )
