"""The Q&As page as its users meet it (AppTest): filters, links to one record, bulk actions
with undo, the import and paste previews, export; and the clean-up page.

AppTest does not draw the AgGrid (a custom component); the grid itself is tested in
tests/browser/test_qas_grid.py and its logic in tests/unit/test_qa_grid.py.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core import db
from core.domain import QAType, Role
from core.permissions import Actor
from core.services import qas
from core.services.qas import OnDuplicate, QAQuery
from core.uow import UnitOfWork
from tests.app.tree import in_order, popover_labels
from tests.conftest import make_user
from tests.paths import ROOT
from tests.qa_seed import add_qas, make_tree
from ui.context import USER_KEY

Company = tuple[UnitOfWork, dict[str, Actor], dict[str, int], list[int]]


@pytest.fixture
def company(sqlite_url: str) -> Company:
    uow = UnitOfWork(db.session_factory(db.make_engine(sqlite_url)))
    people = {
        "trainer": make_user(uow, "trainer@corp.example", Role.TRAINER),
        "manager": make_user(uow, "manager@corp.example", Role.MANAGER),
    }
    tree = make_tree(uow)
    rows: list[dict[str, object]] = [
        {
            "question": f"Billing question {i}?",
            "answer": f"Billing answer {i}.",
            "section": "Billing",
        }
        for i in range(150)
    ]
    rows += [
        {"question": "How do refunds work?", "answer": "Within 30 days.", "section": "Returns"},
        {
            "question": "Refund to a gift card?",
            "answer": "No, to the original card.",
            "section": "Returns",
            "qa_type": QAType.VALIDATION,
        },
        {"question": "Old rule?", "answer": "Gone.", "section": "Returns", "is_active": False},
    ]
    ids = add_qas(uow, tree.sales, rows, user_id=people["trainer"].user_id)
    add_qas(uow, tree.master, [("Company hours?", "9 to 5", "General")])
    return uow, people, {"master": tree.master, "sales": tree.sales}, ids


def open_page(
    sqlite_url: str,
    actor: Actor,
    monkeypatch: pytest.MonkeyPatch,
    page: str = "pages/qas.py",
    **params: str,
) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state[USER_KEY] = actor.user_id
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _matches(at: AppTest) -> str:
    return next(m.value for m in at.markdown if "Q&As match" in m.value)


def test_filters_search_and_paging(
    sqlite_url: str, company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, people, models, _ = company
    at = open_page(sqlite_url, people["trainer"], monkeypatch, model=str(models["sales"]))
    assert at.selectbox(key="qas_model").value == models["sales"]
    assert _matches(at).startswith("**153** Q&As match · showing 1–100")
    assert "Billing: 150" in _matches(at) and "Returns: 3" in _matches(at)
    assert any("kept out of training" in i.value for i in at.info)

    at.button(key="qas_next").click().run()
    assert "showing 101–153" in _matches(at)

    at.text_input(key="qas_search").input("refund").run()
    assert _matches(at).startswith("**2** Q&As match · showing 1–2")
    assert at.session_state["qas_page"] == 1
    at.selectbox(key="qas_type").select(QAType.VALIDATION).run()
    assert _matches(at).startswith("**1** Q&As match")
    at.text_input(key="qas_search").input("").run()
    at.selectbox(key="qas_type").select(None).run()
    at.selectbox(key="qas_active").select(False).run()
    assert _matches(at).startswith("**1** Q&As match")
    at.selectbox(key="qas_active").select(None).run()
    at.multiselect(key="qas_sections").select("Returns").run()
    assert _matches(at).startswith("**3** Q&As match")
    at.toggle(key="qas_related").set_value(True).run()
    assert _matches(at).startswith("**3** Q&As match")
    at.multiselect(key="qas_sections").unselect("Returns").run()
    assert _matches(at).startswith("**154** Q&As match")
    assert not at.error, [e.value for e in at.error]


def test_a_link_opens_the_page_that_holds_the_record(
    sqlite_url: str, company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, people, models, ids = company
    at = open_page(
        sqlite_url, people["manager"], monkeypatch, model=str(models["master"]), qa=str(ids[120])
    )
    # The record belongs to Sales: the page switches model and pages to it.
    assert at.selectbox(key="qas_model").value == models["sales"]
    assert at.session_state["qas_highlight"] == ids[120]
    assert at.session_state["qas_page"] == 2
    assert "showing 101–153" in _matches(at)
    # Managers read but do not change Q&As: only the export is offered.
    assert popover_labels(at) == ["Export"]


def test_bulk_action_over_all_matches_then_undo(
    sqlite_url: str, company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    uow, people, models, _ = company
    trainer = people["trainer"]
    at = open_page(sqlite_url, trainer, monkeypatch, model=str(models["sales"]))
    at.multiselect(key="qas_sections").select("Billing").run()
    at.checkbox(key="qas_bulk_all").check().run()
    at.selectbox(key="qas_bulk_action").select(qas.BulkAction.SET_SECTION).run()
    at.text_input(key="qas_bulk_section").input("Invoices").run()
    at.button(key="qas_bulk_apply").click().run()
    assert any("on **150** Q&As?" in w.value for w in at.warning)
    at.button(key="qas_bulk_yes").click().run()
    assert not at.error, [e.value for e in at.error]
    moved = qas.list_qas(uow, trainer, QAQuery(model_id=models["sales"], sections=("Invoices",)))
    assert moved.total == 150
    assert any("set the section to 'Invoices' on 150 Q&As" in s.value for s in at.success)

    at.button(key="qas_undo_button").click().run()
    assert qas.list_qas(uow, trainer, QAQuery(models["sales"], sections=("Billing",))).total == 150


def test_deleting_chosen_rows_someone_changed_meanwhile_is_refused(
    sqlite_url: str, company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    uow, people, models, ids = company
    trainer = people["trainer"]
    at = open_page(sqlite_url, trainer, monkeypatch, model=str(models["sales"]))
    at.session_state["qas_selected"] = ids[:2]
    at.run()
    at.selectbox(key="qas_bulk_action").select(qas.BulkAction.DELETE).run()
    at.button(key="qas_bulk_apply").click().run()
    assert any("on **2** Q&As?" in w.value for w in at.warning)
    # Another trainer edits one of them while this one confirms.
    qas.update_qa(uow, people["trainer"], ids[0], {"answer": "Edited meanwhile."}, 1)
    at.button(key="qas_bulk_yes").click().run()
    assert any("changed or removed by someone else" in e.value for e in at.error)
    assert qas.get_qa(uow, trainer, ids[0]).answer == "Edited meanwhile."
    assert qas.get_qa(uow, trainer, ids[1]).answer == "Billing answer 1."


def test_import_preview_then_import(
    sqlite_url: str, company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    uow, people, models, _ = company
    at = open_page(sqlite_url, people["trainer"], monkeypatch, model=str(models["sales"]))
    data = (
        b"Frage,Antwort,Bereich\n"
        b"Shipping abroad?,Within the EU.,Delivery\n"
        b"Empty?,,Delivery\n"
        b"How do refunds work?,Within 60 days now.,Returns\n"
        b"shipping abroad,Twice in one file.,Delivery\n"
    )
    at.file_uploader(key="qas_import_file").upload("new.csv", data, "text/csv").run()
    assert not at.exception, at.exception
    # "Bereich" is not a known header: map it by hand.
    at.selectbox(key="qas_import_map_section").select("Bereich").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["New"] == "1" and metrics["Error"] == "1"
    assert metrics["Duplicate in file"] == "1" and metrics["Exists, differs"] == "1"
    problems = at.dataframe[0].value
    assert list(problems["Where"]) == ["row 3", "row 5", "row 4"]
    assert "answer is empty" in problems["Detail"].iloc[0]
    assert "same question as row 2" in problems["Detail"].iloc[1]

    commit = at.button(key="qas_import_commit")
    assert commit.label == "Import 1 row" and commit.disabled
    at.checkbox(key="qas_import_leave_out").check().run()
    at.radio(key="qas_import_on_duplicate").set_value(OnDuplicate.UPDATE).run()
    assert at.button(key="qas_import_commit").label == "Import 2 rows"
    at.button(key="qas_import_commit").click().run()
    assert any("1 new, 1 updated" in s.value for s in at.success), [s.value for s in at.success]
    listing = qas.list_qas(uow, people["trainer"], QAQuery(models["sales"], sections=("Delivery",)))
    # Updating duplicates: the file's last row for a question wins.
    assert [r.answer for r in listing.rows] == ["Twice in one file."]
    refunds = qas.list_qas(uow, people["trainer"], QAQuery(models["sales"], search="refunds work"))
    assert [r.answer for r in refunds.rows] == ["Within 60 days now."]


def test_paste_rows_then_export(
    sqlite_url: str, company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    uow, people, models, _ = company
    at = open_page(sqlite_url, people["trainer"], monkeypatch, model=str(models["master"]))
    at.text_area(key="qas_paste_text").input(
        "Where is HQ?\tDublin\tGeneral\nCEO?\tA. Smith\t\n"
    ).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["New"] == "2"
    at.button(key="qas_paste_commit").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert qas.list_qas(uow, people["trainer"], QAQuery(models["master"])).total == 3

    at.radio(key="qas_export_kind").set_value("jsonl").run()
    at.button(key="qas_export_go").click().run()
    download = at.get("download_button")
    assert download and "master-qas.jsonl (3 Q&As)" in download[0].proto.label


def test_cleanup_page_lists_findings_and_deactivates(
    sqlite_url: str, company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    uow, people, models, _ids = company
    trainer = people["trainer"]
    add_qas(uow, models["sales"], [("Company hours?", "8 to 8, every day")])
    at = open_page(sqlite_url, trainer, monkeypatch, page="pages/qa_cleanup.py")
    at.selectbox(key="cleanup_model").select(models["sales"]).run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Conflicting answers"] == "1"
    expander = next(e for e in at.expander if "different answers" in e.label)
    assert "also in Master" in expander.label
    at.button(key="cleanup_CONFLICT_0_deactivate").click().run()
    assert not at.error, [e.value for e in at.error]
    active = qas.list_qas(uow, trainer, QAQuery(models["sales"], search="hours", active=True))
    assert active.total == 0
    assert {m.label: m.value for m in at.metric}["Conflicting answers"] == "0"
    at.button(key="cleanup_undo_button").click().run()
    active = qas.list_qas(uow, trainer, QAQuery(models["sales"], search="hours", active=True))
    assert active.total == 1


def test_cleanup_page_merges_near_duplicates_and_undoes(
    sqlite_url: str, company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    uow, people, models, _ids = company
    trainer = people["trainer"]
    first, second = add_qas(
        uow,
        models["sales"],
        [
            ("How often should we post on Instagram?", "Twice a week."),
            ("How often do we post on Instagram?", "Twice a week."),
        ],
    )
    at = open_page(sqlite_url, trainer, monkeypatch, page="pages/qa_cleanup.py")
    at.selectbox(key="cleanup_model").select(models["sales"]).run()
    assert {m.label: m.value for m in at.metric}["Near-duplicate questions"] == "1"
    expander = next(e for e in at.expander if "ways of asking" in e.label)
    assert "How often should we post on Instagram?" in expander.label
    assert at.selectbox(key="cleanup_NEAR_DUPLICATE_0_keep").value == first
    at.button(key="cleanup_NEAR_DUPLICATE_0_merge").click().run()
    assert not at.error, [e.value for e in at.error]
    active = qas.list_qas(uow, trainer, QAQuery(models["sales"], search="Instagram", active=True))
    assert [r.id for r in active.rows] == [first]
    assert {m.label: m.value for m in at.metric}["Near-duplicate questions"] == "0"
    at.button(key="cleanup_undo_button").click().run()
    active = qas.list_qas(uow, trainer, QAQuery(models["sales"], search="Instagram", active=True))
    assert sorted(r.id for r in active.rows) == [first, second]
    assert {m.label: m.value for m in at.metric}["Near-duplicate questions"] == "1"


def test_cleanup_page_makes_a_validation_set_and_undoes_it(
    sqlite_url: str, company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    uow, people, models, _ids = company
    trainer = people["trainer"]

    def validation() -> int:
        query = QAQuery(models["sales"], qa_type=QAType.VALIDATION, active=True)
        return qas.list_qas(uow, trainer, query).total

    assert validation() == 1
    at = open_page(sqlite_url, trainer, monkeypatch, page="pages/qa_cleanup.py")
    at.selectbox(key="cleanup_model").select(models["sales"]).run()
    at.slider(key="cleanup_split_share").set_value(0.2).run()
    at.number_input(key="cleanup_split_seed").set_value(5).run()
    at.button(key="cleanup_split_go").click().run()
    assert not at.error, [e.value for e in at.error]
    # Billing: 30 of 150; Returns: 1 of 2 (a section of two or more gives at least one).
    assert "made a validation set of 31 of 152" in at.success[0].value
    assert validation() == 31
    at.button(key="cleanup_undo_button").click().run()
    assert validation() == 1


def test_the_paste_preview_names_a_similar_existing_question(
    sqlite_url: str, company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    _uow, people, models, ids = company
    refunds = ids[150]  # "How do refunds work?"
    at = open_page(sqlite_url, people["trainer"], monkeypatch, model=str(models["sales"]))
    at.text_area(key="qas_paste_text").input(
        "How do refunds work, please?\tWithin 30 days.\tReturns\n"
    ).run()
    assert {m.label: m.value for m in at.metric}["New"] == "1"
    problems = at.dataframe[0].value
    assert list(problems["Detail"]) == [f"similar to #{refunds}"]


def test_actions_and_pager_come_before_the_grid(
    sqlite_url: str, company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, people, models, _ = company
    at = open_page(sqlite_url, people["trainer"], monkeypatch, model=str(models["sales"]))
    assert popover_labels(at) == ["Bulk actions", "Add", "Paste rows", "Import", "Export"]
    keys = [getattr(n, "key", None) for n in in_order(at)]
    grid_hint = next(
        i
        for i, n in enumerate(in_order(at))
        if "Double-click a cell" in str(getattr(n, "value", ""))
    )
    for key in ("qas_pop_bulk", "qas_pop_export", "qas_next", "qas_page"):
        assert keys.index(key) < grid_hint, key
