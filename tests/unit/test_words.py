"""How counts read on the pages: one checkpoint, two checkpoints."""

from __future__ import annotations

from ui.formatting import plural


def test_one_checkpoint_is_singular() -> None:
    assert plural(1, "checkpoint") == "1 checkpoint"
    assert plural(2, "checkpoint") == "2 checkpoints"
    assert plural(1_000, "entry", "entries") == "1,000 entries"
