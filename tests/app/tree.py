"""Reading an AppTest's element tree in page order (for blocks AppTest has no list of,
such as popovers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from streamlit.testing.v1 import AppTest


def walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from walk(child)


def in_order(at: AppTest) -> list[Any]:
    return list(walk(at._tree[0]))


def popover_labels(at: AppTest) -> list[str]:
    return [n.proto.popover.label for n in in_order(at) if getattr(n, "type", "") == "popover"]
