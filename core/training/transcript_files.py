"""Reading transcript files for the curation queue: JSONL in the OpenAI chat format (one
``{"messages": [...]}`` per line) and CSV (conversation id, role, content, optional time and
participant; one row per message). A file with any bad line is refused as a whole, with
every problem named by line, so that nothing half-imported ever reaches the queue.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from core.domain import (
    IMPORT_MAX_BYTES,
    IMPORT_MAX_COLUMNS,
    IMPORT_MAX_ROWS,
    MESSAGE_MAX,
    NAME_MAX,
    MessageRole,
    control_character,
)
from core.errors import Problem, ValidationFailed
from core.jsonline import JSONLineError, load_line
from core.tabular import BOM_INSIDE, misplaced_bom, text_lines, too_large
from core.training.pii import describe, find_personal_data

MAX_FILE_BYTES = IMPORT_MAX_BYTES
MAX_TRANSCRIPTS = IMPORT_MAX_ROWS
# A CSV file holds one message per row; ten per transcript on average is plenty.
MAX_CSV_ROWS = 10 * IMPORT_MAX_ROWS
MAX_PROBLEMS = 1_000
ROLES = {r.value for r in MessageRole}
_CSV_COLUMNS = {
    "conversation_id": ("conversation_id", "conversation id", "conversation", "chat_id"),
    "role": ("role",),
    "content": ("content", "text", "message"),
    "time": ("time", "timestamp", "created_at"),
    "participant": ("participant", "name", "author"),
}


@dataclass
class ParsedTranscript:
    title: str
    source_ref: dict[str, Any]
    # [{"role", "content", "participant", "time", "weight"}...]
    messages: list[dict[str, Any]] = field(default_factory=list)
    pii_warnings: list[str] = field(default_factory=list)


def personal_data_warnings(messages: list[dict[str, Any]]) -> list[str]:
    """One warning per message that seems to hold personal data, naming what was found."""
    warnings = []
    for number, message in enumerate(messages, start=1):
        found = find_personal_data(str(message.get("content", "")))
        if found:
            examples = ", ".join(dict.fromkeys(f.text for f in found))
            warnings.append(f"message {number} ({message['role']}): {describe(found)}: {examples}")
    return warnings


def _title(messages: list[dict[str, Any]]) -> str:
    first = next((m["content"] for m in messages if m["role"] == "user"), "")
    text = " ".join(str(first).split())
    return (text[:77] + "…") if len(text) > 80 else (text or "Untitled transcript")


def _check_message(
    where: str, role: Any, content: Any, weight: Any, problems: list[Problem]
) -> None:
    if role not in ROLES:
        problems.append(Problem(where, f"role {role!r}: use system, user or assistant"))
    if not isinstance(content, str) or not content.strip():
        problems.append(Problem(where, "content is empty"))
    elif len(content) > MESSAGE_MAX:
        problems.append(Problem(where, f"content is longer than {MESSAGE_MAX:,} characters"))
    elif control := control_character(content):
        problems.append(Problem(where, f"content holds the control character {control}"))
    if weight is not None and (role != "assistant" or weight not in (0, 1)):
        problems.append(Problem(where, "weight: 0 or 1, on assistant messages only"))


def _check_transcript(where: str, messages: list[dict[str, Any]], problems: list[Problem]) -> None:
    if not messages:
        problems.append(Problem(where, "has no messages"))
    elif not any(m["role"] == "assistant" for m in messages):
        problems.append(Problem(where, "has no assistant message, so there is nothing to learn"))


def _text(content: Any) -> Any:
    """OpenAI content may be a list of parts; the text parts are what we keep."""
    if isinstance(content, list):
        parts = [
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        ]
        return " ".join(str(p) for p in parts)
    return content


def _too_many(filename: str, where: str) -> None:
    """Refuse a file that holds more transcripts (or CSV rows) than one import takes, as soon
    as the line that passes the limit is read, before the rest costs memory."""
    raise ValidationFailed(
        f"{filename} was not imported: import at most {MAX_TRANSCRIPTS:,} transcripts "
        f"({MAX_CSV_ROWS:,} CSV rows) at a time; split the file. Nothing was written.",
        [Problem(where, "one transcript or row too many")],
    )


def parse_jsonl(filename: str, text: str) -> list[ParsedTranscript]:
    problems: list[Problem] = []
    parsed: list[ParsedTranscript] = []
    for line_no, line in enumerate(text_lines(text), start=1):
        if len(problems) >= MAX_PROBLEMS:
            break
        if not line.strip():
            continue
        where = f"line {line_no}"
        try:
            record = load_line(line)
        except JSONLineError as exc:
            problems.append(Problem(where, str(exc)))
            continue
        raw = record.get("messages") if isinstance(record, dict) else None
        if not isinstance(raw, list):
            problems.append(Problem(where, 'expected {"messages": [...]} (OpenAI chat format)'))
            continue
        messages: list[dict[str, Any]] = []
        before = len(problems)
        for number, item in enumerate(raw, start=1):
            here = f"{where}, message {number}"
            if not isinstance(item, dict):
                problems.append(Problem(here, "expected an object with role and content"))
                continue
            role, content, weight = item.get("role"), _text(item.get("content")), item.get("weight")
            _check_message(here, role, content, weight, problems)
            participant = str(item.get("name") or item.get("participant") or "")[:NAME_MAX]
            if control_character(participant):
                problems.append(Problem(here, "the name holds a control character"))
            messages.append(
                {
                    "role": role,
                    "content": content.strip() if isinstance(content, str) else content,
                    "participant": participant,
                    "time": item.get("time"),
                    "weight": weight,
                }
            )
        if len(problems) == before:
            _check_transcript(where, messages, problems)
        if len(problems) == before:
            parsed.append(
                ParsedTranscript(_title(messages), {"file": filename, "line": line_no}, messages)
            )
            if len(parsed) > MAX_TRANSCRIPTS:
                _too_many(filename, where)
    if problems:
        raise ValidationFailed(
            f"{filename} was not imported: {len(problems):,} problem(s). Nothing was written.",
            problems,
        )
    return parsed


def _csv_columns(header: list[str]) -> tuple[dict[str, int], list[Problem]]:
    normalised = [h.strip().lower() for h in header]
    columns: dict[str, int] = {}
    for key, aliases in _CSV_COLUMNS.items():
        for alias in aliases:
            if alias in normalised:
                columns[key] = normalised.index(alias)
                break
    missing = [k for k in ("conversation_id", "role", "content") if k not in columns]
    problems = [Problem("line 1", f"the header needs a column {name!r}") for name in missing]
    if len(header) > IMPORT_MAX_COLUMNS:
        problems.append(_too_wide("line 1", len(header)))
    return columns, problems


def _too_wide(where: str, width: int) -> Problem:
    return Problem(where, f"{width:,} columns (at most {IMPORT_MAX_COLUMNS})")


def parse_csv(filename: str, text: str) -> list[ParsedTranscript]:
    # Strict: a quote that is never closed is an error on its line, not the rest of the file
    # swallowed into one message.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationFailed(
            f"{filename} is empty.", [Problem("file", "no header row")]
        ) from None
    except csv.Error as exc:
        raise ValidationFailed(
            f"{filename} is not valid CSV.", [Problem("line 1", str(exc))]
        ) from None
    columns, problems = _csv_columns(header)
    if problems:
        raise ValidationFailed(f"{filename} was not imported. Nothing was written.", problems)
    groups: dict[str, ParsedTranscript] = {}
    while len(problems) < MAX_PROBLEMS:
        line_no = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            hint = "a quote opened here is never closed" if "end of data" in str(exc) else exc
            problems.append(Problem(f"line {line_no}", f"not valid CSV ({hint})"))
            break
        if not any(cell.strip() for cell in row):
            continue
        if reader.line_num > MAX_CSV_ROWS:
            _too_many(filename, f"line {line_no}")
        if len(row) > IMPORT_MAX_COLUMNS:
            problems.append(_too_wide(f"line {line_no}", len(row)))
            break

        def cell(name: str, current: list[str] = row) -> str:
            index = columns.get(name)
            return current[index].strip() if index is not None and index < len(current) else ""

        where = f"line {line_no}"
        conversation = cell("conversation_id")
        role, content = cell("role").lower(), cell("content")
        if not conversation:
            problems.append(Problem(where, "conversation id is empty"))
            continue
        if control_character(conversation + cell("participant") + cell("time")):
            problems.append(Problem(where, "a cell holds a control character"))
        _check_message(where, role, content, None, problems)
        group = groups.setdefault(
            conversation,
            ParsedTranscript("", {"file": filename, "line": line_no, "conversation": conversation}),
        )
        if len(groups) > MAX_TRANSCRIPTS:
            _too_many(filename, where)
        group.messages.append(
            {
                "role": role,
                "content": content,
                "participant": cell("participant")[:NAME_MAX],
                "time": cell("time") or None,
                "weight": None,
            }
        )
    for conversation, group in groups.items():
        _check_transcript(
            f"conversation {conversation!r} (from line {group.source_ref['line']})",
            group.messages,
            problems,
        )
        group.title = _title(group.messages)
    if problems:
        raise ValidationFailed(
            f"{filename} was not imported: {len(problems):,} problem(s). Nothing was written.",
            problems,
        )
    return list(groups.values())


def decode(filename: str, content: bytes) -> str:
    """The text of a UTF-8 file (a byte-order mark is dropped; UTF-16 with its mark is read
    too), or ValidationFailed naming the line with the first byte that is not UTF-8."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError:
            raise ValidationFailed(
                f"{filename} starts like UTF-16 text but is not; save it as UTF-8."
            ) from None
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        column = exc.start - (content.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ValidationFailed(
            f"{filename} is not UTF-8 text; save it as UTF-8. Nothing was written.",
            [Problem(f"line {line}", f"byte {column} is not UTF-8 (Latin-1 or another encoding?)")],
        ) from None


def parse_transcripts(filename: str, content: bytes) -> list[ParsedTranscript]:
    """Transcripts with their personal-data warnings, or ``ValidationFailed`` naming every
    bad line."""
    refused = too_large(filename, len(content))
    if refused:
        raise ValidationFailed(f"{refused}.")
    if filename.lower().endswith((".xlsx", ".xlsm", ".xls", ".ods")):
        raise ValidationFailed(f"{filename}: transcripts are read from .jsonl or .csv files.")
    text = decode(filename, content)
    if line := misplaced_bom(text):
        raise ValidationFailed(
            f"{filename} was not imported. Nothing was written.",
            [Problem(f"line {line}", BOM_INSIDE)],
        )
    lowered = filename.lower()
    if lowered.endswith(".csv"):
        parsed = parse_csv(filename, text)
    elif lowered.endswith((".jsonl", ".json", ".ndjson")) or text.lstrip().startswith("{"):
        parsed = parse_jsonl(filename, text)
    else:
        parsed = parse_csv(filename, text)
    if not parsed:
        raise ValidationFailed(f"{filename} holds no transcripts.")
    if len(parsed) > MAX_TRANSCRIPTS:
        raise ValidationFailed(
            f"{filename} holds {len(parsed):,} transcripts; import at most {MAX_TRANSCRIPTS:,} "
            "at a time."
        )
    for transcript in parsed:
        transcript.pii_warnings = personal_data_warnings(transcript.messages)
    return parsed
