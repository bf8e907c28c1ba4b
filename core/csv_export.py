"""CSV that is safe to open in a spreadsheet.

A cell starting with = + - @ tab or carriage return can be run as a formula by Excel or
LibreOffice (CSV injection); such cells get a leading apostrophe, which spreadsheets show as
text. Numbers stay numbers: only text cells are touched. The full-width forms (＝ ＋ － ＠),
which Excel with an East Asian input setting takes for the ASCII ones, count too, and so do
those behind invisible characters (zero-width space, joiners, word joiner, BOM, soft hyphen)
that a spreadsheet may drop before it looks at the first character.
"""

from __future__ import annotations

import csv
from typing import Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Characters that show nothing, skipped when looking for a formula character.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"


def starts_like_formula(value: str) -> bool:
    """Whether a spreadsheet could take the text for a formula."""
    return value.lstrip(INVISIBLE).startswith(FORMULA_STARTS)


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and starts_like_formula(value):
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
