"""Deployments of trained versions (Azure OpenAI: a version answers only once deployed, and
a deployment is billed per hour while it exists): what is deployed and what it costs,
naming a deployment made by hand, deploying a version again before a rollback activates it,
and removing the deployments no version in use needs (never the active or pinned one's).

Provider calls happen outside transactions; each use case reads, calls, then writes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from core.domain import ProviderType, as_utc, utcnow
from core.errors import Conflict, Problem, ProviderError, ValidationFailed
from core.models import AIModel, ModelVersion, ProviderConnection
from core.permissions import Actor, Permission, public, requires
from core.providers.azure_deployments import deployment_name
from core.providers.registry import ConnectionSettings, provider_for
from core.services.accounts.audit import record_audit
from core.services.compilation.records import activate
from core.services.shared import get_or_404
from core.uow import UnitOfWork

log = logging.getLogger("arbiter.deployments")
_NAME_MAX = 64


@dataclass(frozen=True)
class DeploymentRow:
    model_id: int
    model_name: str
    version_id: int
    version_number: int
    deployment_name: str
    state: str
    deployed_at: datetime | None
    hosting_price_per_hour: Decimal | None
    in_use: bool  # the model's active or pinned version

    def cost_so_far(self, now: datetime | None = None) -> Decimal | None:
        if self.hosting_price_per_hour is None or self.deployed_at is None:
            return None
        hours = Decimal((as_utc(now or utcnow()) - as_utc(self.deployed_at)).total_seconds()) / 3600
        return (hours * self.hosting_price_per_hour).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class RemovalReport:
    removed: list[str]
    kept: list[str]
    problems: list[str]


def _in_use(model: AIModel) -> set[int]:
    return {v for v in (model.active_version_id, model.pinned_version_id) if v is not None}


@requires(Permission.VIEW_CONNECTIONS)
def list_deployments(uow: UnitOfWork, actor: Actor) -> list[DeploymentRow]:
    """Every version with a deployment that exists (or is being made), with its hourly cost."""
    with uow:
        rows = uow.session.execute(
            select(ModelVersion, AIModel)
            .join(AIModel, AIModel.id == ModelVersion.model_id)
            .where(
                ModelVersion.deployment_name.is_not(None),
                ModelVersion.deployment_removed_at.is_(None),
            )
            .order_by(AIModel.name, ModelVersion.number)
        ).all()
        return [
            DeploymentRow(
                model_id=m.id,
                model_name=m.name,
                version_id=v.id,
                version_number=v.number,
                deployment_name=v.deployment_name or "",
                state=v.deployment_state or "",
                deployed_at=as_utc(v.deployed_at),
                hosting_price_per_hour=v.hosting_price_per_hour,
                in_use=v.id in _in_use(m),
            )
            for v, m in rows
        ]


def _settings_of(uow: UnitOfWork, version: ModelVersion) -> ConnectionSettings | None:
    conn = uow.session.get(ProviderConnection, version.connection_id or 0)
    return ConnectionSettings.of(conn) if conn is not None else None


@requires(Permission.MANAGE_VERSIONS)
def name_deployment(uow: UnitOfWork, actor: Actor, version_id: int, name: str) -> DeploymentRow:
    """The deployment an admin made by hand for a version (connections whose deployments
    are made by hand); the version can then be activated."""
    name = name.strip()
    if not name or len(name) > _NAME_MAX:
        raise ValidationFailed(
            "Give the deployment's name.", [Problem("deployment", f"1 to {_NAME_MAX} characters")]
        )
    with uow:
        version = get_or_404(uow.session, ModelVersion, version_id, "Version")
        model = get_or_404(uow.session, AIModel, version.model_id, "Model")
        before = {"deployment_name": version.deployment_name}
        version.deployment_name = name
        version.deployment_state = "ready"
        version.deployed_at = utcnow()
        version.deployment_removed_at = None
        record_audit(
            uow.session,
            actor,
            "deploy",
            "version",
            version.id,
            f"named the deployment of {model.name} v{version.number}: {name}",
            before=before,
            after={"deployment_name": name},
        )
        uow.commit()
    return next(r for r in list_deployments(uow, actor) if r.version_id == version_id)


def redeploy_before_activation(uow: UnitOfWork, version_id: int) -> bool:
    """For a rollback: if the version's deployment was removed, ask for it again and let the
    worker activate the version once it is ready. Returns whether that happened (False: the
    version answers as it is, activate it now). On an open-weights connection that serves
    through an OpenAI-compatible server, the version's adapter is published there first
    (idempotent); a failure is an error and nothing changes."""
    with uow:
        version = get_or_404(uow.session, ModelVersion, version_id, "Version")
        model = get_or_404(uow.session, AIModel, version.model_id, "Model")
        settings = _settings_of(uow, version)
        removed = version.deployment_state == "removed"
        provider_model = version.provider_model_id
        name = version.deployment_name or deployment_name(model.name, version.compilation_id or 0)
        served = (
            settings is not None
            and settings.provider_type == ProviderType.OPEN_WEIGHTS
            and bool(settings.base_url)
            and not version.config_only
        )
        served_name = version.deployment_name or provider_model
    if settings is None or not (removed or served):
        return False
    deployments = provider_for(settings).deployments
    if served and deployments is not None:
        # An adapter server forgets adapters loaded at run time when it restarts: publish
        # again (idempotent, answers once loaded), then the version is activated at once.
        deployments.deploy(provider_model, served_name)
        _published(uow, version_id, served_name)
        return False
    if deployments is None or not deployments.automatic:
        raise Conflict(
            f"v{version.number}'s deployment was removed and this connection's deployments "
            "are made by hand: deploy it at the provider and name it first."
        )
    deployments.deploy(provider_model, name, {"managed-by": "arbiter-studio"})
    with uow:
        version = get_or_404(uow.session, ModelVersion, version_id, "Version")
        version.deployment_name = name
        version.deployment_state = "creating"
        version.deployment_removed_at = None
        version.activate_when_deployed = True
        uow.commit()
    return True


def _published(uow: UnitOfWork, version_id: int, name: str) -> None:
    with uow:
        version = get_or_404(uow.session, ModelVersion, version_id, "Version")
        if version.deployment_state != "ready" or version.deployment_name != name:
            version.deployment_name = name
            version.deployment_state = "ready"
            version.deployed_at = utcnow()
            version.deployment_removed_at = None
            uow.commit()


@public
def deployments_task(uow: UnitOfWork, worker_name: str) -> bool:
    """Worker task: follow deployments asked for by a rollback; activate each version whose
    deployment became ready."""
    with uow:
        waiting = [
            (v.id, ConnectionSettings.of(c), v.deployment_name or "")
            for v, c in uow.session.execute(
                select(ModelVersion, ProviderConnection)
                .join(ProviderConnection, ProviderConnection.id == ModelVersion.connection_id)
                .where(ModelVersion.deployment_state == "creating")
            )
        ]
    done = False
    for version_id, settings, name in waiting:
        try:
            deployments = provider_for(settings).deployments
            found = deployments.deployment_status(name) if deployments else None
        except ProviderError as exc:
            log.warning("deployment %s: %s", name, exc.message)
            continue
        if found is None or not (found.ready or found.failed):
            continue
        with uow:
            version = uow.session.get(ModelVersion, version_id)
            if version is None or version.deployment_state != "creating":
                continue
            version.deployment_state = "ready" if found.ready else "failed"
            version.deployed_at = utcnow() if found.ready else None
            model = uow.session.get(AIModel, version.model_id)
            if found.ready and version.activate_when_deployed and model is not None:
                previous = uow.session.get(ModelVersion, model.active_version_id or 0)
                activate(uow.session, model, version, previous)
            version.activate_when_deployed = False
            uow.commit()
            done = True
    return done


def _unused(uow: UnitOfWork) -> dict[ConnectionSettings, list[tuple[int, str]]]:
    with uow:
        rows = uow.session.execute(
            select(ModelVersion, AIModel, ProviderConnection)
            .join(AIModel, AIModel.id == ModelVersion.model_id)
            .join(ProviderConnection, ProviderConnection.id == ModelVersion.connection_id)
            .where(
                ModelVersion.deployment_name.is_not(None),
                ModelVersion.deployment_removed_at.is_(None),
                ModelVersion.deployment_state.in_(("ready", "failed")),
            )
        ).all()
        found: dict[ConnectionSettings, list[tuple[int, str]]] = {}
        for version, model, conn in rows:
            if version.id not in _in_use(model) and not conn.manual_deployments:
                found.setdefault(ConnectionSettings.of(conn), []).append(
                    (version.id, version.deployment_name or "")
                )
        return found


@requires(Permission.MANAGE_VERSIONS)
def remove_unused_deployments(uow: UnitOfWork, actor: Actor) -> RemovalReport:
    """Remove the deployments of versions that are neither active nor pinned: their hourly
    charge stops; a rollback to one deploys it again first."""
    removed: list[str] = []
    problems: list[str] = []
    for settings, versions in _unused(uow).items():
        deployments = provider_for(settings).deployments
        for version_id, name in versions:
            try:
                if deployments is not None:
                    deployments.remove_deployment(name)
            except ProviderError as exc:
                problems.append(f"{name}: {exc.message}")
                continue
            with uow:
                version = uow.session.get(ModelVersion, version_id)
                if version is not None:
                    version.deployment_state = "removed"
                    version.deployment_removed_at = utcnow()
                    record_audit(
                        uow.session,
                        actor,
                        "remove_deployment",
                        "version",
                        version.id,
                        f"removed the unused deployment {name}",
                    )
                    uow.commit()
            removed.append(name)
    kept = [r.deployment_name for r in list_deployments(uow, actor) if r.in_use]
    return RemovalReport(removed, kept, problems)
