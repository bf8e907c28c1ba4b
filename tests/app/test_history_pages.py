"""AppTest of the history views over a seeded history (succeeded, failed, cancelled,
skipped, config-only and one still training): the compilations list and each kind of
detail, the dashboard for each role, notifications with the sidebar count, and the
retirement flags on the models page."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import db
from core.domain import CompilationStatus, ProviderType, utcnow
from core.services import catalog
from core.services.accounts.notifications import notify
from core.uow import UnitOfWork
from tests.app.test_pages import app_for
from tests.history_seed import SeededHistory, seed_history


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, SeededHistory]]:
    path = tmp_path_factory.mktemp("history") / "history.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    seeded = seed_history(UnitOfWork(db.session_factory(engine)))
    engine.dispose()
    yield path, seeded


@pytest.fixture
def history_db(
    template: tuple[Path, SeededHistory], tmp_path: Path
) -> Iterator[tuple[str, SeededHistory]]:
    """A copy per test, so that tests which change data stay independent."""
    path, seeded = template
    target = tmp_path / "history.db"
    shutil.copyfile(path, target)
    url = f"sqlite:///{target}"
    yield url, seeded
    db.dispose_engines()


def _open(
    url: str, user_id: int, page: str, monkeypatch: pytest.MonkeyPatch, **params: object
) -> AppTest:
    at = app_for(url, user_id, monkeypatch).run()
    at.switch_page(page)
    for key, value in params.items():
        at.query_params[key] = str(value)
    at.run()
    assert not at.exception, at.exception
    return at


def _texts(at: AppTest) -> str:
    parts = [
        getattr(e, "value", "")
        for kind in ("markdown", "caption", "text", "code")
        for e in at.get(kind)
    ]
    parts += [e.value for e in at.error] + [e.value for e in at.warning]
    parts += [e.value for e in at.info] + [e.value for e in at.success]
    return "\n".join(str(p) for p in parts)


def _metric(at: AppTest, label: str) -> str:
    found = [m for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}"
    return str(found[0].value)


def _sidebar_link(url: str, user_id: int, monkeypatch: pytest.MonkeyPatch) -> str | None:
    # The sidebar is read on the first page a session opens (AppTest drops the entry
    # script's sidebar after switch_page).
    at = app_for(url, user_id, monkeypatch).run()
    labels = [p.proto.label for p in at.sidebar.get("page_link")]
    return next((str(label) for label in labels if label.startswith("Notifications")), None)


def _session(url: str) -> UnitOfWork:
    return UnitOfWork(db.session_factory(db.get_engine(url)))


# --- the list ---------------------------------------------------------------------------


def test_the_history_lists_every_compilation_newest_first(
    history_db: tuple[str, SeededHistory], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seeded = history_db
    at = _open(url, seeded.manager_id, "pages/compilations.py", monkeypatch)
    assert [t.value for t in at.title] == ["Compilations"]
    table = at.dataframe[-1].value
    assert table["#"].tolist() == [
        seeded.running,
        seeded.config_only,
        seeded.skipped,
        seeded.cancelled,
        seeded.failed,
        seeded.v2_compilation,
        seeded.v1_compilation,
    ]
    statuses = table["Status"].tolist()
    assert statuses[1] == "succeeded · config-only"
    assert [s.split()[-1] for s in statuses[2:5]] == ["skipped", "cancelled", "failed"]
    assert "7 compilations match" in _texts(at)
    # The running one is live at the top: step, elapsed time, provider's finish, events.
    assert "**Sales** · compilation #" in _texts(at)
    assert getattr(at.get("progress")[0], "value", 0) > 0
    live = _texts(at)
    assert "elapsed 9 min" in live or "elapsed 10 min" in live
    assert "provider's estimated finish" in live
    assert at.dataframe[0].value["Event"].tolist()[0] == "Step 12/40: training loss=0.95"


def test_filters_narrow_the_list(
    history_db: tuple[str, SeededHistory], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seeded = history_db
    at = _open(url, seeded.manager_id, "pages/compilations.py", monkeypatch)
    at.multiselect(key="hist_status").select(CompilationStatus.FAILED).select(
        CompilationStatus.CANCELLED
    ).run()
    assert at.dataframe[-1].value["#"].tolist() == [seeded.cancelled, seeded.failed]
    at.selectbox(key="hist_requester").select(seeded.admin_id).run()
    assert at.dataframe[-1].value["#"].tolist() == [seeded.cancelled]
    at.multiselect(key="hist_status").unselect(CompilationStatus.FAILED).unselect(
        CompilationStatus.CANCELLED
    ).run()
    at.selectbox(key="hist_requester").select(None).run()
    at.selectbox(key="hist_model").select(seeded.local_model_id).run()
    assert at.dataframe[-1].value["#"].tolist() == [seeded.config_only]
    today = utcnow().date()
    at.selectbox(key="hist_model").select(None).run()
    at.date_input(key="hist_since").set_value(today - timedelta(days=10)).run()
    assert seeded.v1_compilation not in at.dataframe[-1].value["#"].tolist()
    assert not at.exception


# --- one compilation in full ------------------------------------------------------------


def test_a_success_shows_cost_score_metrics_dataset_and_downloads(
    history_db: tuple[str, SeededHistory], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seeded = history_db
    at = _open(
        url,
        seeded.manager_id,
        "pages/compilations.py",
        monkeypatch,
        compilation=seeded.v2_compilation,
    )
    assert any(f"Compilation #{seeded.v2_compilation} · Company" in s.value for s in at.subheader)
    assert "Succeeded. It made version 2." in _texts(at)
    assert _metric(at, "Estimated cost") == "0.0360 USD"
    assert _metric(at, "Actual cost") == "0.0378 USD"
    assert _metric(at, "Trained tokens") == "12,600"
    assert _metric(at, "Validation score") == "0.850"
    assert _metric(at, "Previous version's score") == "0.700"
    assert [m.delta for m in at.metric if m.label == "Validation score"] == ["+0.150 vs v1"]
    assert "validated 21 examples" in next(c.value for c in at.code)
    texts = _texts(at)
    assert f"Q&A #{seeded.qa_id} of Company (line 4)" in texts
    assert "contains an e-mail address" in texts
    assert len(at.get("vega_lite_chart")) == 3  # loss, token accuracy, examples per source
    assert _metric(at, "Added") == "11" and _metric(at, "Changed") == "1"
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Build log" in labels
    assert any(label.startswith("Training set (JSONL)") for label in labels)
    assert labels.count("Download CSV") == 3


def test_a_failure_shows_the_full_error_and_links_each_offending_record(
    history_db: tuple[str, SeededHistory], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seeded = history_db
    at = _open(
        url, seeded.trainer_id, "pages/compilations.py", monkeypatch, compilation=seeded.failed
    )
    assert "the previous version stays active" in at.error[0].value
    assert "- line 7: no assistant message" in "\n".join(c.value for c in at.code)
    texts = _texts(at)
    assert "2 error(s) and 0 warning(s)." in texts
    # The Q&A and conversation pages belong to other screens: until they exist the record is
    # named as text, afterwards as a link with the record's query parameters.
    labels = [p.proto.label for p in at.get("page_link")] + [str(m.value) for m in at.markdown]
    named = [label for label in labels if label.startswith(("Open Q&A", "Open conversation"))]
    # Links and plain text come out in different lists: compare without their order.
    assert sorted(named) == [
        f"Open Q&A #{seeded.qa_id} of Company",
        f"Open conversation #{seeded.conversation_id} of Sales",
    ]
    assert "No training metrics" in texts


@pytest.mark.parametrize(
    ("which", "expected"),
    [
        ("cancelled", "Cancelled; the previous version stays active. cancelled by Admin"),
        ("skipped", "Skipped: Nothing changed since version 2"),
        ("config_only", "Config-only version: no training data, so no fine-tuning job ran"),
    ],
)
def test_cancelled_skipped_and_config_only_say_what_happened(
    which: str,
    expected: str,
    history_db: tuple[str, SeededHistory],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, seeded = history_db
    at = _open(
        url,
        seeded.manager_id,
        "pages/compilations.py",
        monkeypatch,
        compilation=getattr(seeded, which),
    )
    assert expected in _texts(at)
    assert _metric(at, "Actual cost") == "—"


def test_a_running_compilation_shows_its_progress_in_the_detail(
    history_db: tuple[str, SeededHistory], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seeded = history_db
    at = _open(
        url, seeded.manager_id, "pages/compilations.py", monkeypatch, compilation=seeded.running
    )
    # One card in the live panel, one in the detail; both on step 4 of 4.
    assert len(at.get("progress")) == 2
    assert _metric(at, "Version") == "none"


def test_an_unknown_compilation_says_so(
    history_db: tuple[str, SeededHistory], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seeded = history_db
    at = _open(url, seeded.manager_id, "pages/compilations.py", monkeypatch, compilation=99_999)
    assert "Compilation #99999 was not found" in at.error[0].value


# --- the dashboard ------------------------------------------------------------------------


def test_the_managers_dashboard(
    history_db: tuple[str, SeededHistory], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seeded = history_db
    at = _open(url, seeded.manager_id, "pages/dashboard.py", monkeypatch)
    assert _metric(at, "Compilations") == "7"
    assert _metric(at, "Success rate") == "75%"
    assert _metric(at, "Median duration") == "11 min 55 s"
    assert _metric(at, "Running now") == "1"
    # Per week, success and duration, cost against budget, scores, growth: each with CSV.
    assert len(at.get("vega_lite_chart")) == 5
    assert [b.proto.label for b in at.get("download_button")].count("Download CSV") == 5
    assert "OpenAI is winding down self-serve fine-tuning" in _texts(at)
    # Beside the notice: every model's training set, to train it elsewhere.
    export = at.get("download_button")
    assert [b.proto.label for b in export].count("Export all training sets") == 1
    radar = at.dataframe[-1].value
    assert radar["Base model"].tolist() == ["gpt-4o-mini-2024-07-18", "local-retrieval-1"]
    # Managers read the radar; only admins edit it.
    assert not [e for e in at.get("expander") if "admin" in str(getattr(e, "label", ""))]


def test_trainers_see_the_dashboard_without_costs(
    history_db: tuple[str, SeededHistory], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seeded = history_db
    at = _open(url, seeded.trainer_id, "pages/dashboard.py", monkeypatch)
    assert "Costs and budgets are shown to managers and admins." in _texts(at)
    assert len(at.get("vega_lite_chart")) == 4


def test_an_admin_enters_a_shutdown_date_and_the_models_are_flagged(
    history_db: tuple[str, SeededHistory], monkeypatch: pytest.MonkeyPatch, shipped_catalogue: Path
) -> None:
    url, seeded = history_db
    at = _open(url, seeded.admin_id, "pages/dashboard.py", monkeypatch)
    soon = utcnow().date() + timedelta(days=30)
    at.selectbox(key="bm_provider").select(ProviderType.OPENAI)
    at.text_input(key="bm_name").input("gpt-4o-mini-2024-07-18")
    at.date_input(key="bm_date").set_value(soon)
    at.text_input(key="bm_notes").input("announced by the provider")
    at.button[[b.label for b in at.button].index("Save shutdown date")].click().run()
    assert not at.exception, at.exception
    flagged = [w.value for w in at.warning if "gpt-4o-mini-2024-07-18" in w.value]
    assert flagged and "in 30 days" in flagged[0] and "Company, Sales" in flagged[0]
    # OpenAI's last day for new jobs comes from the catalogue, with the days left (or since).
    assert "fine-tuning jobs" in flagged[0] and "2027-01-06" in flagged[0]
    radar = next(d.value for d in at.dataframe if "New jobs until" in d.value.columns)
    row = radar[radar["Base model"] == "gpt-4o-mini-2024-07-18"].iloc[0]
    assert row["New jobs until"] == "2027-01-06" and row["Days left to fine-tune"] != ""
    # The models page flags them too, in the list and on the model itself.
    models = _open(url, seeded.admin_id, "pages/models.py", monkeypatch, model=seeded.child_id)
    warnings = [w.value for w in models.warning]
    assert any("retiring within 90 days for: Company, Sales" in w for w in warnings)
    assert any("Its base model gpt-4o-mini-2024-07-18 retires on" in w for w in warnings)
    notice = [e for e in models.expander if "no new fine-tuning jobs" in str(e.label)]
    assert notice and "Export all training sets" in [
        b.proto.label for b in notice[0].get("download_button")
    ]


# --- notifications --------------------------------------------------------------------------


def test_notifications_count_in_the_sidebar_and_mark_as_read(
    history_db: tuple[str, SeededHistory], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seeded = history_db
    with _session(url) as uow:
        notify(
            uow.session,
            seeded.trainer_id,
            "compilation_ended",
            "Compilation of Company succeeded.",
            f"pages/compilations.py?compilation={seeded.v2_compilation}",
        )
        notify(uow.session, seeded.trainer_id, "rollback", "Company was rolled back to v1.", None)
        uow.commit()
    assert _sidebar_link(url, seeded.trainer_id, monkeypatch) == "Notifications (2 unread)"
    at = _open(url, seeded.trainer_id, "pages/notifications.py", monkeypatch)
    assert [t.value for t in at.text] == [
        "Company was rolled back to v1.",
        "Compilation of Company succeeded.",
    ]
    link = next(p for p in at.main.get("page_link") if p.proto.label == "Open")
    assert link.proto.page.endswith("compilations")
    assert link.proto.query_string == f"compilation={seeded.v2_compilation}"
    at.button(
        key=next(b.key for b in at.button if b.key and b.key.startswith("notification_read_"))
    ).click().run()
    assert len(at.text) == 1
    assert _sidebar_link(url, seeded.trainer_id, monkeypatch) == "Notifications (1 unread)"
    at.button(key="notifications_all_read").click().run()
    assert "Nothing new." in [i.value for i in at.info]
    at.toggle(key="notifications_all").set_value(True).run()
    assert len(at.text) == 2
    assert _sidebar_link(url, seeded.trainer_id, monkeypatch) is None
    # Each user has their own: the manager has none of the trainer's.
    assert _sidebar_link(url, seeded.manager_id, monkeypatch) is None


def test_budget_reached_reaches_the_managers_notifications(
    history_db: tuple[str, SeededHistory], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seeded = history_db

    with _session(url) as uow:
        from core.models import ProviderConnection

        conn = uow.session.get(ProviderConnection, seeded.openai_connection_id)
        assert conn is not None
        conn.monthly_budget = 0.01  # type: ignore[assignment]
        uow.commit()
    moment = seeded.now - timedelta(days=3, minutes=-31)
    assert catalog.notify_budgets_reached(_session(url), now=moment) == 1
    at = _open(url, seeded.manager_id, "pages/notifications.py", monkeypatch)
    assert any(t.value.startswith("Budget reached: OpenAI has spent") for t in at.text)
    link = next(p for p in at.main.get("page_link") if p.proto.label == "Open")
    assert link.proto.page.endswith("dashboard")
