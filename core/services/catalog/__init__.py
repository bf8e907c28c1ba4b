"""The catalogue: AI models and their hierarchy, provider connections, base models and
their retirement, usage and budgets, and what each model's training data holds.

Every use case is ``fn(uow, actor, ...)``: one transaction, the caller's permission checked
first, plain data back. Other packages and the pages use only the names below."""

from __future__ import annotations

from core.services.catalog.ai_models import (
    ModelDetail,
    ModelInput,
    ModelSummary,
    create_model,
    get_model,
    get_model_by_name,
    list_models,
    move_model,
    update_model,
)
from core.services.catalog.base_model_facts import BaseModelRow
from core.services.catalog.base_models import (
    BaseModelInput,
    RefreshReport,
    delete_base_model,
    list_base_models,
    refresh_from_providers,
    refresh_shutdown_dates_task,
    save_base_model,
)
from core.services.catalog.budgets import budget_check_task, notify_budgets_reached
from core.services.catalog.connection_rules import ConnectionInput
from core.services.catalog.connections import (
    ConnectionView,
    create_connection,
    delete_connection,
    get_connection,
    list_connections,
    test_connection,
    update_connection,
)
from core.services.catalog.model_removal import DeletionImpact, delete_model, deletion_impact
from core.services.catalog.retirement import (
    OPENAI_WIND_DOWN_NOTICE,
    RETIREMENT_WINDOW_DAYS,
    BaseModelInUse,
    RetirementFlag,
    base_models_in_use,
    models_at_risk,
    uses_openai,
)
from core.services.catalog.training_data import (
    MoveTarget,
    SourceCount,
    model_ancestry,
    training_set_preview,
)
from core.services.catalog.training_sets import (
    ExportedTrainingSet,
    TrainingSetsExport,
    export_training_sets,
)

__all__ = [
    "OPENAI_WIND_DOWN_NOTICE",
    "RETIREMENT_WINDOW_DAYS",
    "BaseModelInUse",
    "BaseModelInput",
    "BaseModelRow",
    "ConnectionInput",
    "ConnectionView",
    "DeletionImpact",
    "ExportedTrainingSet",
    "ModelDetail",
    "ModelInput",
    "ModelSummary",
    "MoveTarget",
    "RefreshReport",
    "RetirementFlag",
    "SourceCount",
    "TrainingSetsExport",
    "base_models_in_use",
    "budget_check_task",
    "create_connection",
    "create_model",
    "delete_base_model",
    "delete_connection",
    "delete_model",
    "deletion_impact",
    "export_training_sets",
    "get_connection",
    "get_model",
    "get_model_by_name",
    "list_base_models",
    "list_connections",
    "list_models",
    "model_ancestry",
    "models_at_risk",
    "move_model",
    "notify_budgets_reached",
    "refresh_from_providers",
    "refresh_shutdown_dates_task",
    "save_base_model",
    "test_connection",
    "training_set_preview",
    "update_connection",
    "update_model",
    "uses_openai",
]
