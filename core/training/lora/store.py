"""Where each trained version's adapter is kept for every instance to read: a directory (the
default ``<data>/open-weights/adapters``, or a shared one), or an S3-compatible bucket
(``ARBITER_ADAPTER_STORE=s3://bucket[/prefix]``; ``ARBITER_S3_ENDPOINT_URL`` for MinIO, Ceph,
R2 and the like).

Every instance reads an adapter from a local folder ``<cache>/<model>``. With a directory
store that folder *is* the store. With a bucket, the training process uploads the folder it
saved (every file, ``arbiter.json`` last: a reader that sees it in the bucket sees a whole
adapter) before its job reports success, and an instance without the folder downloads it
into a temporary folder renamed into place: concurrent readers are safe and a half download
is never used. Credentials come only from boto3's own chain (``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, instance roles): nothing here stores, shows or
logs one, and errors carry only the bucket, the action and the server's error code.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from core import config
from core.errors import ProviderError
from core.training.lora.errors import AdapterMissing, AdapterStoreFailed

__all__ = [
    "COMPLETE",
    "AdapterStore",
    "DirectoryStore",
    "S3Store",
    "complete",
    "from_config",
    "open_store",
]

# Written last into an adapter folder (and uploaded last): its presence marks a whole adapter.
COMPLETE = "arbiter.json"
# Attempts per request (botocore's "standard" retry mode: 5xx, SlowDown, throttling, resets).
MAX_ATTEMPTS = 5
TIMEOUT_SECONDS = 60.0
# An adapter is a handful of files: a listing longer than this many pages is not one.
MAX_LIST_PAGES = 10
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class AdapterStore(Protocol):
    """Where adapters are kept; ``local(model)`` is the folder this instance reads."""

    @property
    def url(self) -> str:
        """What ``ARBITER_ADAPTER_STORE`` says for this store (a path, or ``s3://...``)."""
        ...

    def local(self, model: str) -> Path: ...

    def publish(self, model: str) -> None:
        """Make the complete adapter at ``local(model)`` readable by every instance."""
        ...

    def fetch(self, model: str) -> Path:
        """``local(model)``, complete (downloaded first if needed); AdapterMissing if the
        store has no complete adapter of ``model``."""
        ...


def complete(folder: Path) -> bool:
    return (folder / COMPLETE).is_file()


def _checked(model: str) -> str:
    if not _NAME.fullmatch(model) or ".." in model:
        raise ProviderError(f"{model!r} is not the name of a trained adapter.")
    return model


class DirectoryStore:
    """Adapters in a folder every instance mounts (the default: this data directory's)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def url(self) -> str:
        return str(self.folder)

    def local(self, model: str) -> Path:
        return self.folder / _checked(model)

    def publish(self, model: str) -> None:
        """The training wrote the adapter into the store itself: nothing to do."""

    def fetch(self, model: str) -> Path:
        path = self.local(model)
        if not complete(path):
            raise AdapterMissing(f"The adapter of {model} is missing ({path}).")
        return path


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # "" or "some/path/"

    @classmethod
    def parse(cls, url: str) -> S3Location:
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
            raise ProviderError(
                f"ARBITER_ADAPTER_STORE names no valid bucket ({url}): write s3://bucket[/prefix]."
            )
        prefix = prefix.strip("/")
        return cls(bucket, f"{prefix}/" if prefix else "")

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def folder(self, model: str) -> str:
        return f"{self.prefix}{model}/"


_clients: dict[tuple[str | None, int, float], Any] = {}
_clients_lock = threading.Lock()


def _client(endpoint_url: str | None, attempts: int, timeout: float) -> Any:
    """One boto3 S3 client per endpoint and settings (clients are thread-safe; building one
    costs tens of milliseconds). Credentials: boto3's standard chain, read by boto3."""
    key = (endpoint_url, attempts, timeout)
    with _clients_lock:
        found = _clients.get(key)
        if found is None:
            import boto3
            from botocore.config import Config

            settings = Config(
                retries={"max_attempts": attempts, "mode": "standard"},
                connect_timeout=timeout,
                read_timeout=timeout,
                # S3-compatible servers (MinIO, Ceph) answer on one host: bucket in the path.
                s3={"addressing_style": "path"} if endpoint_url else {},
            )
            session = boto3.session.Session()
            found = session.client("s3", endpoint_url=endpoint_url, config=settings)
            _clients[key] = found
        return found


class S3Store:
    """Adapters in an S3-compatible bucket, with this instance's copies in ``cache``."""

    def __init__(
        self,
        url: str,
        cache: Path,
        *,
        endpoint_url: str | None = None,
        attempts: int = MAX_ATTEMPTS,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.location = S3Location.parse(url)
        self.cache = cache
        self.endpoint_url = endpoint_url
        self.attempts = attempts
        self.timeout = timeout

    @property
    def url(self) -> str:
        return str(self.location)

    @property
    def client(self) -> Any:
        return _client(self.endpoint_url, self.attempts, self.timeout)

    def local(self, model: str) -> Path:
        return self.cache / _checked(model)

    def publish(self, model: str) -> None:
        """Upload every file of the saved adapter, ``arbiter.json`` last; nothing when the
        bucket already holds the whole adapter (an earlier process uploaded it, then died)."""
        local = self.local(model)
        if not complete(local):
            raise AdapterMissing(f"The adapter of {model} is missing ({local}).")
        files = sorted(p for p in local.rglob("*") if p.is_file() and p.name != COMPLETE)
        with self._translate(f"take the adapter {model}"):
            if COMPLETE in self._names(model):
                return
            for path in [*files, local / COMPLETE]:
                key = self.location.folder(model) + path.relative_to(local).as_posix()
                self.client.upload_file(str(path), self.location.bucket, key)

    def fetch(self, model: str) -> Path:
        local = self.local(model)
        if complete(local):
            return local
        with self._translate(f"read the adapter {model}"):
            names = self._names(model)
        if COMPLETE not in names:
            raise AdapterMissing(
                f"The adapter of {model} is not in the adapter store {self.url} "
                f"(no {self.location.folder(model)}{COMPLETE} in bucket {self.location.bucket})."
            )
        partial = local.with_name(f".{model}.{os.getpid()}.{threading.get_ident()}.download")
        shutil.rmtree(partial, ignore_errors=True)
        try:
            with self._translate(f"download the adapter {model}"):
                for name in [*sorted(n for n in names if n != COMPLETE), COMPLETE]:
                    target = partial / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    key = self.location.folder(model) + name
                    self.client.download_file(self.location.bucket, key, str(target))
                try:
                    partial.rename(local)
                except OSError:
                    if not complete(local):  # else another reader placed it first: fine
                        raise
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        return local

    def _names(self, model: str) -> set[str]:
        """The files of ``model``'s adapter in the bucket, relative to its folder."""
        folder = self.location.folder(model)
        names: set[str] = set()
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.location.bucket, Prefix=folder
        )
        for number, page in enumerate(pages):
            if number >= MAX_LIST_PAGES:
                raise AdapterStoreFailed(f"{folder} in {self.url} holds too many files.")
            for item in page.get("Contents", []):
                name = str(item["Key"])[len(folder) :]
                parts = name.split("/")
                if name and not name.endswith("/") and ".." not in parts and "" not in parts:
                    names.add(name)
        return names

    @contextmanager
    def _translate(self, action: str) -> Iterator[None]:
        """One line naming the bucket, the action and the reason; the SDK's exception is
        not chained (nothing of the request's signing reaches a log)."""
        try:
            yield
        except (AdapterStoreFailed, AdapterMissing):
            raise
        except Exception as exc:
            reason = _reason(exc, self.endpoint_url)
            if reason is None:
                raise
            text = f"The adapter store {self.url} could not {action}: {reason}"
            raise AdapterStoreFailed(" ".join(text.split())) from None


def _reason(exc: Exception, endpoint_url: str | None) -> str | None:
    """Why an SDK call failed, in words fit for a user (None: not an SDK or disk error)."""
    from boto3.exceptions import Boto3Error, S3UploadFailedError
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
    )

    cause = (exc.__cause__ or exc.__context__) if isinstance(exc, S3UploadFailedError) else exc
    if isinstance(cause, ClientError):
        error = cause.response.get("Error", {})
        status = cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = str(error.get("Code") or f"HTTP {status}")
        message = str(error.get("Message") or "").strip()
        reason = f"{code} ({message})" if message and message != code else code
        if status == 403 or code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            reason += "; check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
            reason += "AWS_PROFILE) and their permissions on the bucket"
        return reason + "."
    if isinstance(cause, NoCredentialsError):
        return (
            "no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or "
            "AWS_PROFILE) for this process."
        )
    if isinstance(cause, EndpointConnectionError):
        where = endpoint_url or "the S3 endpoint"
        return f"the server does not answer ({where} cannot be reached)."
    if isinstance(cause, BotoCoreError | Boto3Error):
        return f"{type(cause).__name__}: {cause}."
    if isinstance(exc, OSError):
        return f"the local copy could not be written ({exc.strerror or exc})."
    return None


def open_store(url: str | None, cache: Path, *, endpoint_url: str | None = None) -> AdapterStore:
    """The store ``url`` names (``ARBITER_ADAPTER_STORE``: a directory or
    ``s3://bucket[/prefix]``; empty: ``cache`` itself), reading into ``cache``."""
    if not url:
        return DirectoryStore(cache)
    if url.startswith("s3://"):
        return S3Store(url, cache, endpoint_url=endpoint_url or config.s3_endpoint_url())
    if "://" in url:
        raise ProviderError(
            f"ARBITER_ADAPTER_STORE must be a directory or s3://bucket[/prefix], not {url}."
        )
    return DirectoryStore(Path(url).expanduser())


def from_config(root: Path) -> AdapterStore:
    """The configured store of a data directory's open-weights ``root``."""
    return open_store(config.adapter_store(), root / "adapters")
