"""The screens as a new user meets them (AppTest): each page opens where the work is, says
what it shows, and never shows a raw value."""

from __future__ import annotations

import pytest

from core.services import curation
from tests.app.test_chat_pages import Demo, demo_company, open_page
from tests.app.test_models_page import Company, company, open_models

__all__ = ["company", "demo_company"]  # the fixtures, imported to be used here


def test_curation_opens_on_the_model_with_transcripts_waiting(
    demo_company: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = demo_company
    waiting = curation.waiting_by_model(d.uow, d.trainer)
    assert list(waiting) == [d.support_id]  # the demo's transcripts wait under Support only
    at = open_page(d.url, d.trainer, "pages/transcripts.py", monkeypatch)
    picker = at.selectbox(key="tx_model")
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
