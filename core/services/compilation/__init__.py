"""Compilations: pre-flight and requests, the engine that runs them step by step
(prepare, upload and start, follow, finish), and model versions.

Every use case is ``fn(uow, actor, ...)``: one transaction, the caller's permission checked
first, plain data back. Other packages and the pages use only the names below."""

from __future__ import annotations

from core.services.compilation.deployments import (
    DeploymentRow,
    RemovalReport,
    deployments_task,
    list_deployments,
    name_deployment,
    remove_unused_deployments,
)
from core.services.compilation.engine import drain, run_next
from core.services.compilation.records import EventView
from core.services.compilation.requests import (
    CompilationView,
    Preflight,
    cancel_compilation,
    compilation_events,
    example_sources,
    export_training_set,
    get_compilation,
    latest_compilation,
    preflight,
    request_compilation,
)
from core.services.compilation.revalidate import revalidate_version
from core.services.compilation.step import EngineSettings
from core.services.compilation.versions import (
    VersionView,
    activate_version,
    answering_version,
    list_versions,
    pin_version,
    rollback,
)

__all__ = [
    "CompilationView",
    "DeploymentRow",
    "EngineSettings",
    "EventView",
    "Preflight",
    "RemovalReport",
    "VersionView",
    "activate_version",
    "answering_version",
    "cancel_compilation",
    "compilation_events",
    "deployments_task",
    "drain",
    "example_sources",
    "export_training_set",
    "get_compilation",
    "latest_compilation",
    "list_deployments",
    "list_versions",
    "name_deployment",
    "pin_version",
    "preflight",
    "remove_unused_deployments",
    "request_compilation",
    "revalidate_version",
    "rollback",
    "run_next",
]
