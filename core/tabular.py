"""Rows in and out of CSV, XLSX and JSONL files, without knowing what the rows mean.

Reading keeps each row's number as a spreadsheet shows it (the header is row 1) or the
line number of a JSONL file, so that errors can point at the place to fix. Bytes that are
not UTF-8 are kept as U+FFFD so that the row with broken encoding, not the whole file, is
refused. Writing guards cells that a spreadsheet would run as a formula, and reading takes
that guard off again, so that export followed by import gives back the same text.

A file is read whole, so it may hold at most ``IMPORT_MAX_BYTES`` (and as much text once
unpacked, for XLSX); larger files are refused before they are parsed.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath
from typing import Any, NamedTuple

from core.csv_export import FORMULA_STARTS, INVISIBLE, starts_like_formula
from core.domain import (
    IMPORT_MAX_BYTES,
    IMPORT_MAX_COLUMNS,
    IMPORT_MAX_MB,
    IMPORT_MAX_ROWS,
    control_character,
)
from core.jsonline import JSONLineError, load_line
from core.xlsx_archive import UnsafeArchive, check_workbook

Progress = Callable[[float, str], None]
FORMATS = ("csv", "xlsx", "jsonl")
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jsonl": "application/jsonl",
}
_PROGRESS_EVERY = 5_000


class TableError(ValueError):
    """The file as a whole cannot be read (wrong format, no header, empty)."""


class TableRow(NamedTuple):
    """A named tuple: a file has up to 100,000 of them, and a frozen dataclass takes
    several times longer to create."""

    number: int  # spreadsheet row (header = 1) or JSONL line
    values: dict[str, str]
    error: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    kind: str  # csv, xlsx, jsonl, paste
    headers: list[str]
    rows: list[TableRow]

    @property
    def unit(self) -> str:
        return "line" if self.kind == "jsonl" else "row"


_GUARD_FIRST = frozenset([*FORMULA_STARTS, *INVISIBLE, "'"])


def _needs_guard(value: str) -> bool:
    return starts_like_formula(value) or (value.startswith("'") and _needs_guard(value[1:]))


def guard(value: str) -> str:
    """Make a cell safe to open in a spreadsheet. A value that already starts with the guard
    followed by a formula character is guarded again, so that ``unguard`` is exact."""
    return "'" + value if _needs_guard(value) else value


def unguard(value: str) -> str:
    return value[1:] if value.startswith("'") and _needs_guard(value[1:]) else value


def format_of(name: str) -> str:
    suffix = PurePath(name).suffix.lower().lstrip(".")
    if suffix in ("csv", "tsv", "txt"):
        return "csv"
    if suffix in ("xlsx", "xlsm"):
        return "xlsx"
    if suffix in ("jsonl", "ndjson", "json"):
        return "jsonl"
    raise TableError(f"{name}: use a .csv, .xlsx or .jsonl file")


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" is UTF-16 with a byte-order mark.
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Kept as U+FFFD: the rows that hold broken bytes are refused one by one.
        return data.decode("utf-8-sig", errors="replace")


# Only these end a line: JSON text may hold U+2028 or U+0085 inside a string, which
# str.splitlines() would take for line ends.
_LINE_END = re.compile(r"\r\n|\r|\n")


def text_lines(text: str) -> list[str]:
    """The lines of a text file, whatever mix of CRLF, CR and LF ends them."""
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


BOM_INSIDE = "a byte-order mark (U+FEFF) in the middle of the file (were two files joined?)"


def misplaced_bom(text: str) -> int | None:
    """The line of a byte-order mark after the start of a decoded file, or None. At the
    start it says how the file is encoded; anywhere else it is an invisible character that
    would end up inside a question or a column name."""
    index = text.find("\ufeff")
    return None if index < 0 else len(_LINE_END.findall(text, 0, index)) + 1


def too_large(name: str, size: int) -> str | None:
    """Why a file of ``size`` bytes is not read, or None."""
    if size <= IMPORT_MAX_BYTES:
        return None
    return (
        f"{name} has {size / (1024 * 1024):,.0f} MB; import at most {IMPORT_MAX_MB} MB at a "
        "time (split the file)"
    )


def _delimiter(sample: str) -> str:
    first_line = sample.split("\n", 1)[0]
    if "\t" in first_line:
        return "\t"
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _unique_headers(raw: Sequence[Any]) -> list[str]:
    headers: list[str] = []
    for index, value in enumerate(raw, start=1):
        name = _cell(value).strip() or f"column {index}"
        while name in headers:
            name += "_"
        headers.append(name)
    return headers


def _trimmed(cells: Sequence[str], keep: int) -> Sequence[str]:
    """``cells`` without the empty ones at the end past the first ``keep``: spreadsheets
    save every row as wide as the widest, and those cells hold nothing."""
    width = len(cells)
    while width > keep and not cells[width - 1].strip():
        width -= 1
    return cells if width == len(cells) else cells[:width]


def _check_shape(name: str, unit: str, number: int, width: int, rows: int) -> None:
    """Refuse the file at the row that makes it too long or too wide."""
    if rows >= IMPORT_MAX_ROWS:
        raise TableError(
            f"{name}, {unit} {number}: more than {IMPORT_MAX_ROWS:,} {unit}s; split the file"
        )
    if width > IMPORT_MAX_COLUMNS:
        raise TableError(
            f"{name}, {unit} {number}: {width:,} columns (at most {IMPORT_MAX_COLUMNS})"
        )


def _rows_from_records(
    name: str,
    kind: str,
    records: Iterable[tuple[int, Sequence[Any]]],
    header: Sequence[Any] | None,
    progress: Progress | None,
    strip_guard: bool,
) -> Table:
    if header is not None:
        header = _trimmed([_cell(h) for h in header], 0)
        _check_shape(name, "row", 1, len(header), 0)
    headers = _unique_headers(header) if header is not None else []
    rows: list[TableRow] = []
    characters = 0
    for count, (number, record) in enumerate(records, start=1):
        # CSV cells are text already.
        cells = record if kind in ("csv", "paste") else [_cell(v) for v in record]
        # An XLSX file is compressed: its size says little about the text inside.
        characters += sum(map(len, cells))
        if characters > IMPORT_MAX_BYTES:
            raise TableError(
                f"{name} holds more than {IMPORT_MAX_MB} MB of text (at row {number}); "
                "split the file"
            )
        if not any(map(str.strip, cells)):
            continue
        if len(cells) > len(headers):
            cells = _trimmed(cells, len(headers))
        _check_shape(name, "row", number, len(cells), len(rows))
        if header is None and not headers:
            headers = [f"column {i}" for i in range(1, len(cells) + 1)]
        while len(headers) < len(cells):
            headers.append(f"column {len(headers) + 1}")
        values = dict(zip(headers, cells, strict=False))
        if strip_guard:
            for h, c in values.items():
                if c[:1] == "'":
                    values[h] = unguard(c)
        rows.append(TableRow(number, values))
        if progress and count % _PROGRESS_EVERY == 0:
            progress(0.0, f"read {count:,} rows of {name}")
    return Table(name, kind, headers, rows)


def read_text(
    name: str,
    text: str,
    *,
    kind: str = "csv",
    has_header: bool = True,
    progress: Progress | None = None,
) -> Table:
    """Delimited text: a CSV file, or rows pasted from a spreadsheet (tab-separated)."""
    if not text.strip():
        raise TableError(f"{name} is empty")
    # A file is checked strictly, so that a quote that is never closed is named, not allowed
    # to swallow the rest of the file into one cell; pasted cells are taken as they come.
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_delimiter(text[:65_536]), strict=kind == "csv"
    )
    numbered = _records(name, reader)
    header = None
    if has_header:
        first = next(numbered, None)
        if first is None:
            raise TableError(f"{name} has no header row")
        header = first[1]
        if any(control_character(h) or "\ufffd" in h for h in header):
            raise TableError(
                f"{name}: row 1 (the header) is not readable text; save the file as CSV (UTF-8)"
            )
    return _rows_from_records(name, kind, numbered, header, progress, strip_guard=True)


def _records(name: str, reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """Numbered CSV records; broken quoting stops the file with the row where it starts."""
    number = 0
    while True:
        number += 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            hint = (
                "a quote opened there is never closed"
                if "end of data" in str(exc)
                else f"the quoting is broken ({exc})"
            )
            raise TableError(f"{name}, row {number}: {hint}") from None
        yield number, record


def _read_xlsx(name: str, data: bytes, progress: Progress | None) -> Table:
    from openpyxl import load_workbook

    try:
        check_workbook(data)
    except UnsafeArchive as exc:
        raise TableError(
            f"{name} is not an Excel workbook (.xlsx) that can be read: {exc}"
        ) from None
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise TableError(f"{name} is not an Excel workbook (.xlsx) that can be read") from exc
    try:
        sheet = workbook.worksheets[0]
        numbered = enumerate(sheet.iter_rows(values_only=True), start=1)
        first = next(numbered, None)
        if first is None:
            raise TableError(f"{name} has no header row")
        return _rows_from_records(name, "xlsx", numbered, first[1], progress, strip_guard=True)
    finally:
        workbook.close()


def _read_jsonl(name: str, text: str) -> Table:
    headers: list[str] = []
    rows: list[TableRow] = []
    for number, line in enumerate(text_lines(text), start=1):
        if not line.strip():
            continue
        try:
            record = load_line(line)
        except JSONLineError as exc:
            rows.append(TableRow(number, {}, str(exc)))
            continue
        if not isinstance(record, dict):
            rows.append(TableRow(number, {}, "each line must be a JSON object"))
            continue
        _check_shape(name, "line", number, len(record), len(rows))
        for key in record:
            if key not in headers:
                headers.append(str(key))
        _check_shape(name, "line", number, len(headers), len(rows))
        rows.append(TableRow(number, {str(k): _cell(v) for k, v in record.items()}))
    return Table(name, "jsonl", headers, rows)


def read_table(name: str, data: bytes, progress: Progress | None = None) -> Table:
    """A file's rows by its extension (.csv/.tsv/.txt, .xlsx, .jsonl)."""
    kind = format_of(name)
    refused = too_large(name, len(data))
    if refused:
        raise TableError(refused)
    if not data.strip():
        raise TableError(f"{name} is empty")
    if kind == "xlsx":
        table = _read_xlsx(name, data, progress)
    else:
        text = _decode(data)
        if not text.strip():
            raise TableError(f"{name} is empty")
        if line := misplaced_bom(text):
            raise TableError(f"{name}, line {line}: {BOM_INSIDE}")
        table = (
            _read_jsonl(name, text) if kind == "jsonl" else read_text(name, text, progress=progress)
        )
    if not table.rows:
        raise TableError(f"{name} has no rows below its header")
    if not table.headers:
        # No line was a JSON object: there are no columns to map, so say what is wrong where.
        first = table.rows[0]
        raise TableError(f"{name}, {table.unit} {first.number}: {first.error}")
    return table


def _report(progress: Progress | None, done: int, total: int, verb: str) -> None:
    if progress and total and done % _PROGRESS_EVERY == 0:
        progress(done / total, f"{verb} {done:,} of {total:,} rows")


def write_table(
    kind: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    progress: Progress | None = None,
) -> bytes:
    """CSV (UTF-8 with BOM, every text cell quoted), XLSX, or JSONL (typed values)."""
    total = len(rows)
    if kind == "jsonl":
        lines = []
        for done, row in enumerate(rows, start=1):
            lines.append(json.dumps(dict(zip(headers, row, strict=True)), ensure_ascii=False))
            _report(progress, done, total, "wrote")
        return ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")
    if kind == "xlsx":
        return _write_xlsx(headers, rows, progress)
    if kind != "csv":
        raise TableError(f"unknown format {kind!r}; use one of {', '.join(FORMATS)}")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow([guard(h) for h in headers])
    # Column by column: text is taken as it is, and only a cell starting with a formula
    # character or the guard itself can need the guard.
    columns = [list(column) for column in zip(*rows, strict=True)]
    for column in columns:
        if set(map(type, column)) != {str}:
            column[:] = map(_cell, column)
        for i in [i for i, cell in enumerate(column) if cell[:1] in _GUARD_FIRST]:
            column[i] = guard(column[i])
    cells = list(zip(*columns, strict=True))
    for start in range(0, total, _PROGRESS_EVERY):
        writer.writerows(cells[start : start + _PROGRESS_EVERY])
        _report(progress, min(start + _PROGRESS_EVERY, total), total, "wrote")
    return buffer.getvalue().encode("utf-8-sig")


def _write_xlsx(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], progress: Progress | None
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Q&As")

    def safe(value: Any) -> str:
        # XML turns a carriage return into a line feed on reading anyway; doing it first keeps
        # the guard right. Other control characters cannot be stored in XLSX at all.
        text = _cell(value).replace("\r\n", "\n").replace("\r", "\n")
        return str(ILLEGAL_CHARACTERS_RE.sub("", guard(text)))

    sheet.append([safe(h) for h in headers])
    total = len(rows)
    for done, row in enumerate(rows, start=1):
        sheet.append([safe(v) for v in row])
        _report(progress, done, total, "wrote")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
