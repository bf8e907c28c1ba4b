"""``python -m core backup FILE`` and ``python -m core restore FILE``.

A backup is one tar file: ``manifest.json`` (format, backend, schema revision, when), the
database (SQLite's online backup API, a consistent copy while the app writes; ``pg_dump``
in its custom format for PostgreSQL, a consistent snapshot too) and every file under the
data folder (the local provider's indexes, adapters, demo credentials) but the database's
own files and caches that rebuild themselves. It is written 0600: it holds every password
hash and all training data.

A restore goes into an empty database of the same backend (refused otherwise unless
``--force``), puts the files back, and then upgrades the schema: a backup made by an older
version is the way back after a failed upgrade, and one made by a newer version than this
code knows is refused.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, func, inspect, select, table
from sqlalchemy.engine import make_url

from core import config, db
from core.domain import utcnow
from core.errors import ArbiterError

FORMAT = 1
_MANIFEST = "manifest.json"
_DATABASE = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}
_FILES = "files/"
_CACHES = ("tiktoken-cache",)  # rebuilt on demand; not worth keeping
# What a running worker is still writing (".partial") or swapping out (".old0"): the worker
# that finishes it publishes it under its own name, or a restored studio's worker redoes it.
_UNFINISHED = re.compile(r"\.partial(\.old\d+)?$")


def _sqlite_file(engine: Engine) -> Path:
    name = make_url(str(engine.url)).database
    if not name or name == ":memory:":
        raise ArbiterError("An in-memory SQLite database has nothing to back up or restore.")
    return Path(name)


def _pg_command(engine: Engine, tool: str) -> tuple[list[str], dict[str, str]]:
    """A libpq tool with the connection in its environment (no password on a command line)."""
    if shutil.which(tool) is None:
        raise ArbiterError(f"{tool} is not installed; install the PostgreSQL client tools.")
    url = engine.url
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    target = url.set(drivername="postgresql", password=None)
    return [tool, "--dbname", target.render_as_string(hide_password=False)], env


def _run(command: list[str], env: dict[str, str]) -> None:
    # The tool is found on PATH by name and every argument is ours: no shell, no user text.
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        reason = " ".join(done.stderr.split())[:500]
        raise ArbiterError(f"{command[0]} failed: {reason}")


def _data_files(data: Path, skip: set[Path]) -> list[Path]:
    found = []
    for path in sorted(data.rglob("*")):
        relative = path.relative_to(data)
        if (
            path.is_file()
            and path not in skip
            and relative.parts[0] not in _CACHES
            and not any(_UNFINISHED.search(part) for part in relative.parts)
        ):
            found.append(path)
    return found


def _add_file(archive: tarfile.TarFile, path: Path, name: str) -> bool:
    """Add a file as it is at the moment it is opened. Files are replaced by renaming a
    finished copy over them, so the open file stays whole while a worker writes its
    successor; one that is gone by now was replaced by a folder swap or removed."""
    try:
        with path.open("rb") as fh:
            archive.addfile(archive.gettarinfo(arcname=name, fileobj=fh), fh)
    except FileNotFoundError:
        return False
    return True


def backup(target: Path) -> str:
    """Write a backup of the configured database and data folder to ``target``."""
    engine = db.get_engine()
    revision = db.current_revision(engine)
    if revision is None:
        raise ArbiterError("The database has no schema yet; there is nothing to back up.")
    backend = engine.dialect.name
    data = config.data_dir()
    target = target.resolve()
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".backup-") as work:
        dumped = Path(work) / _DATABASE[backend]
        skip = {target}
        if backend == "sqlite":
            source_path = _sqlite_file(engine)
            skip |= {source_path, Path(f"{source_path}-wal"), Path(f"{source_path}-shm")}
            with sqlite3.connect(source_path) as source, sqlite3.connect(dumped) as copy:
                source.backup(copy)  # a consistent copy, page by page, while others write
            source.close()
            copy.close()
        else:
            command, env = _pg_command(engine, "pg_dump")
            _run([*command, "--format=custom", "--no-owner", "--file", str(dumped)], env)
        partial = Path(work) / "backup.tar"
        with tarfile.open(partial, "w") as archive:
            archive.add(dumped, _DATABASE[backend])
            # Files are read after the database: none is older than the database says, so
            # a restored worker finds each job at least as far as its compilation's record.
            files = [
                path
                for path in _data_files(data, {p.resolve() for p in skip})
                if _add_file(archive, path, _FILES + path.relative_to(data).as_posix())
            ]
            manifest = {
                "format": FORMAT,
                "backend": backend,
                "revision": revision,
                "created_at": utcnow().isoformat(),
                "files": len(files),
            }
            _add_bytes(archive, _MANIFEST, json.dumps(manifest, indent=2).encode())
        partial.chmod(config.PRIVATE_FILE_MODE)
        os.replace(partial, target)
    return (
        f"Backed up the {backend} database (schema {revision}) and {len(files):,} data files "
        f"to {target}."
    )


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now().timestamp())
    info.mode = config.PRIVATE_FILE_MODE
    archive.addfile(info, io.BytesIO(data))


def _manifest(archive: tarfile.TarFile, source: Path) -> dict[str, object]:
    try:
        member = archive.extractfile(_MANIFEST)
        manifest: dict[str, object] = json.loads(member.read()) if member else {}
    except (KeyError, ValueError):
        raise ArbiterError(f"{source} is not an Arbiter Studio backup (no manifest).") from None
    if manifest.get("format") != FORMAT:
        raise ArbiterError(
            f"{source} has backup format {manifest.get('format')}; this is {FORMAT}."
        )
    return manifest


def _check_revision(engine: Engine, revision: str) -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(db.alembic_config(engine))
    try:
        known = scripts.get_revision(revision)
    except Exception:
        known = None
    if known is None:
        raise ArbiterError(
            f"The backup's schema ({revision}) is newer than this version of Arbiter Studio "
            "knows; restore it with the version that made it."
        )


def _rows(engine: Engine) -> int:
    """Rows in the database's tables, the schema's own bookkeeping aside."""
    with engine.connect() as connection:
        names = [n for n in inspect(connection).get_table_names() if n != "alembic_version"]
        return sum(
            connection.scalar(select(func.count()).select_from(table(n))) or 0 for n in names
        )


def restore(source: Path, *, force: bool = False) -> str:
    """Restore a backup into the configured (empty) database and data folder."""
    engine = db.get_engine()
    backend = engine.dialect.name
    try:
        archive = tarfile.open(source, "r")  # noqa: SIM115 (closed by the with below)
    except (OSError, tarfile.TarError) as exc:
        raise ArbiterError(f"{source} cannot be read as a backup ({exc}).") from None
    with archive, tempfile.TemporaryDirectory(prefix=".restore-") as work:
        manifest = _manifest(archive, source)
        if manifest.get("backend") != backend:
            raise ArbiterError(
                f"{source} is a backup of a {manifest.get('backend')} database; the configured "
                f"database is {backend}."
            )
        revision = str(manifest.get("revision"))
        _check_revision(engine, revision)
        rows = _rows(engine)
        if rows and not force:
            raise ArbiterError(
                f"The database already holds {rows:,} rows; restore into an empty one, or pass "
                "--force to replace everything in it."
            )
        archive.extract(_DATABASE[backend], work, filter="data")
        dumped = Path(work) / _DATABASE[backend]
        db.dispose_engines()
        engine.dispose()
        if backend == "sqlite":
            with sqlite3.connect(dumped) as copy, sqlite3.connect(_sqlite_file(engine)) as live:
                copy.backup(live)
            copy.close()
            live.close()
        else:
            command, env = _pg_command(engine, "pg_restore")
            _run([*command, "--clean", "--if-exists", "--no-owner", "--single-transaction",
                  str(dumped)], env)  # fmt: skip
        files = _restore_files(archive, config.data_dir())
    db.upgrade(db.get_engine())
    return (
        f"Restored the {backend} database (schema {revision}, now "
        f"{db.current_revision(db.get_engine())}) and {files:,} data files from {source}."
    )


def _restore_files(archive: tarfile.TarFile, data: Path) -> int:
    members = []
    for member in archive.getmembers():
        if member.name.startswith(_FILES) and member.isfile():
            member.name = member.name[len(_FILES) :]
            members.append(member)
    # The "data" filter refuses absolute names, "..", links out of the folder and devices.
    archive.extractall(data, members=members, filter="data")
    for member in members:
        (data / member.name).chmod(config.PRIVATE_FILE_MODE)
    return len(members)
