"""Trainer workers: ``python -m core.worker --only training`` takes only compilations that
train on its machine (open-weights connections: GPU hosts), ``--no-training`` every other
one, so training scales out onto GPU machines sharing the database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.domain import CompilationStatus
from core.permissions import Actor
from core.services import compilation
from core.training.lora import models
from tests.compile_helpers import (
    TOPICS,
    Uows,
    add_qas,
    engine_env,
    local_connection,
    make_model,
    open_weights_connection,
    stored_compilation,
)
from tests.lora_helpers import base_model_cache
from tests.paths import ROOT

__all__ = ["base_model_cache", "engine_env"]
pytestmark = pytest.mark.usefixtures("engine_env", "base_model_cache")


def _queue_both(new_uow: Uows, admin: Actor, trainer: Actor) -> tuple[int, int]:
    """One compilation on an open-weights connection, one on the local retrieval one."""
    open_weights = open_weights_connection(new_uow, admin)
    tuned = make_model(
        new_uow, admin, "Tuned", connection_id=open_weights, base_model=models.BUNDLED_ID
    )
    retrieval = make_model(
        new_uow, admin, "Retrieval", connection_id=local_connection(new_uow, admin)
    )
    ids = []
    for model in (tuned, retrieval):
        add_qas(new_uow, model)
        ids.append(compilation.request_compilation(new_uow(), trainer, model).id)
    assert len(TOPICS) >= 10
    return ids[0], ids[1]


def _worker_once(db_url: str, *flags: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "core.worker", "--once", "--idle", "0", *flags],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": db_url},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_each_kind_of_worker_takes_only_its_compilations(
    db_url: str, new_uow: Uows, admin: Actor, trainer: Actor
) -> None:
    tuned, retrieval = _queue_both(new_uow, admin, trainer)

    _worker_once(db_url, "--only", "training")
    assert stored_compilation(new_uow, retrieval).attempts == 0, "not a training: left alone"
    assert stored_compilation(new_uow, tuned).attempts == 1

    before = stored_compilation(new_uow, tuned).attempts
    for _ in range(4):  # the retrieval compilation's steps: prepare, upload, follow, finish
        _worker_once(db_url, "--no-training")
    assert stored_compilation(new_uow, retrieval).status == CompilationStatus.SUCCEEDED
    assert stored_compilation(new_uow, tuned).attempts == before, "a training: left alone"
    compilation.cancel_compilation(new_uow(), trainer, tuned)


def test_a_worker_with_an_unknown_training_role_does_not_start(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "core.worker", "--once"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}
        | {"ARBITER_WORKER_TRAINING": "sometimes"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .endswith("ARBITER_WORKER_TRAINING must be any, only or none")
    )
