"""The folder tree is the architecture: services by domain, one way dependencies, no cycle,
small units. Read from the source files (nothing is imported but the packages' __all__)."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "core" / "services"
# Lower packages first: a package may import those before it, never those after it.
DOMAINS = (
    "accounts", "catalog", "qas", "chat", "curation", "compilation", "evaluation", "history"
)  # fmt: skip
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
DATA_MODULES = {"migrations"}  # generated schema scripts; data, not logic


def _python_files(*folders: str) -> Iterator[Path]:
    for folder in folders:
        path = ROOT / folder
        yield from [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module a file imports, with ``from X import y`` also as ``X.y``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _domain_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if parts[:2] == ["core", "services"] and len(parts) > 2 else None


# --- services by domain ---------------------------------------------------------------------

# What each domain offers the pages, the command line and the other domains. A change here
# is a change of the public interface: make it on purpose.
EXPORTED = {
    "accounts": [
        "IDLE_HOURS", "MAX_DAYS", "MAX_FAILED_LOGINS", "AuditFilter", "AuditView",
        "NotificationSettings", "NotificationView", "audit_facets", "change_own_password",
        "connection_webhook", "count_users", "create_user", "current_actor",
        "deliver_notifications", "end_session", "get_profile", "list_audit_entries",
        "list_notifications", "list_users", "log_in", "log_in_with_sso", "mark_read",
        "model_webhook", "notification_delivery_task", "notification_settings",
        "reset_password", "resume_session", "set_connection_webhook", "set_model_webhook",
        "set_notification_settings", "start_session", "unlock_user", "unread_count",
        "update_user",
    ],
    "catalog": [
        "OPENAI_WIND_DOWN_NOTICE", "RETIREMENT_WINDOW_DAYS", "BaseModelInUse", "BaseModelInput",
        "BaseModelRow", "ConnectionInput", "ConnectionView", "DeletionImpact",
        "ExportedTrainingSet", "ModelDetail", "ModelInput", "ModelSummary", "MoveTarget",
        "RefreshReport", "RetirementFlag", "SourceCount", "TrainingSetsExport",
        "base_models_in_use", "budget_check_task", "create_connection", "create_model",
        "delete_base_model", "delete_connection", "delete_model", "deletion_impact",
        "export_training_sets", "get_connection", "get_model", "get_model_by_name",
        "list_base_models", "list_connections", "list_models", "model_ancestry", "models_at_risk",
        "move_model", "notify_budgets_reached", "refresh_from_providers",
        "refresh_shutdown_dates_task", "save_base_model", "test_connection",
        "training_set_preview", "update_connection", "update_model", "uses_openai",
    ],
    "qas": [
        "DEFAULT_SHARE", "FIELDS", "HEADERS", "LONG_ANSWER_CHARS", "PAGE_SIZES", "REQUIRED",
        "SHORT_ANSWER_CHARS", "SORTABLE", "BulkAction", "BulkResult", "CleanupFinding",
        "CleanupReport", "FindingKind", "ImportPreview", "ImportResult", "OnDuplicate",
        "QAFacets", "QAInput", "QAListing", "QAQuery", "QARow", "RowStatus", "Selection",
        "ValidationSplit", "add_qa", "bulk_update", "cleanup_report", "commit_import",
        "count_selection", "export_qas", "get_qa", "list_qas", "locate_qa",
        "make_validation_set", "merge_duplicates", "preview_import", "qa_facets", "read_paste",
        "read_upload", "suggest_mapping", "undo_bulk", "update_qa",
    ],
    "chat": [
        "Answered", "ChatMessageView", "ChatSummary", "Directory", "Member", "Posted",
        "answer_all", "ask_model", "chat_activity", "chat_directory", "create_chat", "get_chat",
        "get_message", "list_chats", "list_messages", "post_message", "retry_answer",
        "stream_answer", "update_chat",
    ],
    "curation": [
        "ConversationDetail", "ConversationFilter", "ConversationRow", "Decision", "Editor",
        "MessageView", "TrainResult", "TranscriptPreview", "TranscriptView", "approve_transcript",
        "conversation_editors", "create_conversation", "delete_conversation", "get_conversation",
        "get_transcript", "import_transcripts", "list_conversations", "list_transcripts",
        "next_in_queue", "preview_transcripts", "queue_progress", "reject_transcript", "requeue_skipped",
        "save_conversation", "send_chat_to_queue", "set_status", "set_status_bulk",
        "skip_transcript", "train_from_chat", "train_preview", "undo_decision", "waiting_by_model",
    ],
    "compilation": [
        "CompilationView", "DeploymentRow", "EngineSettings", "EventView", "Preflight",
        "RemovalReport", "VersionView", "activate_version", "answering_version",
        "cancel_compilation", "compilation_events", "deployments_task", "drain", "example_sources",
        "export_training_set", "get_compilation", "latest_compilation", "list_deployments",
        "list_versions", "name_deployment", "pin_version", "preflight",
        "remove_unused_deployments", "request_compilation",
        "revalidate_version", "rollback", "run_next",
    ],
    "evaluation": [
        "BASE", "EvaluationView", "compare_evaluations", "evaluate", "evaluation_results",
        "list_evaluations",
    ],
    "history": [
        "DEFAULT_WEEKS", "LATEST_EVENTS", "AssetFile", "AssetInfo", "CompilationDetail",
        "CompilationRow", "DashboardSummary", "Facets", "Finding", "HistoryFilter", "HostingNow",
        "Progress", "RecordRef", "VersionFacts", "compilation_progress", "compilations_per_week",
        "cost_per_month", "dashboard_summary", "diff_records", "examples_per_source",
        "findings_from_report", "get_asset", "get_compilation", "history_facets",
        "hosting_cost_per_month", "hosting_now", "list_compilations", "list_events", "record_link", "training_data_growth",
        "training_metrics", "validation_scores", "weekly_outcomes",
    ],
}  # fmt: skip


def test_services_are_one_package_per_domain() -> None:
    packages = sorted(p.name for p in SERVICES.iterdir() if (p / "__init__.py").exists())
    assert packages == sorted(DOMAINS)
    loose = sorted(p.name for p in SERVICES.glob("*.py") if p.name != "__init__.py")
    assert loose == ["shared.py"], "a service module belongs in its domain's package"


@pytest.mark.parametrize("domain", DOMAINS)
def test_each_domain_names_its_public_use_cases(domain: str) -> None:
    package = importlib.import_module(f"core.services.{domain}")
    exported = package.__all__
    assert len(set(exported)) == len(exported)
    for name in exported:
        assert hasattr(package, name), f"{domain}.__all__ names {name}, which is not there"
    if domain in EXPORTED:
        assert exported == EXPORTED[domain]


def test_exported_functions_are_use_cases() -> None:
    """A use case is guarded by a permission (or explicitly public); everything else a
    domain exports is a type or a constant, never a helper that takes a session."""
    for domain in DOMAINS:
        package = importlib.import_module(f"core.services.{domain}")
        for name in package.__all__:
            value = getattr(package, name)
            if inspect.isfunction(value):
                guarded = hasattr(value, "required_permission") or getattr(
                    value, "is_public", False
                )
                assert guarded, f"{domain}.{name} is exported but neither @requires nor @public"


def _is_private(part: str) -> bool:
    return part.startswith("_") and not part.startswith("__")


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def test_nothing_imports_another_packages_private_modules() -> None:
    offending = []
    for path in _python_files("core", "ui", "pages", "app.py", "tests", "bench"):
        here = _module_name(path)
        for name in _imports(path):
            parts = name.split(".")
            private = next((i for i, p in enumerate(parts) if _is_private(p)), None)
            if private is None or not _is_module(".".join(parts[: private + 1])):
                continue
            owner = ".".join(parts[:private])
            if not here.startswith(owner):
                offending.append(f"{here} imports {name}")
    assert offending == []


def test_pages_ui_and_entry_points_use_the_domain_packages_only() -> None:
    """Below ``core.services.<domain>`` are its modules; the screens and the command line
    call the domain's public names, so modules can move inside a domain freely."""
    offending = []
    for path in _python_files("pages", "ui", "app.py", "core/cli"):
        for name in _imports(path):
            parts = name.split(".")
            if parts[:2] == ["core", "services"] and len(parts) > 3 and parts[2] in DOMAINS:
                module = ".".join(parts[:4])
                if importlib.util.find_spec(module) is not None:
                    offending.append(f"{_module_name(path)} imports {name}")
    assert offending == []


def test_domains_depend_only_on_lower_domains() -> None:
    offending = []
    for path in SERVICES.rglob("*.py"):
        mine = _domain_of(_module_name(path))
        if mine is None:
            continue
        for name in _imports(path):
            theirs = _domain_of(name)
            if theirs in DOMAINS and DOMAINS.index(theirs) > DOMAINS.index(mine):
                offending.append(f"{_module_name(path)} ({mine}) imports {name}")
    assert offending == []


# --- no cycle -------------------------------------------------------------------------------


def _module_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in _python_files("core")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imports(path):
            # "from core.x import y" names a module core.x.y when that file exists.
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name and not name.startswith(imported + "."):
                targets.add(imported)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_in_core() -> None:
    assert _cycles(_module_graph()) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_worker_loop_knows_no_service() -> None:
    loop = ROOT / "core" / "worker" / "__init__.py"
    assert not {n for n in _imports(loop) if n.startswith("core.services")}
    assert "register_task" not in loop.read_text(encoding="utf-8")


# --- small units ----------------------------------------------------------------------------


def _product_files() -> Iterator[Path]:
    for path in _python_files("core", "ui", "pages", "app.py"):
        if not DATA_MODULES & set(path.parts):
            yield path


def test_no_module_over_500_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in _product_files()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_over_80_lines() -> None:
    long = []
    for path in _product_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length})")
    assert long == []
