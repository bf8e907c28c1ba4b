"""``--dist loadgroup`` for pytest 9.2: keep the tests of one ``xdist_group`` on one worker.

pytest-xdist 3.8 marks a grouped test by appending ``@<group>`` to its node id through
``item._nodeid``, which pytest 9.2 no longer reads (node ids are structured now), so every
group was silently spread over the workers: a module's expensive fixture (a real training,
a browser server) ran once per worker, and tests meant to run alone ran side by side
(pytest-dev/pytest-xdist#1386, fix proposed in #1388). This sets the suffix through the
structured id, as that fix does; once xdist applies it itself, this does nothing.
"""

from __future__ import annotations

import pytest
from _pytest.nodeid import NodeId

__all__ = ["pytest_collection_modifyitems"]


@pytest.hookimpl(trylast=True)  # after every hook that adds xdist_group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not getattr(config.option, "loadgroup", False):  # set in xdist workers only
        return
    for item in items:
        groups = sorted(
            {
                str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                for mark in item.iter_markers("xdist_group")
            }
        )
        suffix = "@" + "_".join(groups)
        if groups and not item.nodeid.endswith(suffix):
            item._id = NodeId.parse(item.nodeid + suffix)
