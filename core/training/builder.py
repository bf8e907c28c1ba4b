"""The training set of a model: one chat example per active training Q&A and per ready
training conversation of every source model (see ``hierarchy.training_sources``), written
as JSONL in OpenAI's chat fine-tuning format, which is also the provider-neutral export.

Determinism: the same data gives the same bytes and so the same hash. Examples are
serialised one per line with a fixed key order and sorted by their bytes, so neither
record ids nor database order change the file; identical examples are kept once, and the
manifest remembers every record each line came from (so findings, the diff and the local
provider's "answered from example N" lead back to the records).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from json.encoder import encode_basestring
from operator import itemgetter
from typing import IO, Any, NamedTuple

from core.jsonline import JSONLineError, load_line
from core.training.bulk import bulk
from core.training.hierarchy import Relation

_encode = json.JSONEncoder(ensure_ascii=False).encode


# The records of a training set are named tuples: a set holds one or more per example, and
# a frozen dataclass takes several times longer to create (its fields are set one by one
# through object.__setattr__).


class SourceRef(NamedTuple):
    """Where an example came from: a Q&A or a conversation of a model, or a file line."""

    kind: str  # "qa", "conversation" or "line"
    record_id: int
    model_id: int | None = None
    model_name: str = ""
    relation: str = Relation.OWN.value

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.record_id}"

    def describe(self) -> str:
        if self.kind == "line":
            return f"line {self.record_id}"
        what = "Q&A" if self.kind == "qa" else "conversation"
        return f"{what} #{self.record_id} of {self.model_name or f'model #{self.model_id}'}"

    def as_json(self) -> list[Any]:
        return [self.kind, self.record_id, self.model_id, self.model_name, self.relation]

    @classmethod
    def from_json(cls, data: Sequence[Any]) -> SourceRef:
        return cls(str(data[0]), int(data[1]), data[2], str(data[3]), str(data[4]))


class QARecord(NamedTuple):
    id: int
    model_id: int
    question: str
    answer: str


class MessageRecord(NamedTuple):
    role: str
    content: str
    weight: int | None = None


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    id: int
    model_id: int
    messages: tuple[MessageRecord, ...]


@dataclass(frozen=True)
class SourceData:
    """The training data one source model contributes."""

    model_id: int
    model_name: str
    relation: Relation
    qas: Sequence[QARecord] = ()
    conversations: Sequence[ConversationRecord] = ()


class Example(NamedTuple):
    """One line of the training file."""

    line: int  # 1-based
    data: Any  # the parsed JSON value (a dict for well-formed examples)
    sources: tuple[SourceRef, ...]
    digest: str  # sha256 of the line's bytes, hex, first 32 characters


@dataclass(frozen=True)
class TrainingSet:
    examples: list[Example]
    content: bytes
    sha256: str
    duplicates_removed: int = 0

    @property
    def size(self) -> int:
        return len(self.examples)

    def manifest(self) -> list[list[Any]]:
        """Per line: its digest and its sources (stored with a compilation)."""
        return [[e.digest, [s.as_json() for s in e.sources]] for e in self.examples]


def line_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:32]


def conversation_messages(
    system_message: str, conversation: ConversationRecord
) -> list[dict[str, Any]]:
    """The model's system message first unless the conversation has its own."""
    messages: list[dict[str, Any]] = []
    has_own_system = any(m.role == "system" for m in conversation.messages)
    if system_message and not has_own_system:
        messages.append({"role": "system", "content": system_message})
    for m in conversation.messages:
        item: dict[str, Any] = {"role": m.role, "content": m.content}
        if m.role == "assistant" and m.weight is not None:
            item["weight"] = m.weight
        messages.append(item)
    return messages


@bulk
def _collect(
    system_message: str, sources: Iterable[SourceData], middle: str, tail: str
) -> tuple[dict[str, list[Any]], dict[str, list[SourceRef]], dict[str, Any], int]:
    """Every source's records as distinct lines: per Q&A line (by its rest after the shared
    head) the first Q&A and every record giving it; per conversation line the records and
    its data; and how many records there were."""
    # Per distinct Q&A line, by its rest: the first Q&A and every record giving it.
    qa_entries: dict[str, list[Any]] = {}
    refs_by_line: dict[str, list[SourceRef]] = {}  # conversations' lines
    data_by_line: dict[str, Any] = {}
    records = 0
    for source in sources:
        relation = source.relation.value
        qas = source.qas
        rests = [
            f"{encode_basestring(qa.question)}{middle}{encode_basestring(qa.answer)}{tail}"
            for qa in qas
        ]
        for qa, rest in zip(qas, rests, strict=True):
            ref = SourceRef("qa", qa.id, source.model_id, source.model_name, relation)
            entry = qa_entries.get(rest)
            if entry is None:
                qa_entries[rest] = [qa, ref]
            else:
                entry.append(ref)
        for conv in source.conversations:
            ref = SourceRef("conversation", conv.id, source.model_id, source.model_name, relation)
            data = {"messages": conversation_messages(system_message, conv)}
            # Written with the default separators: never a Q&A's line, even with the same
            # messages (the bytes of existing sets, and so their hashes, stay as they were).
            line = _encode(data)
            if line in refs_by_line:
                refs_by_line[line].append(ref)
            else:
                refs_by_line[line] = [ref]
                data_by_line[line] = data
        records += len(qas) + len(source.conversations)
    return qa_entries, refs_by_line, data_by_line, records


def build_training_set(system_message: str, sources: Iterable[SourceData]) -> TrainingSet:
    system_json = encode_basestring(system_message) if system_message else None
    system = [{"role": "system", "content": system_message}] if system_message else []
    # Every Q&A line is one fixed head (with the system message, most of the line) and its
    # own rest: the Q&As are deduplicated, sorted, encoded and hashed by their rest alone.
    head = '{"messages":[' + (
        '{"role":"system","content":' + system_json + "}," if system_json is not None else ""
    )
    head += '{"role":"user","content":'
    middle = '},{"role":"assistant","content":'
    tail = "}]}"
    qa_entries, refs_by_line, data_by_line, records = _collect(
        system_message, sources, middle, tail
    )
    # UTF-8 keeps the order of code points: sorting the text sorts the bytes. A line that
    # does not start with the head sorts before or after all that do, as it sorts against
    # the head.
    others = sorted(refs_by_line)
    before = [line for line in others if line < head]
    after = others[len(before) :]
    ordered = sorted(qa_entries.items(), key=itemgetter(0))
    head_raw = head.encode("utf-8")
    rest_raws = [rest.encode("utf-8") for rest, _ in ordered]
    head_hash = hashlib.sha256(head_raw)

    def rest_digest(raw: bytes) -> str:
        digest = head_hash.copy()
        digest.update(raw)
        return digest.hexdigest()[:32]

    def qa_data(qa: QARecord) -> dict[str, Any]:
        return {
            "messages": [
                *system,
                {"role": "user", "content": qa.question},
                {"role": "assistant", "content": qa.answer},
            ]
        }

    before_raws = [line.encode("utf-8") for line in before]
    after_raws = [line.encode("utf-8") for line in after]
    examples = [
        Example(number, data_by_line[line], tuple(refs_by_line[line]), line_digest(raw))
        for number, (line, raw) in enumerate(zip(before, before_raws, strict=True), start=1)
    ]
    examples += [
        Example(number, qa_data(entry[0]), tuple(entry[1:]), rest_digest(raw))
        for number, ((_, entry), raw) in enumerate(
            zip(ordered, rest_raws, strict=True), start=len(examples) + 1
        )
    ]
    examples += [
        Example(number, data_by_line[line], tuple(refs_by_line[line]), line_digest(raw))
        for number, (line, raw) in enumerate(
            zip(after, after_raws, strict=True), start=len(examples) + 1
        )
    ]
    # One copy of the whole file (it can be over 100 MB).
    newline = b"\n"
    pieces = [piece for raw in before_raws for piece in (raw, newline)]
    pieces += chain.from_iterable(zip(repeat(head_raw), rest_raws, repeat(newline)))
    pieces += [piece for raw in after_raws for piece in (raw, newline)]
    content = b"".join(pieces)
    return TrainingSet(
        examples=examples,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        duplicates_removed=records - len(examples),
    )


# No example the providers take comes near this; a longer line is reported, never held whole.
MAX_LINE_BYTES = 8 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"


def read_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """The numbered lines of a file without their line feed, one at a time; ``None`` for a
    line longer than ``MAX_LINE_BYTES``, which is skipped without being kept."""
    number = 0
    while raw := stream.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = stream.readline(1024 * 1024)
            yield number, None
            continue
        yield number, raw[:-1] if raw.endswith(b"\n") else raw


def parse_line(number: int, raw: bytes | None) -> Example | str:
    """One line of a JSONL training file as an example, or why it is not one."""
    if raw is None:
        return f"longer than {MAX_LINE_BYTES // (1024 * 1024)} MB: not read"
    stripped = raw.strip()
    if not stripped:
        return "empty line: each line must hold one JSON example"
    if number == 1 and stripped.startswith(_BOM):
        return "the file starts with a byte-order mark (BOM); save it as UTF-8 without one"
    if _BOM in stripped:
        return "a byte-order mark (U+FEFF) in the middle of the file (were two files joined?)"
    try:
        data = load_line(stripped.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text (byte {exc.start + 1})"
    except JSONLineError as exc:
        return str(exc)
    return Example(number, data, (SourceRef("line", number),), line_digest(raw))


def parse_jsonl(content: bytes) -> tuple[list[Example], list[tuple[int, str]]]:
    """The examples of any JSONL file, and the lines that are not JSON at all."""
    examples: list[Example] = []
    broken: list[tuple[int, str]] = []
    for number, raw in read_lines(io.BytesIO(content)):
        parsed = parse_line(number, raw)
        if isinstance(parsed, str):
            broken.append((number, parsed))
        else:
            examples.append(parsed)
    return examples, broken
