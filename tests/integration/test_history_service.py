"""The compilation history's read side, on SQLite and PostgreSQL, over a seeded history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from core.domain import CompilationStatus, Role
from core.errors import NotFound
from core.models import CompilationEvent
from core.permissions import Actor
from core.services import history
from core.services.history import HistoryFilter
from core.uow import UnitOfWork
from tests.history_seed import TRAINING_JSONL, SeededHistory, seed_history


@pytest.fixture
def seeded(new_uow: Callable[[], UnitOfWork]) -> SeededHistory:
    return seed_history(new_uow())


def _manager(seeded: SeededHistory) -> Actor:
    return Actor(seeded.manager_id, "manager@history.example", Role.MANAGER)


def test_the_list_is_newest_first_and_paged_with_a_total(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    me = _manager(seeded)
    first = history.list_compilations(new_uow(), me, offset=0, limit=3)
    second = history.list_compilations(new_uow(), me, offset=3, limit=3)
    assert first.total == second.total == 7
    ids = [r.id for r in first.rows + second.rows]
    assert ids[:4] == [seeded.running, seeded.config_only, seeded.skipped, seeded.cancelled]
    assert ids[4:] == [seeded.failed, seeded.v2_compilation]
    created = [r.created_at for r in first.rows + second.rows]
    assert created == sorted(created, reverse=True)


def test_rows_carry_what_the_table_shows(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    rows = {r.id: r for r in history.list_compilations(new_uow(), _manager(seeded)).rows}
    v2 = rows[seeded.v2_compilation]
    assert (v2.model_name, v2.requested_by, v2.version_number) == ("Company", "Trainer", 2)
    assert v2.duration_seconds == pytest.approx(30 * 60 - 5)
    assert rows[seeded.failed].outcome == "The training set has errors:"
    assert rows[seeded.skipped].outcome.startswith("Nothing changed")
    assert rows[seeded.config_only].config_only
    assert rows[seeded.running].finished_at is None


@pytest.mark.parametrize(
    ("make_filter", "expected"),
    [
        (lambda s: HistoryFilter(model_id=s.child_id), lambda s: [s.running]),
        (
            lambda s: HistoryFilter(
                statuses=(CompilationStatus.FAILED, CompilationStatus.CANCELLED)
            ),
            lambda s: [s.cancelled, s.failed],
        ),
        (lambda s: HistoryFilter(requested_by_id=s.admin_id), lambda s: [s.cancelled]),
        (
            lambda s: HistoryFilter(
                since=s.now - timedelta(days=4), until=s.now - timedelta(days=1, hours=6)
            ),
            lambda s: [s.cancelled, s.failed, s.v2_compilation],
        ),
        (
            lambda s: HistoryFilter(model_id=s.parent_id, statuses=(CompilationStatus.SUCCEEDED,)),
            lambda s: [s.v2_compilation, s.v1_compilation],
        ),
    ],
    ids=["model", "statuses", "requester", "dates", "combined"],
)
def test_filters_are_applied_by_the_database(
    new_uow: Callable[[], UnitOfWork],
    seeded: SeededHistory,
    make_filter: Callable[[SeededHistory], HistoryFilter],
    expected: Callable[[SeededHistory], list[int]],
) -> None:
    page = history.list_compilations(new_uow(), _manager(seeded), make_filter(seeded))
    assert [r.id for r in page.rows] == expected(seeded)
    assert page.total == len(expected(seeded))


def test_facets_list_models_and_the_people_who_compiled(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    facets = history.history_facets(new_uow(), _manager(seeded))
    assert [name for _, name in facets.models] == ["Company", "Offline helper", "Sales"]
    assert {uid for uid, _ in facets.requesters} == {seeded.trainer_id, seeded.admin_id}


def test_detail_of_a_success_compares_cost_and_score_with_the_previous_version(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    detail = history.get_compilation(new_uow(), _manager(seeded), seeded.v2_compilation)
    assert detail.version is not None and detail.version.number == 2
    assert detail.previous_version is not None and detail.previous_version.number == 1
    assert detail.score_change == pytest.approx(0.15)
    # No actual cost recorded: the trained tokens at the connection's price.
    assert detail.actual_cost_or_computed == Decimal("0.0378")
    assert detail.cost_estimate == Decimal("0.0360")
    assert detail.diff_summary["added"] == 11
    per_source = history.examples_per_source(detail.dataset_stats)
    assert per_source["Examples"].tolist() == [12, 9]
    assert {a.kind for a in detail.assets} == {"training_file", "checkpoints"}
    assert detail.event_count == 6
    assert [f.severity for f in detail.findings] == ["warning"]
    assert (detail.error_count, detail.warning_count) == (0, 1)


def test_detail_of_a_failure_links_each_offending_record(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    detail = history.get_compilation(new_uow(), _manager(seeded), seeded.failed)
    assert detail.error is not None and "line 7: no assistant message" in detail.error
    assert (detail.error_count, detail.warning_count) == (2, 0)
    assert [(f.severity, f.where) for f in detail.findings] == [
        ("error", f"Q&A #{seeded.qa_id} of Company (line 3)"),
        ("error", f"conversation #{seeded.conversation_id} of Sales (line 7)"),
    ]
    assert [r.link for f in detail.findings for r in f.records] == [
        f"pages/qas.py?model={seeded.parent_id}&qa={seeded.qa_id}",
        f"pages/conversations.py?model={seeded.child_id}&conversation={seeded.conversation_id}",
    ]
    # The previous version is the one active when it was requested.
    assert detail.previous_version is not None and detail.previous_version.number == 2
    assert detail.version is None


def test_findings_of_a_file_name_lines_and_counts_stay_complete() -> None:
    report = {
        "errors": 450,
        "warnings": 3,
        "findings": [
            {
                "severity": "warning",
                "code": "short",
                "message": "short answer",
                "line": 2,
                "sources": [["line", 2, None, "", "own"]],
            },
            {
                "severity": "error",
                "code": "not_a_dict",
                "message": "not an object",
                "line": 9,
                "sources": [],
            },
        ],
    }
    found = history.findings_from_report(report)
    assert [(f.severity, f.where, f.records[0].link if f.records else None) for f in found] == [
        ("error", "line 9", None),
        ("warning", "line 2", None),
    ]
    assert history.findings_from_report(None) == []
    assert history.findings_from_report({"errors": 1}) == []


def test_the_difference_names_its_records(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    detail = history.get_compilation(new_uow(), _manager(seeded), seeded.v2_compilation)
    named = history.diff_records(detail.diff_summary)
    assert [(change, ref.label, ref.link) for change, ref in named] == [
        (
            "added",
            f"Q&A #{seeded.qa_id} of Company",
            f"pages/qas.py?model={seeded.parent_id}&qa={seeded.qa_id}",
        ),
        (
            "changed",
            f"conversation #{seeded.conversation_id} of Sales",
            f"pages/conversations.py?model={seeded.child_id}&conversation={seeded.conversation_id}",
        ),
    ]


def test_training_metrics_merge_events_and_checkpoints(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    frame = history.training_metrics(new_uow(), _manager(seeded), seeded.v2_compilation)
    assert set(frame["metric"]) == {
        "train_loss",
        "train_mean_token_accuracy",
        "valid_loss",
        "valid_mean_token_accuracy",
    }
    loss = frame[frame["metric"] == "train_loss"].set_index("step")["value"]
    assert loss.index.tolist() == [1, 2, 3, 4, 5]
    # The checkpoint's figure wins over the event's for the same step.
    assert loss[5] == pytest.approx(0.3)
    empty = history.training_metrics(new_uow(), _manager(seeded), seeded.skipped)
    assert empty.empty and list(empty.columns) == ["step", "metric", "value", "source"]


def test_metric_events_the_provider_garbled_are_left_out(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    with new_uow() as uow:
        for data in (
            {"step": 6, "train_loss": "n/a", "train_mean_token_accuracy": 0.9},
            {"train_loss": 0.1},  # no step
            {"step": "seven", "train_loss": 0.1},
            {"step": 8, "train_loss": None, "valid_loss": 0.2},
        ):
            uow.session.add(
                CompilationEvent(
                    compilation_id=seeded.v2_compilation, event_type="metrics", data=data
                )
            )
        uow.commit()
    frame = history.training_metrics(new_uow(), _manager(seeded), seeded.v2_compilation)
    late = frame[frame["step"] > 5][["step", "metric", "value"]].values.tolist()
    assert late == [[6, "train_mean_token_accuracy", 0.9], [8, "valid_loss", 0.2]]
    assert frame["step"].tolist() == sorted(frame["step"])


def test_progress_of_running_compilations_and_of_ones_just_finished(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    me = _manager(seeded)
    progress = history.compilation_progress(new_uow(), me)
    assert [p.id for p in progress] == [seeded.running]
    running = progress[0]
    assert (running.step, running.step_count, running.is_active) == (4, 4, True)
    assert running.elapsed_seconds == pytest.approx(10 * 60 - 5, abs=30)
    assert running.estimated_finish_at is not None
    assert [e.message for e in running.latest_events][:2] == [
        "Step 12/40: training loss=0.95",
        "Step 11/40: training loss=1.00",
    ]
    assert len(running.latest_events) == history.LATEST_EVENTS
    both = history.compilation_progress(new_uow(), me, [seeded.v2_compilation])
    assert [p.id for p in both] == [seeded.running, seeded.v2_compilation]
    assert not both[1].is_active


def test_events_are_paged_newest_first(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    page = history.list_events(new_uow(), _manager(seeded), seeded.running, offset=2, limit=3)
    assert page.total == 12
    assert [e.message.split(":")[0] for e in page.rows] == ["Step 10/40", "Step 9/40", "Step 8/40"]


def test_downloads_serve_stored_files_and_the_build_log(
    new_uow: Callable[[], UnitOfWork], seeded: SeededHistory
) -> None:
    me = _manager(seeded)
    training = history.get_asset(new_uow(), me, seeded.v2_compilation, "training_file")
    # Stored gzipped, it downloads as the JSONL itself, named after its compilation.
    assert training.content == TRAINING_JSONL
    assert training.filename == f"compilation-{seeded.v2_compilation}-training.jsonl"
    assert training.media_type == "application/jsonl"
    detail = history.get_compilation(new_uow(), me, seeded.v2_compilation)
    listed = next(a for a in detail.assets if a.kind == "training_file")
    assert (listed.filename, listed.compressed) == (training.filename, True)
    log = history.get_asset(new_uow(), me, seeded.v2_compilation, "build_log")
    assert log.content.decode().startswith("validated 21 examples")
    with pytest.raises(NotFound, match="no training file"):
        history.get_asset(new_uow(), me, seeded.skipped, "training_file")
    with pytest.raises(NotFound):
        history.get_compilation(new_uow(), me, 99_999)
