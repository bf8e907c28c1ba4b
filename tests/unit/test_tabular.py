"""Reading and writing CSV, XLSX and JSONL rows (pure functions, no database)."""

from __future__ import annotations

import csv
import io

import pytest

from core.csv_export import FORMULA_STARTS, INVISIBLE
from core.tabular import TableError, format_of, guard, read_table, read_text, unguard, write_table

TRICKY = [
    "=1+1",
    "+49 30 1234",
    "-5 items",
    "@channel",
    "\tindented",
    "\rcarriage",
    "'=already guarded",
    "''=twice",
    "'just a quote",
    "'",
    "plain",
    "",
    'multi\nline, with "quotes"',
    "Grüße, 東京 ✓",
    # Full-width formula characters, and formula characters behind invisible ones.
    "\uff1d1+1",
    "\uff0b49",
    "\uff0d5",
    "\uff20channel",
    "\u200b=1+1",
    "\u2060\u200d@x",
    "\u00ad+1",
    "'\uff1dguarded",
]


@pytest.mark.parametrize("value", TRICKY)
def test_guard_is_undone_exactly(value: str) -> None:
    guarded = guard(value)
    assert not guarded.lstrip(INVISIBLE).startswith(FORMULA_STARTS)
    assert unguard(guarded) == value


@pytest.mark.parametrize("kind", ["csv", "xlsx", "jsonl"])
def test_written_rows_read_back_the_same(kind: str) -> None:
    headers = ["question", "answer"]
    rows = [[v or "x", v] for v in TRICKY]
    data = write_table(kind, headers, rows)
    table = read_table(f"out.{kind}", data)
    assert table.headers == headers
    read_back = [[r.values.get("question", ""), r.values.get("answer", "")] for r in table.rows]
    if kind == "xlsx":
        # XML has no carriage returns: they come back as line feeds.
        rows = [[v.replace("\r", "\n") for v in row] for row in rows]
    # Rows whose cells are all empty are not rows; every other one comes back as written.
    assert read_back == [r for r in rows if any(r)]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_disguised_formulas_are_neutralised_in_exports(kind: str) -> None:
    cells = ['\uff1dHYPERLINK("x")', "\u200b=1+1", "\ufeff@SUM(A1)", "\uff0d1"]
    data = write_table(kind, ["question"], [[c] for c in cells])
    if kind == "csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        assert [r[0] for r in rows[1:]] == ["'" + c for c in cells]
    else:
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(data)).worksheets[0]
        assert [r[0].value for r in sheet.iter_rows(min_row=2)] == ["'" + c for c in cells]


def test_csv_cells_that_would_run_as_formulas_are_neutralised() -> None:
    data = write_table("csv", ["question", "answer"], [['=HYPERLINK("x")', "@SUM(A1)"]])
    text = data.decode("utf-8-sig")
    assert '"\'=HYPERLINK(""x"")"' in text and '"\'@SUM(A1)"' in text
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM, so that Excel reads UTF-8


def test_csv_rows_are_numbered_as_a_spreadsheet_shows_them() -> None:
    text = 'q;a\n"first";"one"\n\n"second\nline";"two"\nthird;three\n'
    table = read_text("x.csv", text)
    assert table.headers == ["q", "a"]
    assert [(r.number, r.values["q"]) for r in table.rows] == [
        (2, "first"),
        (4, "second\nline"),
        (5, "third"),
    ]


def test_broken_bytes_stay_visible_in_their_row() -> None:
    data = b"question,answer\nok,fine\n" + b"caf\xe9,latin-1 here\n"
    table = read_table("x.csv", data)
    assert "\ufffd" not in table.rows[0].values["question"]
    assert "\ufffd" in table.rows[1].values["question"] and table.rows[1].number == 3


def test_jsonl_lines_that_are_not_objects_are_reported_by_line() -> None:
    data = b'{"question": "q", "answer": "a", "active": false}\nnot json\n\n[1, 2]\n'
    table = read_table("x.jsonl", data)
    assert table.unit == "line"
    assert table.rows[0].values == {"question": "q", "answer": "a", "active": "false"}
    assert [(r.number, bool(r.error)) for r in table.rows] == [(1, False), (2, True), (4, True)]


def test_files_that_cannot_be_read_say_why() -> None:
    with pytest.raises(TableError, match=r"use a \.csv, \.xlsx or \.jsonl file"):
        format_of("notes.docx")
    with pytest.raises(TableError, match="empty"):
        read_table("x.csv", b"  \n")
    with pytest.raises(TableError, match="not an Excel workbook"):
        read_table("x.xlsx", b"this is not a zip file")
