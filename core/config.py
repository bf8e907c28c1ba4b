"""Settings read from the environment, and secrets read from the environment or Streamlit's
secrets file (parsed here with tomllib so that ``core`` stays free of Streamlit)."""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent


# The data folder holds the SQLite database (every Q&A, chat and password hash), the local
# provider's indexes and adapters and the demo credentials: only its owner may read it.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private(path: Path, mode: int) -> None:
    """Take group and other permissions off ``path`` (ours, and looser than ``mode``)."""
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(mode)
    except (FileNotFoundError, PermissionError):
        pass  # not there (yet), or not ours to change: the owner's choice stands


def data_dir() -> Path:
    path = Path(os.environ.get("ARBITER_DATA_DIR", PROJECT_DIR / "data"))
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    make_private(path, PRIVATE_DIR_MODE)
    return path


def keep_files_private() -> None:
    """Files and folders this process creates are its user's alone (umask 077): the SQLite
    journal, indexes, adapters, exports. Called once by each entry point (the app, the
    worker, the command line), never by library code."""
    os.umask(0o077)


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        # Heroku-style URLs name the driver "postgres"; SQLAlchemy wants psycopg explicitly.
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url
    return f"sqlite:///{data_dir() / 'arbiter.db'}"


def sqlite_busy_seconds() -> float:
    """How long a SQLite connection waits for another's write lock before giving up."""
    return float(os.environ.get("ARBITER_SQLITE_BUSY_SECONDS", "30"))


def secrets_files() -> list[Path]:
    """Where Streamlit looks for secrets, in its own order of precedence (last wins)."""
    return [
        Path.home() / ".streamlit" / "secrets.toml",
        PROJECT_DIR / ".streamlit" / "secrets.toml",
    ]


@cache
def _secrets() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in secrets_files():
        if path.is_file():
            with path.open("rb") as fh:
                merged.update(tomllib.load(fh))
    return merged


def secret(name: str) -> str | None:
    """A secret by name: the environment first, then the secrets file (top level)."""
    value = os.environ.get(name)
    if value:
        return value
    found = _secrets().get(name)
    return str(found) if isinstance(found, str | int) and str(found) else None


def secrets_section(name: str) -> dict[str, Any]:
    section = _secrets().get(name)
    return section if isinstance(section, dict) else {}


def reload_secrets() -> None:
    _secrets.cache_clear()


def currency() -> str:
    """The currency that connection prices and budgets are in (OpenAI bills in USD)."""
    return os.environ.get("ARBITER_CURRENCY", "USD").strip() or "USD"


def adapter_store() -> str | None:
    """Where trained adapters are kept for every instance (``ARBITER_ADAPTER_STORE``): a
    directory, or an S3-compatible bucket ``s3://bucket[/prefix]``; None: the data
    directory's ``open-weights/adapters``. Bucket credentials are boto3's own (environment,
    profiles, instance roles), never a setting of the studio."""
    return os.environ.get("ARBITER_ADAPTER_STORE", "").strip() or None


def s3_endpoint_url() -> str | None:
    """The endpoint of an S3-compatible server (MinIO, Ceph, R2...); None: AWS S3."""
    return os.environ.get("ARBITER_S3_ENDPOINT_URL", "").strip() or None
