"""A search for a NUL (or any control character) matches nothing, on both backends: no
stored text holds one, and PostgreSQL refuses a NUL in a parameter (it was a DataError)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.domain import MessageRole
from core.errors import NotFound, ValidationFailed
from core.permissions import Actor
from core.services import accounts, catalog, curation, qas
from core.services.accounts import AuditFilter
from core.services.curation import ConversationFilter
from core.services.qas import QAQuery
from core.training.conversations import MessageDraft
from core.uow import UnitOfWork
from tests.qa_seed import add_qas, make_model

Uows = Callable[[], UnitOfWork]


@pytest.mark.parametrize("search", ["\x00", "refund\x00", '"a\x00b"', "\x07"])
def test_a_search_for_a_control_character_finds_nothing(
    new_uow: Uows, admin: Actor, search: str
) -> None:
    model = make_model(new_uow(), "Searched")
    add_qas(new_uow(), model, [("How do refunds work?", "Refund within 30 days.")])
    curation.create_conversation(
        new_uow(),
        admin,
        model,
        [
            MessageDraft(MessageRole.USER, "refund?"),
            MessageDraft(MessageRole.ASSISTANT, "Within 30 days.", weight=1),
        ],
    )

    listing = qas.list_qas(new_uow(), admin, QAQuery(model_id=model, search=search))
    assert (listing.total, listing.rows) == (0, [])
    page = curation.list_conversations(new_uow(), admin, model, ConversationFilter(search=search))
    assert (page.total, page.rows) == (0, [])
    audit = accounts.list_audit_entries(new_uow(), admin, AuditFilter(text=search))
    assert (audit.total, audit.rows) == (0, [])
    # The same searches without the control character do find the rows.
    assert qas.list_qas(new_uow(), admin, QAQuery(model_id=model, search="refund")).total == 1


def test_audit_search_takes_wildcards_as_text(new_uow: Uows, admin: Actor) -> None:
    make_model(new_uow(), "Searched")
    assert accounts.list_audit_entries(new_uow(), admin, AuditFilter(text="%")).total == 0


def test_a_nul_that_reaches_the_database_is_a_message_not_a_traceback(
    new_uow: Uows, admin: Actor, db_url: str
) -> None:
    # Looking a model up by a name with a NUL: SQLite finds nothing, PostgreSQL refused it
    # with a DataError that no page or command caught.
    with pytest.raises((ValidationFailed, NotFound)) as raised:
        catalog.get_model_by_name(new_uow(), admin, "Searched\x00")
    if db_url.startswith("postgresql"):
        assert isinstance(raised.value, ValidationFailed)
        assert "NUL character (U+0000)" in str(raised.value)
