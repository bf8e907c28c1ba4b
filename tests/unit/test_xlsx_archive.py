"""An .xlsx archive is judged by its directories before openpyxl opens it. The limits are
lowered here so that each trick costs kilobytes; tests/integration/test_hostile_archives.py
refuses a real 1 GB bomb in a child process and measures its memory."""

from __future__ import annotations

import bz2
import io
import struct
import zipfile

import pytest

from core import xlsx_archive
from core.tabular import TableError, read_table
from tests.hostile_archives import rebuild, workbook_bytes


def _refusal(data: bytes) -> str:
    with pytest.raises(TableError) as raised:
        read_table("upload.xlsx", data)
    text = str(raised.value)
    assert text.startswith("upload.xlsx is not an Excel workbook (.xlsx) that can be read: ")
    assert "\n" not in text
    return text


def _workbook(**kwargs: object) -> bytes:
    out = io.BytesIO()
    rebuild(out, **kwargs)  # type: ignore[arg-type]
    return out.getvalue()


def _with_parts(parts: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes()))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
        for name, data in parts.items():
            target.writestr(name, data, compress_type=method)
    return out.getvalue()


def test_an_ordinary_workbook_with_shared_strings_is_read() -> None:
    entries = [b"<si><t>unused %d</t></si>" % i for i in range(1_000)]
    table = read_table("ok.xlsx", _workbook(shared_strings=entries))
    assert [r.values for r in table.rows] == [{"question": "Q?", "answer": "A."}]


def test_a_file_that_is_not_a_zip_archive() -> None:
    assert "it is not a zip archive" in _refusal(b"question,answer\nQ?,A.\n")


def test_a_broken_zip_archive() -> None:
    data = workbook_bytes()
    # The end record survives, the directory it points at does not.
    broken = data[:100] + b"\0" * (len(data) - 200) + data[-100:]
    assert "it is a broken zip archive" in _refusal(broken)


def test_too_many_parts() -> None:
    parts = {f"xl/media/p{i}.bin": b"" for i in range(1_001)}
    assert "more than 1,000 parts" in _refusal(_with_parts(parts))


def test_too_many_parts_even_when_the_end_record_lies_about_their_number() -> None:
    data = bytearray(_with_parts({f"p{i}": b"" for i in range(1_500)}))
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 9, 9)  # entries on this disk, entries in all
    assert "it has 1,509 parts (at most 1,000)" in _refusal(bytes(data))


def test_a_central_directory_too_large_to_list() -> None:
    # 400 parts, but names long enough that the directory is over 512 KB.
    parts = {f"xl/{'n' * 1_500}{i}": b"" for i in range(400)}
    assert "more than 1,000 parts" in _refusal(_with_parts(parts))


def test_a_zip_inside_the_zip() -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as nested:
        nested.writestr("bomb.xml", b"<x/>")
    text = _refusal(_with_parts({"xl/embeddings/inner.bin": inner.getvalue()}))
    assert "part xl/embeddings/inner.bin is another zip archive" in text


def test_a_part_compressed_with_a_method_excel_does_not_write() -> None:
    data = _with_parts({"xl/media/a.bin": b"x" * 1_000}, method=zipfile.ZIP_BZIP2)
    assert bz2  # bzip2 unpacks a whole read at once, without a bound
    assert "part xl/media/a.bin is compressed with method 12" in _refusal(data)


def test_a_part_that_unpacks_to_more_than_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_archive, "MAX_PART_BYTES", 1024 * 1024)
    data = _with_parts({"xl/media/big.bin": b"\0" * (1024 * 1024 + 1)})
    assert "part xl/media/big.bin unpacks to 1 MB (at most 1 MB)" in _refusal(data)


def test_parts_that_unpack_to_more_than_the_total(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_archive, "MAX_TOTAL_BYTES", 3 * 1024 * 1024)
    parts = {f"xl/media/{i}.bin": b"\0" * (1024 * 1024) for i in range(4)}
    text = _refusal(_with_parts(parts))
    assert "its parts unpack to more than 3 MB (at part xl/media/" in text


def test_a_shared_string_table_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_archive, "MAX_SHARED_STRING_BYTES", 1024 * 1024)
    data = _workbook(shared_strings=[b"<si><t>" + b"x" * 1024 * 1024 + b"</t></si>"])
    text = _refusal(data)
    assert "part xl/sharedStrings.xml (the shared strings) unpacks to 1 MB (at most 1 MB)" in text


@pytest.mark.parametrize("name", ["xl/sharedStrings.xml", "xl/elsewhere/strings.xml"])
def test_shared_strings_are_counted_exactly_wherever_the_table_is(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setattr(xlsx_archive, "MAX_SHARED_STRINGS", 1_000)
    # Pieces of 7 bytes: most entries' tags are cut in two between pieces.
    monkeypatch.setattr(xlsx_archive, "_CHUNK", 7)
    entries = [b"<si><t>a</t></si>", b"<x:si>b</x:si>", b'<si xml:space="preserve"/>', b"<si/>"]
    read_table("ok.xlsx", _workbook(shared_strings=entries * 250, shared_strings_name=name))
    text = _refusal(_workbook(shared_strings=entries * 250 + [b"<si/>"], shared_strings_name=name))
    assert f"part {name} holds more than 1,000 shared strings" in text
