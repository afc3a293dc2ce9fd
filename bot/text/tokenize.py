"""Tokens for matching: stemmed English words without stop words, CJK character bigrams,
and character n-grams for spelling variation. Uses only nltk parts that need no data."""

from __future__ import annotations

import re
from functools import lru_cache

from nltk.stem.snowball import SnowballStemmer
from nltk.tokenize import RegexpTokenizer

from bot.text.normalize import CJK, normalize

__all__ = ["char_ngrams", "word_tokens"]

_WORDS = RegexpTokenizer(r"[^\W_]+")
_CJK_RUN = re.compile(CJK.pattern + "+")
_STEMMER = SnowballStemmer("english")

ENGLISH_STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "being",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "for",
        "from",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "my",
        "myself",
        "of",
        "on",
        "or",
        "our",
        "ours",
        "she",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "too",
        "us",
        "very",
        "was",
        "we",
        "were",
        "what",
        "which",
        "while",
        "who",
        "whom",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "please",
        "pls",
        "hi",
        "hello",
        "hey",
        "thanks",
        "thank",
    ]
)
CHINESE_STOP_CHARS = frozenset("的了吗呢吧啊呀嘛么哦哈请问我你他她它们是在有和就都也还这那个")


@lru_cache(maxsize=65_536)
def _stem(word: str) -> str:
    return str(_STEMMER.stem(word))


def _cjk_tokens(run: str) -> list[str]:
    """Character bigrams of a CJK run, plus content characters on their own."""
    singles = [char for char in run if char not in CHINESE_STOP_CHARS]
    if len(run) == 1:
        return singles
    return [run[i : i + 2] for i in range(len(run) - 1)] + singles


def word_tokens(text: str) -> list[str]:
    """Matching terms of `text`: stems of English (and other alphabetic) words without stop
    words, digits kept, CJK as bigrams and content characters."""
    folded = normalize(text)
    tokens: list[str] = []
    position = 0
    for match in _CJK_RUN.finditer(folded):
        tokens += _latin_tokens(folded[position : match.start()])
        tokens += _cjk_tokens(match.group())
        position = match.end()
    tokens += _latin_tokens(folded[position:])
    return tokens


def _latin_tokens(text: str) -> list[str]:
    return [_stem(word) for word in _WORDS.tokenize(text) if word not in ENGLISH_STOP_WORDS]


def char_ngrams(text: str, sizes: tuple[int, ...] = (3, 4)) -> list[str]:
    """Character n-grams of the normalized text with word boundaries marked, for typos."""
    folded = " " + " ".join(_WORDS.tokenize(normalize(text))) + " "
    grams: list[str] = []
    for size in sizes:
        grams += [folded[i : i + size] for i in range(len(folded) - size + 1)]
    return [gram for gram in grams if gram.strip()]
