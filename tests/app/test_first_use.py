"""The screens as a new user meets them (AppTest): each page opens where the work is, says
what it shows, and never shows a raw value."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import db
from core.domain import CompilationStatus, ProviderType, Role
from core.permissions import Actor
from core.providers.local import LOCAL_BASE_MODEL
from core.services import accounts, catalog, chat, compilation, curation
from core.services.catalog import ModelInput
from core.uow import UnitOfWork
from tests.app.test_chat_pages import Demo, demo_company, open_page
from tests.app.test_compile_page import _open as open_compile
from tests.app.test_history_pages import _open, history_db, template
from tests.app.test_models_page import Company, company, open_models
from tests.compile_helpers import add_qas, drain
from tests.conftest import make_user
from tests.history_seed import SeededHistory

__all__ = ["company", "demo_company", "history_db", "template"]  # fixtures used here


@pytest.fixture
def compile_company(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[UnitOfWork, dict[str, Actor], int]:
    """One local arbiter with a dozen Q&As, as on the compile page's own tests."""
    monkeypatch.setenv("ARBITER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    factory = db.session_factory(db.make_engine(sqlite_url))
    uow = UnitOfWork(factory)
    people = {role.value: make_user(uow, f"{role.value}@corp.example", role) for role in Role}
    local = catalog.create_connection(
        uow,
        people["admin"],
        catalog.ConnectionInput(
            name="Local", provider_type=ProviderType.LOCAL, default_base_model=LOCAL_BASE_MODEL
        ),
    )
    model = catalog.create_model(
        uow, people["admin"], ModelInput(name="Support", connection_id=local.id)
    )
    add_qas(lambda: UnitOfWork(factory), model.id)
    return uow, people, model.id


def test_curation_opens_on_the_model_with_transcripts_waiting(
    demo_company: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = demo_company
    waiting = curation.waiting_by_model(d.uow, d.trainer)
    assert list(waiting) == [d.support_id]  # the demo's transcripts wait under Support only
    at = open_page(d.url, d.trainer, "pages/transcripts.py", monkeypatch)
    (picker,) = [s for s in at.selectbox if s.label == "Model"]
    assert picker.value == d.support_id
    labels = picker.options
    assert any(label.endswith(f"· {waiting[d.support_id]:,} waiting") for label in labels)
    assert any(label.endswith("· 0 waiting") for label in labels)
    assert any(f"{waiting[d.support_id]:,} waiting in all" in c.value for c in at.caption)
    assert at.subheader, "the first transcript waiting is open for review"


def test_models_list_shows_what_to_do_next_first(
    sqlite_url: str, company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, people, _ = company
    at = open_models(sqlite_url, people["trainer"], monkeypatch)
    table = at.dataframe[0].value
    # Right after the name, so that at 1440 px nothing that says what to do next scrolls away.
    assert list(table.columns)[:4] == [
        "Model",
        "Active version",
        "Last compilation",
        "Changes pending",
    ]
    assert len(table.columns) <= 8
    sales = table[table["Model"].str.endswith("Sales")].iloc[0]
    assert sales["Training data"] == "0 Q&As · 0 validation · 0 conversations"
    assert "None" not in table.to_string()


def test_an_empty_dashboard_says_what_will_appear(
    sqlite_url: str, company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A company that has compiled nothing: no empty plots, one sentence per chart of what
    will appear and where to start."""
    _, people, _ = company
    admin = people["admin"]
    at = open_page(sqlite_url, admin, "pages/dashboard.py", monkeypatch)
    assert not at.get("vega_lite_chart")
    infos = [i.value for i in at.info]
    for expected in (
        "once a trainer compiles a model (Models page, Compile tab)",
        "once a compilation has succeeded or failed",
        "once a model compiles on a priced connection",
        "once a model with validation Q&As compiles",
        "once trainers add them",
    ):
        assert any(expected in text for text in infos), expected
    assert at.metric[1].value == "none yet" and at.metric[2].value == "none yet"
    assert any("Base models in use" in text for text in infos)


def test_the_deprecation_radar_shows_no_raw_values(
    history_db: tuple[str, SeededHistory], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seeded = history_db
    at = _open(url, seeded.manager_id, "pages/dashboard.py", monkeypatch)
    radar = at.dataframe[-1].value.to_string()
    assert "None" not in radar and "NaN" not in radar and "⚠" not in radar
    assert "not announced" in radar  # the local base model has no shutdown date
    cost_axis = [c for c in at.get("vega_lite_chart") if "Cost (USD)" in str(c.proto.spec)]
    assert cost_axis, "the cost axis names its currency"


def test_a_compilation_summary_does_not_mislead(
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
    cost = next(m for m in at.metric if m.label == "Actual cost")
    # 0.0378 against 0.0360 estimated: under a cent, so no red arrow.
    assert cost.value == "0.0378 USD" and not cost.delta
    trained = next(m for m in at.metric if m.label == "Trained tokens")
    assert not trained.delta
    note = next(c.value for c in at.caption if "epochs (passes over the file)" in c.value)
    assert "the provider trained 12,600 tokens" in note
    assert not [m for m in at.metric if m.label == "Base model"]
    assert any(m.value.startswith("**Base model**: `") for m in at.markdown)
    facts = at.table[0].value
    assert len(facts) == 12 and "Provider model" in facts.index


def _no_raw_values(text: str) -> None:
    for raw in ("None", "NaN", "nan", "NaT", "⚠", "✅", "❌", "🛑", "⏳"):
        assert raw not in text, raw


def test_users_connections_and_compilations_show_no_raw_values(
    history_db: tuple[str, SeededHistory], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seeded = history_db
    users = _open(url, seeded.admin_id, "pages/users.py", monkeypatch)
    table = users.dataframe[0].value
    _no_raw_values(table.to_string())
    assert set(table["Last sign-in"]) <= {"never"} | {
        v for v in table["Last sign-in"] if v[:2] == "20"
    }
    assert "not locked" in set(table["Locked until"])
    connections = _open(url, seeded.admin_id, "pages/connections.py", monkeypatch)
    listed = connections.dataframe[0].value
    _no_raw_values(listed.to_string())
    assert all(v.endswith(" USD") or v == "no budget" for v in listed["Monthly budget"])
    assert all(v.endswith(" USD") for v in listed["Price / 1M tokens"])
    history = _open(url, seeded.manager_id, "pages/compilations.py", monkeypatch)
    _no_raw_values(history.dataframe[-1].value.to_string())
    assert "7 compilations match" in " ".join(c.value for c in history.caption)


def _add_loss_events(url: str, compilation_id: int, steps: range) -> None:
    from core.models import CompilationEvent

    uow = UnitOfWork(db.session_factory(db.get_engine(url)))
    with uow:
        for step in steps:
            uow.session.add(
                CompilationEvent(
                    compilation_id=compilation_id,
                    event_type="metrics",
                    message=f"Step {step}/40",
                    data={"step": step, "total_steps": 40, "train_loss": 2.0 / step},
                    provider_event_id=f"live-{step}",
                )
            )
        uow.commit()


def _move_to(url: str, compilation_id: int, status: CompilationStatus, **facts: object) -> None:
    from core.models import Compilation

    uow = UnitOfWork(db.session_factory(db.get_engine(url)))
    with uow:
        found = uow.session.get(Compilation, compilation_id)
        assert found is not None
        found.status = status
        for name, value in facts.items():
            setattr(found, name, value)
        uow.commit()


def _loss_chart(at: AppTest) -> list[object]:
    return [c for c in at.get("vega_lite_chart") if "Training loss" in str(c.proto.spec)]


def test_the_live_compile_view_shows_steps_and_a_loss_chart_filling_in(
    sqlite_url: str, compile_company: tuple[UnitOfWork, dict[str, Actor], int]
) -> None:
    """Each step as it happens (the worker is held back here, and the compilation moved on
    by hand): the steps line, the figures once known, the loss chart growing per event."""
    _, people, model_id = compile_company
    at = open_compile(people["trainer"], model_id)
    next(b for b in at.button if b.label == "Compile").click().run()
    steps = next(m.value for m in at.markdown if "-badge[" in m.value and "uploading" in m.value)
    assert ":blue-badge[:material/progress_activity: queued]" in steps
    assert next(b for b in at.button if b.label == "Compile").disabled
    assert any("appear once the training set is checked" in c.value for c in at.caption)
    assert any("Nothing logged yet" in c.value for c in at.caption)
    assert not at.metric or "—" not in [m.value for m in at.metric]

    _move_to(
        sqlite_url,
        1,
        CompilationStatus.TRAINING,
        example_count=12,
        token_count=480,
        provider_file_id="file-1",
        provider_job_id="job-1",
    )
    at.run()
    steps = next(m.value for m in at.markdown if "-badge[" in m.value and "uploading" in m.value)
    assert ":green-badge[:material/check: uploading]" in steps
    assert ":blue-badge[:material/progress_activity: training]" in steps
    assert {m.label: m.value for m in at.metric}["Examples"] == "12"
    assert any("fills in as the provider reports" in c.value for c in at.caption)
    assert not _loss_chart(at)
    _add_loss_events(sqlite_url, 1, range(1, 4))
    at.run()
    first = _loss_chart(at)
    assert len(first) == 1
    _add_loss_events(sqlite_url, 1, range(4, 9))
    at.run()
    later = _loss_chart(at)
    assert len(later) == 1 and later[0].proto != first[0].proto  # type: ignore[attr-defined]


def _click_row(at: AppTest, key: str, row: int) -> None:
    """What a click on a row of an st.dataframe(on_select="rerun") sends."""
    at.session_state[key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception


def test_a_row_click_opens_a_conversation_and_a_transcript(
    demo_company: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = demo_company
    at = open_page(d.url, d.trainer, "pages/conversations.py", monkeypatch, model=str(d.support_id))
    assert not [s for s in at.selectbox if s.label == "Open a conversation"]
    table = at.dataframe[0].value
    _click_row(at, f"conv_table_{d.support_id}_1", 1)
    assert any(h.value.startswith(f"#{table['#'].iloc[1]} · ") for h in at.subheader)
    assert not [n for n in at.number_input if n.label.startswith("Page")]

    at = open_page(d.url, d.trainer, "pages/transcripts.py", monkeypatch, model=str(d.support_id))
    first = curation.next_in_queue(d.uow, d.trainer, d.support_id)
    assert first is not None
    curation.reject_transcript(
        d.uow, d.trainer, first.id, "promises a refund we do not give", first.row_version
    )
    at.run()
    listed = at.dataframe[0].value
    assert "promises a refund we do not give" in listed["Reject reason"].tolist()
    row = listed["#"].tolist().index(first.id)
    _click_row(at, f"tx_all_table_{d.support_id}_1", row)
    assert any("**Reject reason:** promises a refund" in m.value for m in at.markdown)
    assert any(h.value.startswith(f"#{first.id} · ") for h in at.subheader)


def test_the_chat_input_names_the_models_of_this_chat(
    demo_company: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = demo_company
    (group,) = chat.list_chats(d.uow, d.trainer)
    at = open_page(d.url, d.trainer, "pages/chats.py", monkeypatch)
    placeholder = at.chat_input(key="chat_input").proto.placeholder
    names = [m.name for m in group.models]
    assert placeholder.startswith("Write a message; mention @")
    assert all(f"@{name}" in placeholder for name in names)


def test_users_opt_in_and_admins_set_a_webhook_on_the_notifications_page(
    compile_company: tuple[UnitOfWork, dict[str, Actor], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    uow, people, model_id = compile_company
    monkeypatch.setenv("ARBITER_SMTP_HOST", "127.0.0.1")
    at = open_compile(people["trainer"], model_id)
    at.switch_page("pages/notifications.py").run()
    assert not [e for e in at.expander if "webhooks" in e.label]  # admins only
    next(t for t in at.toggle if t.label.startswith("by e-mail")).set_value(True)
    next(t for t in at.toggle if t.label.startswith("in the model's team chat")).set_value(True)
    next(b for b in at.button if b.label == "Save").click().run()
    assert not at.exception and not at.error
    chosen = accounts.notification_settings(uow, people["trainer"])
    assert chosen.email and chosen.webhook

    admin = open_compile(people["admin"], model_id)
    admin.switch_page("pages/notifications.py").run()
    admin.text_input(key=f"notify_hook_model_{model_id}").input("https://hooks.example/T1/B2")
    admin.button(key="notify_hook_save").click().run()
    assert not admin.exception and not admin.error
    assert accounts.model_webhook(uow, people["admin"], model_id) == "https://hooks.example/T1/B2"


def test_a_local_answer_links_to_the_record_it_came_from(
    demo_company: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = demo_company
    # A real compilation: its manifest leads from each line of the file back to a record.
    compilation.request_compilation(d.uow, d.trainer, d.support_id, force=True)
    drain(lambda: UnitOfWork(d.uow.factory))
    at = open_page(d.url, d.trainer, "pages/chats.py", monkeypatch)
    question = "Who pays the return shipping for a defective relay?"
    at.chat_input(key="chat_input").set_value(f"@Northwind Support {question}").run()
    assert not at.exception and not at.error
    links = [p.proto.label for p in at.get("page_link")]
    assert any(label.startswith("Open Q&A #") and "Northwind Support" in label for label in links)


def test_a_decision_on_a_transcript_can_be_undone(
    demo_company: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = demo_company
    at = open_page(d.url, d.trainer, "pages/transcripts.py", monkeypatch, model=str(d.support_id))
    first = curation.next_in_queue(d.uow, d.trainer, d.support_id)
    assert first is not None and not first.problems
    ready_before = curation.list_conversations(d.uow, d.trainer, d.support_id).total
    approve = at.button(key="tx_approve")
    assert approve.proto.shortcut.lower() == "alt+a"
    approve.click().run()
    assert curation.get_transcript(d.uow, d.trainer, first.id).status == "approved"
    assert curation.list_conversations(d.uow, d.trainer, d.support_id).total == ready_before + 1
    at.button(key="tx_undo").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    back = curation.get_transcript(d.uow, d.trainer, first.id)
    assert back.status == "pending" and back.conversation_id is None
    assert curation.list_conversations(d.uow, d.trainer, d.support_id).total == ready_before
    shown = [
        str(getattr(e, "value", ""))
        for kind in ("success", "info", "markdown", "toast")
        for e in at.get(kind)
    ]
    assert any(f"Undone: #{first.id} waits for review again" in text for text in shown), shown
    reject = next(b for b in at.button if b.label == "Reject")
    assert reject.proto.shortcut.lower() == "alt+x"


def test_a_transcript_file_is_previewed_before_it_is_imported(
    demo_company: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    d = demo_company
    at = open_page(d.url, d.trainer, "pages/transcripts.py", monkeypatch, model=str(d.support_id))
    before = curation.queue_progress(d.uow, d.trainer, d.support_id).pending
    lines = [
        {"messages": [{"role": "user", "content": f"Question {i}?"},
                      {"role": "assistant", "content": f"Answer {i}, call +44 20 7946 0958."}]}
        for i in range(2)
    ]  # fmt: skip
    data = "\n".join(json.dumps(line) for line in lines).encode("utf-8")
    at.file_uploader(key="tx_upload").upload("desk.jsonl", data, "application/json").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = next(df.value for df in at.dataframe if "Roles" in df.value.columns)
    assert len(shown) == 2 and list(shown["Roles"]) == ["user → assistant"] * 2
    assert curation.queue_progress(d.uow, d.trainer, d.support_id).pending == before
    button = at.button(key="tx_import")
    assert button.label == "Import 2 transcripts" and not button.disabled
    button.click().run()
    assert curation.queue_progress(d.uow, d.trainer, d.support_id).pending == before + 2

    at.file_uploader(key="tx_upload").upload(
        "bad.jsonl", b'{"messages": [', "application/json"
    ).run()
    assert at.error and at.button(key="tx_import").disabled
