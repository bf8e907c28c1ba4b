"""History (read side): compilations past and running, one compilation in full, training
metrics, downloads, and the managers' dashboard.

Every use case is ``fn(uow, actor, ...)``: one transaction, the caller's permission checked
first, plain data back. Other packages and the pages use only the names below."""

from __future__ import annotations

from core.services.history.compilations import (
    LATEST_EVENTS,
    CompilationRow,
    Facets,
    HistoryFilter,
    Progress,
    compilation_progress,
    history_facets,
    list_compilations,
)
from core.services.history.dashboard import (
    DEFAULT_WEEKS,
    DashboardSummary,
    compilations_per_week,
    cost_per_month,
    dashboard_summary,
    training_data_growth,
    validation_scores,
    weekly_outcomes,
)
from core.services.history.detail import (
    AssetInfo,
    CompilationDetail,
    Finding,
    RecordRef,
    VersionFacts,
    diff_records,
    findings_from_report,
    get_compilation,
    list_events,
    record_link,
)
from core.services.history.downloads import AssetFile, get_asset
from core.services.history.hosting import HostingNow, hosting_cost_per_month, hosting_now
from core.services.history.metrics import examples_per_source, training_metrics

__all__ = [
    "DEFAULT_WEEKS",
    "LATEST_EVENTS",
    "AssetFile",
    "AssetInfo",
    "CompilationDetail",
    "CompilationRow",
    "DashboardSummary",
    "Facets",
    "Finding",
    "HistoryFilter",
    "HostingNow",
    "Progress",
    "RecordRef",
    "VersionFacts",
    "compilation_progress",
    "compilations_per_week",
    "cost_per_month",
    "dashboard_summary",
    "diff_records",
    "examples_per_source",
    "findings_from_report",
    "get_asset",
    "get_compilation",
    "history_facets",
    "hosting_cost_per_month",
    "hosting_now",
    "list_compilations",
    "list_events",
    "record_link",
    "training_data_growth",
    "training_metrics",
    "validation_scores",
    "weekly_outcomes",
]
