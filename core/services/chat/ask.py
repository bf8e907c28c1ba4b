"""One question to a model, outside any chat: for the command line (``python -m core ask``),
scripts and support. Answers from the active version (or the one named), with its system
message, as the chat does; nothing is stored."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from core.errors import NotFound, ProviderError
from core.models import ModelVersion
from core.permissions import Actor, Permission, requires
from core.providers.base import ChatTurn
from core.providers.local import LOCAL_BASE_MODEL
from core.providers.registry import provider_for
from core.services import catalog
from core.services.catalog.usage import connection_facts
from core.uow import UnitOfWork


@dataclass(frozen=True)
class Answered:
    model_name: str
    version_number: int | None  # None: no version yet, the base model answered
    text: str


@requires(Permission.CHAT)
def ask_model(
    uow: UnitOfWork, actor: Actor, model_name: str, question: str, version: int | None = None
) -> Answered:
    detail = catalog.get_model_by_name(uow, actor, model_name)
    with uow:
        query = select(ModelVersion).where(ModelVersion.model_id == detail.id)
        if version is not None:
            query = query.where(ModelVersion.number == version)
        else:
            query = query.where(ModelVersion.id == detail.active_version_id)
        found = uow.session.scalar(query)
        if found is None and version is not None:
            raise NotFound(f"{detail.name} has no version v{version}.")
        conn = connection_facts(uow.session).get(detail.effective_connection_id or 0)
        if conn is None:
            raise NotFound(f"{detail.name} has no provider connection.")
        settings = conn.settings
        # Read inside the unit of work: its commit expires the version's attributes.
        number = found.number if found is not None else None
        if found is not None:
            provider_model, system = found.provider_model_id, found.system_message
        else:
            fallback = LOCAL_BASE_MODEL if settings.provider_type == "local" else ""
            provider_model, system = detail.effective_base_model or fallback, detail.system_message
    if not provider_model:
        raise ProviderError(f"{detail.name} has no version and no base model to answer with.")
    turns = ([ChatTurn("system", system)] if system else []) + [ChatTurn("user", question)]
    text = "".join(delta.text for delta in provider_for(settings).chat(provider_model, turns))
    return Answered(detail.name, number, text.strip())
