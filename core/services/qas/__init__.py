"""Q&As: the grid's query, cell edits, bulk actions with undo, import and export, clean-up,
a validation set.

Every use case is ``fn(uow, actor, ...)``: one transaction, the caller's permission checked
first, plain data back. Other packages and the pages use only the names below."""

from __future__ import annotations

from core.services.qas.bulk import BulkAction, BulkResult, Selection, bulk_update, count_selection
from core.services.qas.cleanup import (
    LONG_ANSWER_CHARS,
    SHORT_ANSWER_CHARS,
    CleanupFinding,
    CleanupReport,
    FindingKind,
    cleanup_report,
    merge_duplicates,
)
from core.services.qas.editing import QAInput, add_qa, update_qa
from core.services.qas.export import export_qas
from core.services.qas.io import (
    FIELDS,
    HEADERS,
    REQUIRED,
    ImportPreview,
    ImportResult,
    OnDuplicate,
    RowStatus,
    commit_import,
    preview_import,
    read_paste,
    read_upload,
    suggest_mapping,
)
from core.services.qas.query import (
    PAGE_SIZES,
    SORTABLE,
    QAFacets,
    QAListing,
    QAQuery,
    QARow,
    get_qa,
    list_qas,
    locate_qa,
    qa_facets,
)
from core.services.qas.split import DEFAULT_SHARE, ValidationSplit, make_validation_set
from core.services.qas.undo import undo_bulk

__all__ = [
    "DEFAULT_SHARE",
    "FIELDS",
    "HEADERS",
    "LONG_ANSWER_CHARS",
    "PAGE_SIZES",
    "REQUIRED",
    "SHORT_ANSWER_CHARS",
    "SORTABLE",
    "BulkAction",
    "BulkResult",
    "CleanupFinding",
    "CleanupReport",
    "FindingKind",
    "ImportPreview",
    "ImportResult",
    "OnDuplicate",
    "QAFacets",
    "QAInput",
    "QAListing",
    "QAQuery",
    "QARow",
    "RowStatus",
    "Selection",
    "ValidationSplit",
    "add_qa",
    "bulk_update",
    "cleanup_report",
    "commit_import",
    "count_selection",
    "export_qas",
    "get_qa",
    "list_qas",
    "locate_qa",
    "make_validation_set",
    "merge_duplicates",
    "preview_import",
    "qa_facets",
    "read_paste",
    "read_upload",
    "suggest_mapping",
    "undo_bulk",
    "update_qa",
]
