"""CSV downloads cannot smuggle formulas into a spreadsheet."""

from __future__ import annotations

import csv
import io

import pandas as pd

from core.csv_export import frame_to_csv


def test_formula_cells_are_neutralised_and_numbers_kept() -> None:
    frame = pd.DataFrame(
        {
            "model": ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "plain"],
            "cost": [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        }
    )
    data = frame_to_csv(frame)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["model", "cost"]
    assert [r[0] for r in rows[1:]] == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "plain",
    ]
    # A negative number is a number, not a formula.
    assert rows[1][1] == "-1.5"


def test_headers_are_neutralised_too() -> None:
    data = frame_to_csv(pd.DataFrame({"=cmd": [1]}))
    assert data.decode("utf-8-sig").splitlines()[0] == '"\'=cmd"'


# Full-width formula characters (Excel with an East Asian input setting reads them as the
# ASCII ones) and formula characters behind characters that show nothing.
DISGUISED = [
    '\uff1dHYPERLINK("http://evil.example")',  # ＝
    "\uff0b1+1",  # ＋
    "\uff0d2+3",  # －
    "\uff20SUM(A1)",  # ＠
    "\u200b=1+1",  # zero-width space
    "\u200c\u200d+1",  # zero-width non-joiner and joiner
    "\u2060@cmd",  # word joiner
    "\ufeff-1+1",  # zero-width no-break space (BOM)
    "\u00ad=1",  # soft hyphen
    "\u200b\uff1d1",
]


def test_disguised_formula_cells_are_neutralised_too() -> None:
    data = frame_to_csv(pd.DataFrame({"model": [*DISGUISED, "\u200bplain", "\uff21 full-width A"]}))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [r[0] for r in rows[1:]] == [
        *("'" + v for v in DISGUISED),
        "\u200bplain",
        "\uff21 full-width A",
    ]
