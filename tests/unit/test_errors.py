"""The error tree in ``core.errors``' docstring is the tree of its classes: every domain error
is in it, under its real parent."""

from __future__ import annotations

import inspect
import re

from core import errors


def _documented_tree() -> dict[str, str | None]:
    """Class name → parent name, read from the box-drawing tree of the docstring: a name's
    parent is the nearest name above it that starts further left."""
    parents: dict[str, str | None] = {}
    above: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        match = re.search(r"(?:[├└]── |^\s*)(ArbiterError|(?<=── )[A-Z]\w+)", line)
        if not match or ("── " not in line and match.group(1) != "ArbiterError"):
            continue
        column, name = match.start(1), match.group(1)
        while above and above[-1][0] >= column:
            above.pop()
        parents[name] = above[-1][1] if above else None
        above.append((column, name))
    return parents


def test_the_docstring_tree_matches_the_classes() -> None:
    classes = {
        name: cls
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.ArbiterError) and cls.__module__ == errors.__name__
    }
    actual = {
        name: (None if cls is errors.ArbiterError else cls.__bases__[0].__name__)
        for name, cls in classes.items()
    }
    assert _documented_tree() == actual


def test_the_tree_reader_sees_nesting() -> None:
    assert _documented_tree()["ProviderRateLimited"] == "ProviderUnavailable"
    assert _documented_tree()["ArbiterError"] is None
