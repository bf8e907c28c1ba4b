"""Shared by the open-weights tests: one converted copy of the bundled base model per test
session (converting its GGUF file takes about 25 s; loading the copy well under one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def base_model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    cache = tmp_path_factory.mktemp("base-models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARBITER_BASE_MODEL_CACHE", str(cache))
        yield cache
