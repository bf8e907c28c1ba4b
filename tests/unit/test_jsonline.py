"""The one JSON-line loader every importer and the validator use."""

from __future__ import annotations

import json

import pytest

from core.jsonline import MAX_DEPTH, JSONLineError, load_line


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("[" * 10_000 + "]" * 10_000, "nested more than 100 levels deep"),
        # Under the interpreter's recursion limit, so json.loads takes it: still refused.
        ('{"a": ' + "[" * 500 + "]" * 500 + "}", "nested more than 100 levels deep"),
        ('{"n": ' + "9" * 5_000 + "}", "a number with 5,000 digits"),
        ('{"n": -' + "1" * 101 + "}", "a number with 101 digits"),
        ('{"n": 1e999999}', "the number 1e999999 is out of range"),
        ('{"n": -1e400}', "the number -1e400 is out of range"),
        ('{"n": NaN}', "NaN is not a JSON value"),
        ('{"n": Infinity}', "Infinity is not a JSON value"),
        ('{"n": -Infinity}', "-Infinity is not a JSON value"),
        ('{"a": 1, "b": {"c": 1, "c": 2}}', "the key 'c' appears twice in one object"),
        ('{"a": "\\ud800"}', "half of a surrogate pair"),
        ('{"\\udfff": "a"}', "half of a surrogate pair"),
        ('\ufeff{"a": 1}', "byte-order mark"),
        ('{"a": ', "not valid JSON (Expecting value, column 7)"),
    ],
)
def test_lines_python_cannot_store_are_refused_in_one_line(line: str, says: str) -> None:
    with pytest.raises(JSONLineError) as raised:
        load_line(line)
    assert says in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "value",
    [
        {"question": "q", "answer": "a", "n": 10**99, "x": -1.5e300},
        {"a": [[[[1]]]], "text": "[[[[{{{{" * 100},  # brackets inside strings are text
        {"emoji": "\U0001f600"},
        json.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH),
    ],
)
def test_ordinary_json_reads_as_json_loads_reads_it(value: object) -> None:
    line = json.dumps(value)  # ensure_ascii: the emoji is written as an escaped pair
    assert load_line(line) == json.loads(line)
