"""Transcript curation on SQLite and PostgreSQL: importing JSONL and CSV (bad files write
nothing), the review queue (approve, edit then approve, reject, skip), chats sent to the
queue, paging, and the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from core import cli
from core.demo import content
from core.domain import (
    ChatKind,
    ConversationOrigin,
    ConversationStatus,
    MessageRole,
    ProviderType,
    TranscriptStatus,
)
from core.errors import EditConflict, ValidationFailed
from core.permissions import Actor
from core.services import catalog, chat, curation
from core.services.catalog import ConnectionInput, ModelInput
from core.training.conversations import MessageDraft
from core.uow import UnitOfWork

Uows = Callable[[], UnitOfWork]
DEMO = content.load().transcripts_jsonl.encode()


@pytest.fixture
def model_id(new_uow: Uows, admin: Actor) -> int:
    conn = catalog.create_connection(
        new_uow(), admin, ConnectionInput(name="Local", provider_type=ProviderType.LOCAL)
    )
    return catalog.create_model(
        new_uow(), admin, ModelInput(name="Support", connection_id=conn.id)
    ).id


def line(*turns: tuple[str, str]) -> str:
    return json.dumps({"messages": [{"role": r, "content": c} for r, c in turns]})


def test_jsonl_import_queues_each_line_with_personal_data_warnings(
    new_uow: Uows, trainer: Actor, model_id: int
) -> None:
    result = curation.import_transcripts(new_uow(), trainer, model_id, "desk.jsonl", DEMO)
    assert (result.imported, result.with_personal_data) == (6, 1)
    progress = curation.queue_progress(new_uow(), trainer, model_id)
    assert (progress.pending, progress.total) == (6, 6)
    page = curation.list_transcripts(new_uow(), trainer, model_id)
    flagged = [r for r in page.rows if r.personal_data]
    assert [r.source_label for r in flagged] == ["file desk.jsonl, line 4"]
    detail = curation.get_transcript(new_uow(), trainer, flagged[0].id)
    assert detail.pii_warnings == ["message 1 (user): 1 e-mail address: jan.novak@example.com"]
    assert [m.role for m in detail.messages] == [MessageRole.USER, MessageRole.ASSISTANT] * 2


def test_a_bad_jsonl_file_names_each_line_and_writes_nothing(
    new_uow: Uows, trainer: Actor, model_id: int
) -> None:
    content = "\n".join(
        [
            line(("user", "Q?"), ("assistant", "A.")),
            "{not json",
            json.dumps({"prompt": "old format"}),
            line(("user", "Q?"), ("bot", "A.")),
            line(("user", "Q?"), ("assistant", "  ")),
            line(("user", "only a question")),
            "",
            line(("user", "Q?"), ("assistant", "A.")),
        ]
    ).encode()
    with pytest.raises(ValidationFailed) as exc:
        curation.import_transcripts(new_uow(), trainer, model_id, "bad.jsonl", content)
    assert [p.where for p in exc.value.problems] == [
        "line 2",
        "line 3",
        "line 4, message 2",
        "line 5, message 2",
        "line 6",
    ]
    assert "Nothing was written" in exc.value.message
    assert curation.queue_progress(new_uow(), trainer, model_id).total == 0


def test_csv_import_groups_rows_by_conversation(
    new_uow: Uows, trainer: Actor, model_id: int
) -> None:
    content = (
        b"Conversation ID,Role,Content,Time,Participant\n"
        b"c1,user,Can I return sealed connectors?,2026-01-05T10:00,Jan (customer)\n"
        b"c2,user,Is the PSU UL listed?,,\n"
        b'c1,assistant,"Yes, within 30 days.\nSealed, unused.",2026-01-05T10:01,Desk\n'
        b"c2,assistant,Yes.,,\n"
    )
    result = curation.import_transcripts(new_uow(), trainer, model_id, "desk.csv", content)
    assert result.imported == 2
    first = curation.next_in_queue(new_uow(), trainer, model_id)
    assert first is not None
    assert first.source_ref == {"file": "desk.csv", "line": 2, "conversation": "c1"}
    assert [(m.role, m.participant_name) for m in first.messages] == [
        (MessageRole.USER, "Jan (customer)"),
        (MessageRole.ASSISTANT, "Desk"),
    ]
    assert first.messages[1].content == "Yes, within 30 days.\nSealed, unused."
    assert first.times == ["2026-01-05T10:00", "2026-01-05T10:01"]


def test_a_bad_csv_file_writes_nothing(new_uow: Uows, trainer: Actor, model_id: int) -> None:
    with pytest.raises(ValidationFailed) as exc:
        curation.import_transcripts(
            new_uow(), trainer, model_id, "x.csv", b"id,speaker,text\n1,user,hi\n"
        )
    assert {str(p) for p in exc.value.problems} == {
        "line 1: the header needs a column 'conversation_id'",
        "line 1: the header needs a column 'role'",
    }
    content = b"conversation_id,role,content\nc1,user,Q\nc1,robot,A\n,user,Q\nc2,user,Q\n"
    with pytest.raises(ValidationFailed) as exc:
        curation.import_transcripts(new_uow(), trainer, model_id, "x.csv", content)
    assert [p.where for p in exc.value.problems] == [
        "line 3",
        "line 4",
        "conversation 'c1' (from line 2)",
        "conversation 'c2' (from line 5)",
    ]
    with pytest.raises(ValidationFailed):
        curation.import_transcripts(new_uow(), trainer, model_id, "x.csv", b"\xff\xfe\x00")
    assert curation.queue_progress(new_uow(), trainer, model_id).total == 0


def test_review_queue_one_at_a_time(new_uow: Uows, trainer: Actor, model_id: int) -> None:
    curation.import_transcripts(new_uow(), trainer, model_id, "desk.jsonl", DEMO)
    first = curation.next_in_queue(new_uow(), trainer, model_id)
    assert first is not None and first.problems == []
    approved = curation.approve_transcript(
        new_uow(), trainer, first.id, expected_version=first.row_version
    )
    assert approved.conversation_id is not None
    conv = curation.get_conversation(new_uow(), trainer, approved.conversation_id)
    assert conv.status == ConversationStatus.READY and conv.origin == ConversationOrigin.IMPORT
    assert conv.origin_label == "file desk.jsonl, line 1"
    assert [m.content for m in conv.messages] == [m.content for m in first.messages]
    assert [m.weight for m in conv.messages] == [None, 1, None, 1]
    with pytest.raises(ValidationFailed, match="already approved"):
        curation.reject_transcript(new_uow(), trainer, first.id, "late")

    second = curation.next_in_queue(new_uow(), trainer, model_id)
    assert second is not None and second.id > first.id
    with pytest.raises(ValidationFailed):
        curation.reject_transcript(new_uow(), trainer, second.id, "   ")
    curation.reject_transcript(new_uow(), trainer, second.id, "promises a callback time")

    third = curation.next_in_queue(new_uow(), trainer, model_id)
    assert third is not None
    curation.skip_transcript(new_uow(), trainer, third.id)
    fourth = curation.next_in_queue(new_uow(), trainer, model_id)
    assert fourth is not None and fourth.id > third.id and fourth.pii_warnings
    edited = [
        MessageDraft(MessageRole.USER, "Please send our invoices to another address."),
        fourth.messages[1],
    ]
    decision = curation.approve_transcript(
        new_uow(), trainer, fourth.id, edited, expected_version=fourth.row_version
    )
    assert decision.conversation_id is not None
    conv = curation.get_conversation(new_uow(), trainer, decision.conversation_id)
    assert "example.com" not in " ".join(m.content for m in conv.messages)
    assert len(conv.messages) == 2

    progress = curation.queue_progress(new_uow(), trainer, model_id)
    assert (progress.pending, progress.skipped, progress.approved, progress.rejected) == (
        2,
        1,
        2,
        1,
    )
    assert curation.requeue_skipped(new_uow(), trainer, model_id) == 1
    assert curation.queue_progress(new_uow(), trainer, model_id).pending == 3
    rejected = curation.get_transcript(new_uow(), trainer, second.id)
    assert rejected.reject_reason == "promises a callback time" and rejected.reviewed_by


def test_two_reviewers_on_the_same_transcript(
    new_uow: Uows, trainer: Actor, admin: Actor, model_id: int
) -> None:
    curation.import_transcripts(new_uow(), trainer, model_id, "desk.jsonl", DEMO)
    seen_by_both = curation.next_in_queue(new_uow(), trainer, model_id)
    assert seen_by_both is not None
    curation.skip_transcript(new_uow(), admin, seen_by_both.id, seen_by_both.row_version)
    with pytest.raises(EditConflict):
        curation.approve_transcript(
            new_uow(), trainer, seen_by_both.id, expected_version=seen_by_both.row_version
        )


def test_a_transcript_that_cannot_be_trained_must_be_edited(
    new_uow: Uows, trainer: Actor, model_id: int
) -> None:
    content = line(("user", "Q?"), ("assistant", "A."), ("user", "thanks")).encode()
    curation.import_transcripts(new_uow(), trainer, model_id, "t.jsonl", content)
    item = curation.next_in_queue(new_uow(), trainer, model_id)
    assert item is not None and [str(p) for p in item.problems] == [
        "message 3: the conversation must end with an answer"
    ]
    with pytest.raises(ValidationFailed):
        curation.approve_transcript(new_uow(), trainer, item.id)
    assert curation.approve_transcript(new_uow(), trainer, item.id, item.messages[:2])


def test_send_a_chat_to_the_queue(new_uow: Uows, trainer: Actor, model_id: int) -> None:
    direct = chat.create_chat(new_uow(), trainer, "", ChatKind.DIRECT, model_ids=[model_id])
    with pytest.raises(ValidationFailed, match="not answered"):
        curation.send_chat_to_queue(new_uow(), trainer, direct.id)
    posted = chat.post_message(new_uow(), trainer, direct.id, "Hello, who are you?")
    chat.answer_all(new_uow(), trainer, posted.pending_answers)
    queued = curation.send_chat_to_queue(new_uow(), trainer, direct.id)
    assert queued.status == TranscriptStatus.PENDING and queued.model_id == model_id
    assert queued.source_ref == {
        "chat_id": direct.id,
        "message_ids": [posted.message.id, *posted.pending_answers],
    }
    assert [m.role for m in queued.messages] == [MessageRole.USER, MessageRole.ASSISTANT]
    decision = curation.approve_transcript(new_uow(), trainer, queued.id)
    assert decision.conversation_id is not None
    conv = curation.get_conversation(new_uow(), trainer, decision.conversation_id)
    assert conv.origin == ConversationOrigin.CHAT and conv.chat_id == direct.id


def test_paging_through_a_large_queue(new_uow: Uows, trainer: Actor, model_id: int) -> None:
    content = "\n".join(
        line(("user", f"Question {i}?"), ("assistant", f"Answer {i}.")) for i in range(2_500)
    ).encode()
    curation.import_transcripts(new_uow(), trainer, model_id, "big.jsonl", content)
    page = curation.list_transcripts(
        new_uow(), trainer, model_id, TranscriptStatus.PENDING, offset=2_400, limit=100
    )
    assert page.total == 2_500 and len(page.rows) == 100
    assert page.rows[-1].title == "Question 2499?"
    last = curation.next_in_queue(new_uow(), trainer, model_id, after_id=page.rows[-2].id)
    assert last is not None and last.id == page.rows[-1].id
    assert curation.next_in_queue(new_uow(), trainer, model_id, after_id=last.id) is None


def test_cli_imports_transcripts(
    db_url: str,
    new_uow: Uows,
    model_id: int,
    trainer: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    good = tmp_path / "desk.jsonl"
    good.write_bytes(DEMO)
    assert cli.main(["import-transcripts", "support", str(good)]) == 0
    assert "Imported 6 transcripts into the review queue of Support" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    bad.write_text(line(("user", "Q?"), ("assistant", "A.")) + "\n{oops\n")
    assert cli.main(["import-transcripts", "Support", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.jsonl was not imported" in err and "\n  line 2: not valid JSON" in err
    assert cli.main(["import-transcripts", "Nobody", str(good)]) == 1
    assert curation.queue_progress(new_uow(), trainer, model_id).total == 6
