"""The tokenizer's fast paths (stdlib `re` for ASCII, a translate table for symbols, no
blank-gram filter) give exactly what the plain definitions give, on any text."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.tokenize import RegexpTokenizer

from bot.text import tokenize
from bot.text.normalize import _blank_symbols
from bot.text.tokenize import _CJK_RUN, char_ngrams, fold

_WORDS = RegexpTokenizer(r"[^\W_]+")

#: Mixed scripts, marks, emoji, underscores and spacing — where fast paths could differ.
texts = st.text(
    alphabet=st.sampled_from(
        list("abc XYZ_09 .,?!'")
        + list("好的谢谢，怎么设置时区？")
        + list("éñü")
        + ["\u0301"]
        + list("हिन्दी")
        + list("ไทย")
        + ["😀", "👍", "\u200d", "\ufe0f", "‿", "Ⅻ", "\t", "\n"]
    ),
    max_size=40,
)


def _plain_char_ngrams(text: str, sizes: tuple[int, ...], cjk_sizes: tuple[int, ...]) -> list[str]:
    folded = fold(text)
    grams: list[str] = []
    latin: list[str] = []
    for word in _WORDS.tokenize(folded):
        position = 0
        for match in _CJK_RUN.finditer(word):
            latin.append(word[position : match.start()])
            run = match.group()
            for size in cjk_sizes:
                grams += [run[i : i + size] for i in range(len(run) - size + 1)]
            position = match.end()
        latin.append(word[position:])
    padded = " " + " ".join(w for w in latin if w) + " "
    for size in sizes:
        grams += [padded[i : i + size] for i in range(len(padded) - size + 1)]
    return [gram for gram in grams if gram.strip()]


@settings(max_examples=400)
@given(texts, st.sampled_from([(3, 4), (1,), (1, 2), (2, 5)]))
def test_char_ngrams_match_the_plain_definition(text: str, sizes: tuple[int, ...]) -> None:
    tokenize.fold.cache_clear()
    assert char_ngrams(text, sizes) == _plain_char_ngrams(text, sizes, (1, 2))


@settings(max_examples=400)
@given(texts)
def test_ascii_words_match_nltk(text: str) -> None:
    assert tokenize._split_words(text) == _WORDS.tokenize(text)


@settings(max_examples=400)
@given(texts)
def test_symbols_blanked_as_by_their_category(text: str) -> None:
    def plain(char: str) -> str:
        category = unicodedata.category(char)
        blank = category in ("So", "Sk", "Cs", "Co", "Cn") or char in "\u200d\ufe0f"
        return " " if blank else char

    assert _blank_symbols(text) == "".join(plain(char) for char in text)
