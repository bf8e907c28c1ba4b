"""A compilation's files (training set, validation report, metrics) as downloads, named after
the compilation and served as what they are (stored gzipped, handed out plain)."""

from __future__ import annotations

import gzip
from dataclasses import dataclass

from sqlalchemy import select

from core.errors import NotFound
from core.models import Compilation, CompilationAsset
from core.permissions import Actor, Permission, requires
from core.services.shared import get_or_404
from core.uow import UnitOfWork


@dataclass(frozen=True)
class AssetFile:
    filename: str
    media_type: str
    content: bytes


_MEDIA_TYPES = {".jsonl": "application/jsonl", ".json": "application/json", ".txt": "text/plain"}


def is_gzip(filename: str, media_type: str) -> bool:
    return media_type == "application/gzip" and filename.endswith(".gz")


def download_name(compilation_id: int, filename: str, media_type: str) -> tuple[str, str]:
    """The name and type a stored file downloads as: uncompressed, and named after its
    compilation, so that the files of several compilations do not overwrite each other."""
    if is_gzip(filename, media_type):
        filename = filename.removesuffix(".gz")
        media_type = _MEDIA_TYPES.get(filename[filename.rfind(".") :], "application/octet-stream")
    prefix = f"compilation-{compilation_id}"
    return (filename if filename.startswith(prefix) else f"{prefix}-{filename}"), media_type


@requires(Permission.READ)
def get_asset(uow: UnitOfWork, actor: Actor, compilation_id: int, kind: str) -> AssetFile:
    """A stored file of a compilation, uncompressed; the build log is also served from the
    log itself when no file of it was stored."""
    with uow:
        c = get_or_404(uow.session, Compilation, compilation_id, "Compilation")
        asset = uow.session.scalar(
            select(CompilationAsset).where(
                CompilationAsset.compilation_id == compilation_id, CompilationAsset.kind == kind
            )
        )
        if asset is not None:
            content = bytes(asset.content)
            if is_gzip(asset.filename, asset.media_type):
                content = gzip.decompress(content)
            return AssetFile(
                *download_name(compilation_id, asset.filename, asset.media_type), content
            )
        if kind == "build_log" and c.build_log:
            return AssetFile(
                f"compilation-{c.id}-build-log.txt", "text/plain", c.build_log.encode("utf-8")
            )
        raise NotFound(f"Compilation #{compilation_id} has no {kind.replace('_', ' ')} stored.")
