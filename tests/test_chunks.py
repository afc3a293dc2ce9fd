"""Splitting long messages for platform limits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from adapters.chunks import split_message


def test_short_text_is_one_piece() -> None:
    assert split_message("hello\nworld", 4096) == ["hello\nworld"]


def test_splits_at_line_boundaries() -> None:
    lines = [f"line {n:04d}" for n in range(1000)]
    pieces = split_message("\n".join(lines), 4096)
    assert len(pieces) == 3
    assert all(len(piece) <= 4096 for piece in pieces)
    assert [line for piece in pieces for line in piece.split("\n")] == lines


def test_long_line_without_spaces_is_cut_hard() -> None:
    text = "长" * 5000
    pieces = split_message(text, 2000)
    assert [len(piece) for piece in pieces] == [2000, 2000, 1000]
    assert "".join(pieces) == text


@given(st.text(alphabet=st.sampled_from("ab 中\n"), max_size=400), st.integers(1, 50))
def test_pieces_fit_and_keep_every_visible_character(text: str, limit: int) -> None:
    pieces = split_message(text, limit)
    assert all(0 < len(piece) <= limit for piece in pieces)
    assert "".join(pieces).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace(
        "\n", ""
    )
