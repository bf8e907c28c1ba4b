"""The API key never leaves the environment: a distinctive fake key is planted in the
variable an OpenAI connection names, and everything that talks to the (fake) provider is
exercised — test connection, compilations (in process and in a worker process, one of them
refused for its key), chat, every export and download, the pages — with logging at DEBUG.
Then the whole database (every column of every table), the log output, the worker's output,
the exports, the files the app wrote and the rendered pages are searched for the key.

The searches are shown to find a planted value too, on a scratch row and a scratch page, so
that a search that silently looks nowhere cannot pass.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import secrets
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from core.csv_export import frame_to_csv
from core.domain import ChatKind, CompilationStatus, ProviderType
from core.models import Base, ProviderConnection
from core.permissions import Actor
from core.services import catalog, chat, compilation, history, qas
from core.services.catalog import ConnectionInput
from core.services.qas import QAQuery
from core.uow import UnitOfWork
from tests.compile_helpers import add_qas, drain, make_model
from tests.openai_server import FakeOpenAI, Fault
from tests.paths import ROOT
from ui.context import USER_KEY

KEY_ENV = "ARBITER_KEY_PLANTED_OPENAI"
Uows = Callable[[], UnitOfWork]


@dataclass
class World:
    key: str
    server: FakeOpenAI
    connection_id: int
    model_id: int
    data_dir: Path
    db_url: str


def _secret_parts(key: str) -> list[str]:
    # Providers echo keys masked (first and last few characters); the body must never show.
    return [key, key[8:-4]]


@pytest.fixture
def world(
    db_url: str,
    new_uow: Uows,
    admin: Actor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    key = f"sk-proj-{secrets.token_hex(20)}-planted"
    data_dir = tmp_path / "data"
    monkeypatch.setenv("ARBITER_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ARBITER_OPENAI_TIMEOUT", "5")
    monkeypatch.setenv(KEY_ENV, key)
    with FakeOpenAI(api_key=key) as server:
        conn = catalog.create_connection(
            new_uow(),
            admin,
            ConnectionInput(
                name="OpenAI",
                provider_type=ProviderType.OPENAI,
                base_url=server.base_url,
                api_key_env=KEY_ENV,
                default_base_model="gpt-4o-mini-2024-07-18",
                price_per_million_tokens=Decimal("3"),
            ),
        )
        model = make_model(new_uow, admin, "Cloud Arbiter", connection_id=conn.id)
        add_qas(new_uow, model)
        yield World(key, server, conn.id, model, data_dir, db_url)


# --- where to look -------------------------------------------------------------------------


def _value_bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str).encode()
    return str(value).encode()


def database_hits(session: Session, needles: list[str]) -> list[str]:
    """``table.column`` of every stored value that holds a needle: every column of every
    table, whatever its type (text, JSON, binary)."""
    wanted = [n.encode() for n in needles]
    hits: set[str] = set()
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)):
            for column, value in zip(table.columns, row, strict=True):
                data = _value_bytes(value)
                if any(n in data for n in wanted):
                    hits.add(f"{table.name}.{column.name}")
    return sorted(hits)


def page_bytes(at: AppTest) -> bytes:
    """Everything a rendered page sent to the browser: each element's message, as bytes
    (tables travel as Arrow, whose strings are plain UTF-8), and the widget state."""
    parts: list[bytes] = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "SerializeToString"):
            parts.append(proto.SerializeToString())
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    parts += [_value_bytes(v) for v in at.session_state.to_dict().values()]
    return b"\n".join(parts)


def _hits(blobs: dict[str, bytes], needles: list[str]) -> list[str]:
    return sorted(name for name, data in blobs.items() if any(n.encode() in data for n in needles))


# --- what to do ------------------------------------------------------------------------------


def _compile(new_uow: Uows, trainer: Actor, model_id: int) -> compilation.CompilationView:
    requested = compilation.request_compilation(new_uow(), trainer, model_id, force=True)
    drain(new_uow)
    return compilation.get_compilation(new_uow(), trainer, requested.id)


def _worker_compiles(w: World, new_uow: Uows, trainer: Actor) -> tuple[int, str]:
    """A compilation run by ``python -m core.worker`` with the SDK's own debug logging on;
    returns its id and everything the process printed."""
    requested = compilation.request_compilation(new_uow(), trainer, w.model_id, force=True)
    env = {
        **os.environ,
        "DATABASE_URL": w.db_url,
        "OPENAI_LOG": "debug",
        "ARBITER_POLL_SECONDS": "0.02",
        "ARBITER_RETRY_SECONDS": "0.05",
        "ARBITER_JOB_DOUBT_SECONDS": "1.5",
    }
    done = subprocess.run(
        [sys.executable, "-m", "core.worker", "--idle", "0.05", "--exit-when-idle", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return requested.id, done.stdout + done.stderr


def _exports(w: World, new_uow: Uows, manager: Actor, compiled: list[int]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    query = QAQuery(model_id=w.model_id)
    for kind in ("csv", "xlsx", "jsonl"):
        files[f"qas.{kind}"] = qas.export_qas(new_uow(), manager, query, kind).data
    files["training-set.jsonl"] = compilation.export_training_set(new_uow(), manager, w.model_id)
    archive = catalog.export_training_sets(new_uow(), manager).as_zip()
    files["training-sets.zip"] = archive
    with zipfile.ZipFile(io.BytesIO(archive)) as unpacked:
        for name in unpacked.namelist():
            files[f"training-sets.zip/{name}"] = unpacked.read(name)
    frames = {
        "compilations-per-week": history.compilations_per_week(new_uow(), manager),
        "success-and-duration": history.weekly_outcomes(new_uow(), manager),
        "training-data-growth": history.training_data_growth(new_uow(), manager),
        "history": pd.DataFrame(
            [
                dataclasses.asdict(r)
                for r in history.list_compilations(new_uow(), manager, limit=500).rows
            ]
        ),
    }
    for compilation_id in compiled:
        frames[f"metrics-{compilation_id}"] = history.training_metrics(
            new_uow(), manager, compilation_id
        )
        detail = history.get_compilation(new_uow(), manager, compilation_id)
        for asset in detail.assets:
            got = history.get_asset(new_uow(), manager, compilation_id, asset.kind)
            files[f"compilation-{compilation_id}/{got.filename}"] = got.content
        files[f"compilation-{compilation_id}/build-log"] = detail.build_log.encode()
    for name, frame in frames.items():
        files[f"{name}.csv"] = frame_to_csv(frame)
    return files


def _open(
    url: str, user_id: int, page: str, monkeypatch: pytest.MonkeyPatch, **query: Any
) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state[USER_KEY] = user_id
    at.run()
    at.switch_page(page)
    for name, value in query.items():
        at.query_params[name] = str(value)
    at.run()
    assert not at.exception, at.exception
    return at


def _pages(
    w: World, admin: Actor, compiled: list[int], chat_id: int, monkeypatch: pytest.MonkeyPatch
) -> dict[str, bytes]:
    assert admin.user_id is not None
    rendered: dict[str, bytes] = {}
    at = _open(w.db_url, admin.user_id, "pages/connections.py", monkeypatch)
    listing = at.dataframe[0].value
    assert list(listing["Key"]) == ["present"]  # said, never shown
    assert list(listing["Key variable"]) == [KEY_ENV]
    rendered["connections"] = page_bytes(at)
    at.selectbox(key="connections_pick").select(w.connection_id).run()
    rendered["connection form"] = page_bytes(at)
    next(b for b in at.button if b.label == "Test connection").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Connected" in s.value for s in at.success)
    rendered["connection, tested"] = page_bytes(at)
    for compilation_id in compiled:
        at = _open(
            w.db_url,
            admin.user_id,
            "pages/compilations.py",
            monkeypatch,
            compilation=compilation_id,
        )
        rendered[f"compilation {compilation_id}"] = page_bytes(at)
    for page, query in [
        ("pages/dashboard.py", {}),
        ("pages/models.py", {}),
        ("pages/chats.py", {"chat": chat_id}),
    ]:
        at = _open(w.db_url, admin.user_id, page, monkeypatch, **query)
        rendered[page] = page_bytes(at)
    return rendered


def test_no_api_key_in_the_database_logs_pages_or_exports(
    world: World,
    new_uow: Uows,
    admin: Actor,
    trainer: Actor,
    manager: Actor,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = world
    caplog.set_level(logging.DEBUG)
    for name in ("openai", "httpx", "httpcore", "arbiter", "core"):
        caplog.set_level(logging.DEBUG, logger=name)

    models = catalog.test_connection(new_uow(), admin, w.connection_id)
    assert models, "the connection test reached the fake provider"
    first = _compile(new_uow, trainer, w.model_id)
    assert first.status == CompilationStatus.SUCCEEDED, first.error
    # The provider refuses the key (as a revoked key): its message names it masked.
    masked = f"{w.key[:8]}{'*' * 20}{w.key[-4:]}"
    w.server.add_fault(
        "POST",
        r"/files",
        Fault.http_error(401, f"Incorrect API key provided: {masked}.", code="invalid_api_key"),
    )
    refused = _compile(new_uow, trainer, w.model_id)
    assert refused.status == CompilationStatus.FAILED
    by_worker, worker_output = _worker_compiles(w, new_uow, trainer)
    assert (
        compilation.get_compilation(new_uow(), trainer, by_worker).status
        == CompilationStatus.SUCCEEDED
    ), worker_output[-3000:]
    assert "HTTP Request: POST" in worker_output  # the SDK's debug logging was on

    direct = chat.create_chat(new_uow(), trainer, "", ChatKind.DIRECT, model_ids=[w.model_id])
    posted = chat.post_message(new_uow(), trainer, direct.id, "Do relays ship to Switzerland?")
    answer = "".join(
        d.text for d in chat.stream_answer(new_uow(), trainer, posted.pending_answers[0])
    )
    assert answer

    # The requests carried the key: it was there to leak.
    assert any(r.headers.get("authorization") == f"Bearer {w.key}" for r in w.server.request_log)
    compiled = [first.id, refused.id, by_worker]
    exports = _exports(w, new_uow, manager, compiled)
    pages = _pages(w, admin, compiled, direct.id, monkeypatch)
    files = {
        str(p.relative_to(w.data_dir)): p.read_bytes()
        for p in sorted(w.data_dir.rglob("*"))
        if p.is_file()
    }
    logs = {"log records": caplog.text.encode(), "worker output": worker_output.encode()}
    assert "api.openai" in caplog.text or "HTTP Request" in caplog.text

    needles = _secret_parts(w.key)
    uow = new_uow()
    with uow:
        assert database_hits(uow.session, needles) == []
    assert _hits(logs, needles) == []
    assert _hits(exports, needles) == []
    assert _hits(files, needles) == []
    assert _hits(pages, needles) == []


def test_the_searches_find_a_planted_value(
    world: World, new_uow: Uows, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same searches on a scratch row and a scratch page do find the key, and name the
    place: they look where the other test says nothing is."""
    w = world
    needles = _secret_parts(w.key)
    uow = new_uow()
    with uow:
        assert database_hits(uow.session, needles) == []
        uow.session.execute(
            update(ProviderConnection)
            .where(ProviderConnection.id == w.connection_id)
            .values(notes=f"pasted by mistake: {w.key}")
        )
        uow.session.flush()
        assert database_hits(uow.session, needles) == ["provider_connections.notes"]
        uow.session.rollback()
        assert database_hits(uow.session, needles) == []

    # A page that shows a value leaking (the connection's name) is caught too; the page
    # renders names in a table, so the Arrow path of the search is the one proved here.
    assert admin.user_id is not None
    with new_uow() as scratch:
        scratch.session.execute(
            update(ProviderConnection)
            .where(ProviderConnection.id == w.connection_id)
            .values(name=f"OpenAI {w.key[8:-4]}")
        )
        scratch.commit()
    at = _open(w.db_url, admin.user_id, "pages/connections.py", monkeypatch)
    assert _hits({"connections": page_bytes(at)}, needles) == ["connections"]


def test_no_azure_key_or_entra_token_in_the_database_logs_or_pages(
    db_url: str,
    new_uow: Uows,
    admin: Actor,
    trainer: Actor,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from core.providers import registry
    from tests.fakes.azure_openai import FakeAzureOpenAI
    from tests.fakes.entra import credential_for

    key = f"azure-{secrets.token_hex(16)}-planted"
    data_token = f"eyJ0eXAi.data-{secrets.token_hex(16)}.planted"
    arm_token = f"eyJ0eXAi.arm-{secrets.token_hex(16)}.planted"
    needles = [key, data_token, arm_token]
    monkeypatch.setenv("ARBITER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AZURE_OPENAI_API_KEY_PLANTED", key)
    caplog.set_level(logging.DEBUG)
    for name in ("openai", "httpx", "httpcore", "azure", "core"):
        caplog.set_level(logging.DEBUG, logger=name)
    with FakeAzureOpenAI(
        api_key=key, entra_tokens={data_token}, management_tokens={arm_token}
    ) as server:
        monkeypatch.setenv(registry.ARM_URL_ENV, server.management_url)
        registry.use_entra_credential(credential_for(server))
        try:
            conn = catalog.create_connection(
                new_uow(),
                admin,
                ConnectionInput(
                    name="Azure Sweden",
                    provider_type=ProviderType.AZURE_OPENAI,
                    base_url=server.endpoint,
                    api_key_env="AZURE_OPENAI_API_KEY_PLANTED",
                    default_base_model="gpt-4o-mini-2024-07-18",
                    azure_subscription_id=server.arm.subscription,
                    azure_resource_group=server.arm.resource_group,
                    azure_account_name=server.arm.account,
                ),
            )
            model = make_model(new_uow, admin, "Cloud Arbiter", connection_id=conn.id)
            add_qas(new_uow, model)
            assert catalog.test_connection(new_uow(), admin, conn.id)
            done = _compile(new_uow, trainer, model)
            assert done.status == CompilationStatus.SUCCEEDED, done.error
            assert server.arm.deployments, "Resource Manager was reached with the Entra token"
            direct = chat.create_chat(new_uow(), trainer, "", ChatKind.DIRECT, model_ids=[model])
            posted = chat.post_message(new_uow(), trainer, direct.id, "How long do returns take?")
            chat.answer_all(new_uow(), trainer, posted.pending_answers)
            assert admin.user_id is not None
            pages = {
                page: page_bytes(_open(db_url, admin.user_id, page, monkeypatch, **query))
                for page, query in [
                    ("pages/connections.py", {}),
                    ("pages/models.py", {"model": model}),
                    ("pages/compilations.py", {"compilation": done.id}),
                    ("pages/chats.py", {"chat": direct.id}),
                ]
            }
        finally:
            registry.use_entra_credential(None)
    uow = new_uow()
    with uow:
        assert database_hits(uow.session, needles) == []
    assert _hits(pages, needles) == []
    assert "HTTP Request" in caplog.text or "Request URL" in caplog.text
    assert [n for n in needles if n in caplog.text] == []
