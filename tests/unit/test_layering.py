"""Dependencies point one way: pages → ui → core.services → core.models/db/training/providers."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.paths import ROOT


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _offending(folder: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    result = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        bad = sorted(
            name
            for name in _imports(path)
            if any(name == f or name.startswith(f + ".") for f in forbidden)
        )
        if bad:
            result[str(path.relative_to(ROOT))] = bad
    return result


def test_core_never_imports_streamlit() -> None:
    assert _offending("core", ("streamlit", "st_aggrid", "ui", "pages")) == {}


def test_pages_and_ui_never_touch_the_orm_or_the_database() -> None:
    forbidden = ("sqlalchemy", "core.models", "core.db", "core.uow.Session")
    assert _offending("pages", forbidden) == {}
    assert _offending("ui", ("sqlalchemy", "core.models.Base")) == {}


def test_app_entry_point_stays_thin() -> None:
    assert not {
        n
        for n in _imports(ROOT / "app.py")
        if n.startswith(("sqlalchemy", "core.models", "core.db"))
    }


def test_the_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from sqlalchemy import select\nimport streamlit as st\n")
    assert {"sqlalchemy", "sqlalchemy.select", "streamlit"} <= _imports(bad)
