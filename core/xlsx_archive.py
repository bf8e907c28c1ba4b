"""Checks on an .xlsx file's zip archive before openpyxl opens it.

An .xlsx is a zip archive, and a few megabytes of it can unpack to gigabytes: openpyxl reads
the whole shared-string table into memory when it opens a workbook (a 2.3 MB file whose
``xl/sharedStrings.xml`` unpacked to 1 GB took 14.9 s and 1.4 GB of memory, though no cell
used a single string). The character limit on cells comes too late for that. So the archive
is judged by its directories first, which costs nothing to read:

- the end record must exist (a zip at all), and its central directory must be small enough
  that listing it is cheap (a file of millions of empty parts would cost gigabytes to list);
- at most ``MAX_PARTS`` parts, each unpacking to at most ``MAX_PART_BYTES`` and all together
  to at most ``MAX_TOTAL_BYTES``; only "stored" and "deflated" parts (what Excel writes;
  bzip2 and LZMA are unpacked without a bound per read), none encrypted;
- no part that is itself a zip archive (embedded workbooks and documents are not read, and
  a zip inside a zip is the classic way to multiply a bomb);
- the shared-string table (the part openpyxl would read as it) at most ``MAX_SHARED_STRING_BYTES`` and ``MAX_SHARED_STRINGS``
  entries, counted while streaming it in small pieces.

The sizes in the central directory can lie, but not to openpyxl's harm: Python's zipfile
never returns more bytes for a part than the size its directory entry declares.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from typing import Any

from core.domain import IMPORT_MAX_BYTES

MAX_PARTS = 1_000
# A workbook holding the most text an import may hold (IMPORT_MAX_BYTES) needs about that
# much XML for its strings and a fraction of it for the sheet; four times leaves room for
# text that takes several bytes per character, and for styles, without room for a bomb.
MAX_PART_BYTES = 4 * IMPORT_MAX_BYTES
MAX_TOTAL_BYTES = 5 * IMPORT_MAX_BYTES
MAX_SHARED_STRING_BYTES = 2 * IMPORT_MAX_BYTES
# openpyxl keeps every entry as a Python string (and an emptied XML element), about 150
# bytes each before its text: a million is about 150 MB, and more than a 100,000-row file
# of six distinct columns needs.
MAX_SHARED_STRINGS = 1_000_000
# 46 bytes per entry plus its name; a workbook's directory is a few kilobytes.
_MAX_DIRECTORY_BYTES = MAX_PARTS * 512
_CONTENT_TYPES = "[Content_Types].xml"
_MAX_CONTENT_TYPES_BYTES = 1024 * 1024
_SHARED_STRINGS_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
)
_STRING_ENTRY = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")
_CHUNK = 1024 * 1024
_MB = 1024 * 1024


class UnsafeArchive(ValueError):
    """The file is not an archive openpyxl may open; ``str()`` says why, naming the part."""


def _end_record(data: bytes) -> tuple[int, int]:
    """(parts, central directory bytes) as the archive's end record declares them, found the
    way Python's zipfile finds it (the last end record, zip64 where it says so)."""
    position = data.rfind(b"PK\x05\x06", max(len(data) - 65_557, 0))
    if position < 0 or len(data) - position < 22:
        raise UnsafeArchive("it is not a zip archive (an .xlsx file is one)")
    parts, size = struct.unpack_from("<HL", data, position + 10)
    locator = position - 20
    if locator >= 56 and data[locator : locator + 4] == b"PK\x06\x07":
        record = locator - 56
        if data[record : record + 4] == b"PK\x06\x06":
            parts, size = struct.unpack_from("<QQ", data, record + 32)
    return parts, size


def _check_directory(data: bytes) -> None:
    parts, size = _end_record(data)
    if parts > MAX_PARTS or size > _MAX_DIRECTORY_BYTES:
        raise UnsafeArchive(f"it has more than {MAX_PARTS:,} parts; a workbook has a few dozen")


def _check_parts(archive: zipfile.ZipFile) -> None:
    infos = archive.infolist()
    if len(infos) > MAX_PARTS:
        raise UnsafeArchive(f"it has {len(infos):,} parts (at most {MAX_PARTS:,})")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise UnsafeArchive(f"part {info.filename} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnsafeArchive(
                f"part {info.filename} is compressed with method {info.compress_type}, "
                "which Excel does not write"
            )
        if info.file_size > MAX_PART_BYTES:
            raise UnsafeArchive(
                f"part {info.filename} unpacks to {info.file_size / _MB:,.0f} MB "
                f"(at most {MAX_PART_BYTES // _MB} MB)"
            )
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise UnsafeArchive(
                f"its parts unpack to more than {MAX_TOTAL_BYTES // _MB} MB (at part "
                f"{info.filename})"
            )
    for info in infos:
        with archive.open(info) as part:
            if part.read(4) in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
                raise UnsafeArchive(
                    f"part {info.filename} is another zip archive inside it; save the sheet "
                    "without embedded files"
                )


def _shared_string_part(archive: zipfile.ZipFile) -> str | None:
    """The part openpyxl will read as the shared-string table (it may have any name), found
    with openpyxl's own reading of the content types, so that the two cannot disagree."""
    from openpyxl.packaging.manifest import Manifest
    from openpyxl.xml.constants import SHARED_STRINGS
    from openpyxl.xml.functions import fromstring

    try:
        info = archive.getinfo(_CONTENT_TYPES)
    except KeyError:
        return None  # openpyxl refuses such a file itself
    if info.file_size > _MAX_CONTENT_TYPES_BYTES:
        raise UnsafeArchive(f"part {_CONTENT_TYPES} is larger than a workbook's ever is")
    try:
        tree: Any = fromstring(archive.read(info))  # the stubs type it too narrowly
        manifest: Any = Manifest.from_tree(tree)
        found = manifest.find(SHARED_STRINGS)
    except Exception as exc:  # openpyxl raises many kinds for a broken manifest
        raise UnsafeArchive(f"part {_CONTENT_TYPES} cannot be read ({exc})") from None
    name = str(found.PartName)[1:] if found is not None else None
    return name if name in archive.NameToInfo else None


def _check_shared_strings(archive: zipfile.ZipFile, name: str) -> None:
    info = archive.getinfo(name)
    if info.file_size > MAX_SHARED_STRING_BYTES:
        raise UnsafeArchive(
            f"part {name} (the shared strings) unpacks to {info.file_size / _MB:,.0f} MB "
            f"(at most {MAX_SHARED_STRING_BYTES // _MB} MB)"
        )
    count = 0
    tail = b""
    with archive.open(info) as part:
        while chunk := part.read(_CHUNK):
            window = tail + chunk
            # An entry is counted in the piece where its tag ends, so never twice.
            count += sum(1 for m in _STRING_ENTRY.finditer(window) if m.end() > len(tail))
            if count > MAX_SHARED_STRINGS:
                raise UnsafeArchive(
                    f"part {name} holds more than {MAX_SHARED_STRINGS:,} shared strings"
                )
            tail = window[-64:]


def check_workbook(data: bytes) -> None:
    """``UnsafeArchive`` unless ``data`` is a zip archive openpyxl may open in bounded time
    and memory."""
    _check_directory(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_parts(archive)
            if shared_strings := _shared_string_part(archive):
                _check_shared_strings(archive, shared_strings)
    except zipfile.BadZipFile as exc:
        raise UnsafeArchive(f"it is a broken zip archive ({exc})") from None
    except (zipfile.LargeZipFile, NotImplementedError, EOFError, OSError) as exc:
        raise UnsafeArchive(f"it cannot be unpacked ({exc})") from None
