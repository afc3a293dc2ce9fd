"""The default matcher's word-piece vectors (bot.text.wordvectors): paraphrases that share
few words with an entry, Chinese left to the lexical signals, a missing table, and the
shipped table against the model it was distilled from."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.text import matcher, normalize, wordpiece
from bot.text.matcher import FaqIndex, decide
from bot.text.semantic import MiniLmEmbedder
from bot.text.wordvectors import MAX_PIECES, TABLE, load_table

ENTRIES: list[tuple[Hashable, Sequence[str]]] = [
    ("refund", ["How do I get a refund?", "Can I return my order?"]),
    ("password", ["How do I reset my password?", "I forgot my password"]),
    ("shipping", ["How long does delivery take?", "When will my package arrive?"]),
    ("hours", ["When are you open?", "What are your opening hours?"]),
    ("rules", ["Where are the server rules?", "What are the rules here?"]),
    ("checkin", ["怎么每日签到？", "签到有什么奖励？"]),
]


@pytest.fixture(scope="module")
def index() -> FaqIndex:
    return FaqIndex(ENTRIES)


@pytest.mark.parametrize(
    ("question", "key"),
    [
        ("how long until my parcel arrives?", "shipping"),
        ("I can't remember my password, what do I do?", "password"),
    ],
)
def test_vectors_answer_paraphrases_words_alone_score_lower(
    index: FaqIndex, question: str, key: str
) -> None:
    answer = decide(index, question)
    assert answer is not None
    assert answer.key == key
    assert answer.meaning > 0
    (words_alone,) = FaqIndex(ENTRIES, vector_weight=0).rank(question, 1)
    assert words_alone.score < answer.score


def test_vectors_rank_the_entry_that_means_the_same_first(index: FaqIndex) -> None:
    # "send back my purchase" shares only "how do I" with both; "send back" reads as "return"
    # (bot.text.phrases) and the vectors agree.
    question = "how do I send back my purchase?"
    assert FaqIndex(ENTRIES, vector_weight=0).rank(question, 1)[0].key == "refund"
    (best,) = index.rank(question, 1)
    assert best.key == "refund"
    assert best.meaning > 0


@pytest.mark.parametrize(
    "text",
    ["where is the nearest train station?", "I love this game so much", "what's for dinner?"],
)
def test_unrelated_messages_stay_unanswered(index: FaqIndex, text: str) -> None:
    assert decide(index, text) is None


def test_chinese_is_matched_by_words_alone(index: FaqIndex) -> None:
    ranked = index.rank("每日签到怎么弄？", 2)
    assert ranked[0].key == "checkin"
    assert all(r.meaning == 0 for r in ranked)
    answer = decide(index, "每日签到怎么弄？")
    assert answer is not None
    assert answer.key == "checkin"


def test_missing_table_leaves_the_words(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    with caplog.at_level(logging.WARNING):
        assert load_table(tmp_path / "missing.npz") is None
    assert "matching by words only" in caplog.text
    monkeypatch.setattr(matcher, "load_table", lambda: None)
    ranked = FaqIndex(ENTRIES).rank("How do I reset my password?", 1)
    assert ranked[0].key == "password"
    assert ranked[0].meaning == 0


def test_shipped_table_is_the_models_piece_vectors() -> None:
    table = load_table(TABLE)
    assert table is not None
    rows, scales = table
    assert rows.shape == (30522, 384)
    assert rows.dtype == np.int8
    pieces = [1996, 2129, 20786, 3513, 29612]  # the, how, password, rules, ##!
    expected = MiniLmEmbedder().piece_vectors(pieces)
    stored = rows[pieces].astype(np.float32) * scales[pieces, None]
    # int8 rounding: at most half a step of each row's scale
    assert np.abs(stored - expected).max() <= scales[pieces].max() * 0.51 + 1e-4


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60))
def test_ascii_fast_paths_match_the_general_ones(text: str) -> None:
    # Tokenizing and stripping noise skip the per-character Unicode work for ASCII text.
    assert wordpiece._words(text) == wordpiece._unicode_words(text)
    assert normalize.strip_noise(text) == _strip_noise_general(text)


def _strip_noise_general(text: str) -> str:
    text = normalize._URL.sub(" ", text)
    text = normalize._MENTION.sub(" ", text)
    text = normalize._MARKUP.sub(" ", text)
    return normalize._SPACE.sub(" ", normalize._blank_symbols(text)).strip()


def test_an_entry_close_in_meaning_is_compared_even_if_weak_in_words() -> None:
    # Both entries share a word with the message; by words the password entry leads, so with
    # one candidate by words only the vectors bring the shipping entry in (where it wins).
    entries: list[tuple[Hashable, Sequence[str]]] = [
        ("password", ["How do I reset my password?", "I forgot my password"]),
        ("shipping", ["When will my package arrive?", "How long does delivery take?"]),
    ]
    ranked = FaqIndex(entries, rerank=1).rank("I reset my router, when does my parcel come?", 2)
    assert [r.key for r in ranked] == ["shipping", "password"]


def test_long_messages_are_read_by_head_and_tail() -> None:
    # The vectors read at most MAX_PIECES pieces of a message: its head and its tail, where
    # the question often is, as the encoder does (one slicing, in WordPiece.pieces).
    tokenizer = wordpiece.WordPiece()
    assert tokenizer.pieces("a b c d e f", 4) == tokenizer.pieces("a b e f")
    chatter = " ".join(["blah"] * 300)
    kept = tokenizer.pieces(f"{chatter} package arrive", MAX_PIECES)
    assert len(kept) == MAX_PIECES
    assert kept[-2:] == tokenizer.pieces("package arrive")
    assert tokenizer.encode("a b c d e f")[1:-1] == tokenizer.pieces("a b c d e f")
