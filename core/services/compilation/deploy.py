"""Step 3b, deploy (providers whose trained models answer only once deployed, billed per
hour while the deployment exists: Azure OpenAI): ask for the deployment, wait until it is
ready, then finish.

The deployment's name comes from the compilation alone and is recorded before it is asked
for, and asking is idempotent at the provider: a worker killed while deploying makes no
second deployment, the next one simply asks again and follows it.
"""

from __future__ import annotations

from typing import NoReturn

from core.domain import CompilationStatus
from core.errors import DeploymentFailed, ProviderError
from core.models import AIModel, Compilation
from core.providers.azure_deployments import deployment_name
from core.providers.base import Deployment, Deployments, Provider
from core.services.compilation.finish import Trained, complete
from core.services.compilation.records import log
from core.services.compilation.step import Step

DEPLOYING = "deploying"
# The tags every deployment of ours carries, so that unused ones can be found and removed.
MANAGED_BY = {"managed-by": "arbiter-studio"}


def needs_deployment(provider: Provider) -> bool:
    return provider.deployments is not None


def name_of_deployment(
    deployments: Deployments, trained_model: str, model_name: str, compilation_id: int
) -> str:
    """Azure: a name made from the compilation. An adapter server (vLLM) publishes the
    adapter under the trained model's own name, which chat then sends as the model."""
    if getattr(deployments, "named_after_model", False):
        return trained_model
    return deployment_name(model_name, compilation_id)


def start_deployment(step: Step, provider: Provider, trained_model: str) -> None:
    """After a succeeded job: deployed automatically, or left for an admin to deploy."""
    deployments = provider.deployments
    assert deployments is not None
    if not deployments.automatic:
        complete(step, Trained(trained_model, manual=True))
        return
    with step.uow:
        compilation = step.load()
        model = step.uow.session.get(AIModel, compilation.model_id)
        name = name_of_deployment(
            deployments, trained_model, model.name if model else "model", compilation.id
        )
        compilation.provider_status = DEPLOYING
        step.stats(compilation, deployment_name=name, poll_delay=0, provider_errors=0)
        log(
            step.uow.session,
            compilation,
            f"Publishing the adapter {trained_model} to the serving server"
            if name == trained_model
            else f"Deploying {trained_model} as {name} (a deployment is billed per hour while "
            "it exists; unused ones can be removed on the Versions tab)",
        )
        step.uow.commit()
        tags = {**MANAGED_BY, "arbiter-compilation": str(compilation.id)}
        tags["arbiter-model"] = str(compilation.model_id)
    _ask(step, deployments, trained_model, name, tags)
    follow_deployment(step)


def _ask(
    step: Step, deployments: Deployments, model: str, name: str, tags: dict[str, str]
) -> Deployment:
    try:
        return deployments.deploy(model, name, tags)
    except ProviderError as exc:
        _trouble(step, exc, model)


def _trouble(step: Step, exc: ProviderError, model: str) -> NoReturn:
    if isinstance(exc, DeploymentFailed) or not step.retries_left():
        step.end(
            CompilationStatus.FAILED,
            error=f"The model was trained ({model}) but could not be deployed: {exc.message} "
            "The active version stays active.",
        )
    step.provider_trouble(exc)


def follow_deployment(step: Step) -> None:
    """Read the deployment; finish once it is ready, wait (growing delay) until then."""
    with step.uow:
        compilation = step.load()
        provider = step.provider_here(compilation)
        name = str((compilation.dataset_stats or {}).get("deployment_name") or "")
        model = compilation.provider_model or ""
        delay = float((compilation.dataset_stats or {}).get("poll_delay", 0))
    deployments = provider.deployments
    assert deployments is not None and name
    try:
        found = deployments.deployment_status(name)
        if found is None:  # asked for, but the answer was lost: ask again
            found = deployments.deploy(model, name, {**MANAGED_BY})
    except ProviderError as exc:
        _trouble(step, exc, model)
    if found.failed:
        step.end(
            CompilationStatus.FAILED,
            error=f"The model was trained ({model}) but its deployment {name} failed "
            f"({found.state}). The active version stays active.",
        )
    if not found.ready:
        with step.uow:
            compilation = step.load()
            first = step.settings.poll_seconds or provider.poll_seconds
            delay = min(provider.max_poll_seconds, delay * 2) if delay else first
            _waiting(step, compilation, found, delay)
    with step.uow:
        log(step.uow.session, step.load(), f"Deployment {name} is ready")
        step.uow.commit()
    complete(step, Trained(model, deployment=name))


def _waiting(step: Step, compilation: Compilation, found: Deployment, delay: float) -> NoReturn:
    step.stats(compilation, poll_delay=delay, provider_errors=0)
    step.release_here(compilation, delay)
