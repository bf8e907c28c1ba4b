"""CSV that is safe to open in a spreadsheet.

A cell starting with = + - @ tab or carriage return can be run as a formula by Excel or
LibreOffice (CSV injection); such cells get a leading apostrophe, which spreadsheets show as
text. Numbers stay numbers: only text cells are touched.
"""

from __future__ import annotations

import csv
from typing import Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def frame_to_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with a byte-order mark, so that Excel reads accents right)."""
    safe = frame.copy()
    safe.columns = [str(neutralise(str(c))) for c in safe.columns]
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    # Every text cell quoted: pandas would otherwise leave a bare carriage return unquoted.
    return safe.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC).encode("utf-8-sig")
