"""Shared by the open-weights tests: one converted copy of the bundled base model per test
session (converting its GGUF file takes about 25 s; loading the copy well under one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

# Each test training uses one torch thread. Two xdist workers share this 2-core machine: a
# training with two threads beside another busy worker spends its time in the threads'
# barriers (measured: several times slower per step), and two one-thread trainings side by
# side use both cores fully.
TRAINING_THREADS = 1


@pytest.fixture(scope="session")
def base_model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    cache = tmp_path_factory.mktemp("base-models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARBITER_BASE_MODEL_CACHE", str(cache))
        yield cache
