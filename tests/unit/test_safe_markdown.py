"""Markdown images in user and model text become the text that wrote them."""

from __future__ import annotations

import pytest

from ui.safe_markdown import without_images, without_images_streamed


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("![](https://t.example/p.png)", "!\\[](https://t.example/p.png)"),
        ('a ![alt](<https://t.example/p> "t") b', 'a !\\[alt](<https://t.example/p> "t") b'),
        ("![ref]\n\n[ref]: https://t.example/p", "!\\[ref]\n\n[ref]: https://t.example/p"),
        ("![x][r]", "!\\[x][r]"),
        ("[![inner](https://t.example/i)](https://x.example)", "[!\\[inner](https://t.example/i)](https://x.example)"),
        ("!![x](y)", "!!\\[x](y)"),
        # Code keeps its text (Markdown shows a backslash there as it is).
        ("`![x](y)` and ![z](w)", "`![x](y)` and !\\[z](w)"),
        ("```\n![x](y)\n```\n![z](w)", "```\n![x](y)\n```\n!\\[z](w)"),
        ("~~~md\n![x](y)", "~~~md\n![x](y)"),
        ("plain [link](https://x.example) !", "plain [link](https://x.example) !"),
    ],
)  # fmt: skip
def test_images_become_text(text: str, shown: str) -> None:
    assert without_images(text) == shown


def test_an_image_cut_between_streamed_pieces_is_caught() -> None:
    pieces = ["Look !", "[](https://t.example/p)", " done !"]
    assert "".join(without_images_streamed(pieces)) == "Look !\\[](https://t.example/p) done !"
