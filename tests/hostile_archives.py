"""Hostile .xlsx archives, built when a test needs them (a bomb is megabytes on disk)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from openpyxl import Workbook

SHARED_STRINGS_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
)
SST_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def workbook_bytes(
    rows: Iterable[Iterable[object]] = (("question", "answer"), ("Q?", "A.")),
) -> bytes:
    """A small valid workbook, as openpyxl writes it (inline strings, no shared strings)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rebuild(
    target: IO[bytes] | Path,
    *,
    shared_strings: Iterable[bytes] | None = None,
    shared_strings_name: str = "xl/sharedStrings.xml",
    extra: dict[str, bytes] | None = None,
    compresslevel: int = 1,
) -> None:
    """The small workbook again, with a shared-string table streamed from ``shared_strings``
    (registered in the content types, so that openpyxl reads it) and ``extra`` parts."""
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes()))
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "[Content_Types].xml" and shared_strings is not None:
                override = (
                    f'<Override PartName="/{shared_strings_name}" '
                    f'ContentType="{SHARED_STRINGS_TYPE}"/></Types>'
                )
                data = data.replace(b"</Types>", override.encode())
            out.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            out.writestr(name, data)
        if shared_strings is not None:
            with out.open(shared_strings_name, "w", force_zip64=True) as part:
                part.write(SST_HEAD)
                for piece in shared_strings:
                    part.write(piece)
                part.write(b"</sst>")


def big_strings(total: int, size: int = 1024 * 1024) -> Iterable[bytes]:
    """Shared strings of ``size`` characters each, ``total`` bytes in all: held whole, they
    cost their size in memory (and no cell uses them)."""
    entry = b"<si><t>" + b"x" * size + b"</t></si>"
    for _ in range(max(1, total // len(entry))):
        yield entry


def write_bomb(path: Path, unpacked: int = 1024**3) -> Path:
    """A workbook whose unused shared-string table unpacks to ``unpacked`` bytes."""
    rebuild(path, shared_strings=big_strings(unpacked))
    return path
