"""What a transcript file holds, before anything is imported: how many conversations, how
many seem to hold personal data, and the first ones as they will be queued."""

from __future__ import annotations

from dataclasses import dataclass

from core.permissions import Actor, Permission, requires
from core.training.transcript_files import parse_transcripts
from core.uow import UnitOfWork

SAMPLE = 20


@dataclass(frozen=True)
class PreviewRow:
    title: str
    messages: int
    roles: str
    personal_data: str


@dataclass(frozen=True)
class TranscriptPreview:
    file: str
    total: int
    with_personal_data: int
    sample: list[PreviewRow]


@requires(Permission.EDIT_TRAINING)
def preview_transcripts(
    uow: UnitOfWork, actor: Actor, filename: str, content: bytes
) -> TranscriptPreview:
    """Reads the file as the import would (a bad line refuses it whole, naming the line);
    writes nothing."""
    parsed = parse_transcripts(filename, content)
    sample = [
        PreviewRow(
            p.title,
            len(p.messages),
            " → ".join(str(m.get("role", "")) for m in p.messages[:6])
            + (" …" if len(p.messages) > 6 else ""),
            "; ".join(p.pii_warnings[:2]),
        )
        for p in parsed[:SAMPLE]
    ]
    return TranscriptPreview(
        filename, len(parsed), sum(1 for p in parsed if p.pii_warnings), sample
    )
