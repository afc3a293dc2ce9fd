"""Tokens for matching: stemmed English words without stop words, CJK character bigrams,
and character n-grams for spelling variation. Uses only nltk parts that need no data."""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import pairwise

from nltk.stem.snowball import SnowballStemmer
from nltk.tokenize import RegexpTokenizer

from bot.text.normalize import CJK, normalize
from bot.text.phrases import phrase_words

__all__ = [
    "CHINESE_STOP_CHARS",
    "ENGLISH_STOP_WORDS",
    "char_ngrams",
    "content_words",
    "fold",
    "question_key",
    "word_tokens",
]

_WORDS = RegexpTokenizer(r"[^\W_]+")
# The same words in ASCII text, through the standard `re` (nltk's `regex` costs ~10 µs a call).
_ASCII_WORDS = re.compile(r"[A-Za-z0-9]+")
_CJK_RUN = re.compile(CJK.pattern + "+")
# Word-segmented Chinese ("我 想 预订") reads the same as unsegmented ("我想预订").
_CJK_SPACE = re.compile(rf"(?<={CJK.pattern})\s+(?={CJK.pattern})")
_STEMMER = SnowballStemmer("english")

_STOP_WORDS = (
    # Function words, greetings and politeness.
    "a about an and are as at be been being but by can could did do does doing for from had "
    "has have having he her here hers him his i if in into is it its itself just me my myself "
    "of on or our ours she so some such than that the their theirs them then there these they "
    "this those to too us very was we were what which while who whom will with would you your "
    "yours yourself please pls hi hello hey thanks thank "
    # What the tokenizer leaves of contractions: don't → don t, I'm → i m, what's → what s.
    "s t m d ll ve re don didn doesn isn aren wasn weren won wouldn couldn shouldn haven hasn "
    "hadn im dont"
)
ENGLISH_STOP_WORDS = frozenset(_STOP_WORDS.split())
#: Particles, pronouns, question words (怎么, 什么, 哪里) and the commonest function characters:
#: never terms on their own, and
#: a bigram of two of them is no term either.
CHINESE_STOP_CHARS = frozenset("的了吗呢吧啊呀嘛么哦哈请问我你他她它们是在有和就都也还这那个怎什哪")


@lru_cache(maxsize=65_536)
def _stem(word: str) -> str:
    return str(_STEMMER.stem(word))


@lru_cache(maxsize=4_096)
def fold(text: str) -> str:
    """`normalize` (NFKC, case-folded, noise stripped) with spaces inside Chinese removed."""
    return _CJK_SPACE.sub("", normalize(text))


_NOT_WORD = re.compile(r"[\W_]+")


def question_key(text: str) -> str:
    """What two phrasings must share to be the same question: their words and characters,
    whatever the case, width, spacing and punctuation ("" for a text without any)."""
    return _NOT_WORD.sub(" ", fold(text)).strip()


def _cjk_tokens(run: str) -> list[str]:
    """Character bigrams of a CJK run, plus content characters on their own.

    Bigrams of two stop characters (我的, 了吗, 这个) say nothing about the topic and are left
    out; a bigram with one (还款, 在线, 个人) may be a word and is kept.
    """
    stop = CHINESE_STOP_CHARS
    singles = [char for char in run if char not in stop]
    return [a + b for a, b in pairwise(run) if a not in stop or b not in stop] + singles


def _split_words(text: str) -> list[str]:
    """Runs of letters and digits (Unicode marks included; underscores split)."""
    if text.isascii():
        return _ASCII_WORDS.findall(text)
    return _WORDS.tokenize(text)  # type: ignore[no-any-return]


def _latin_words(text: str) -> list[str]:
    """The content words of a stretch of non-CJK text, and the words its phrases stand for
    ("money back" → "refund", `bot.text.phrases`)."""
    if not text or text.isspace():
        return []
    words = [word for word in _split_words(text) if word not in ENGLISH_STOP_WORDS]
    said = {_stem(word) for word in words}
    return words + [word for word in phrase_words(text) if _stem(word) not in said]


def _latin_tokens(text: str) -> list[str]:
    return [_stem(word) for word in _latin_words(text)]


def content_words(text: str) -> dict[str, str]:
    """The English (non-CJK) terms of `text` and a word each stands for: stem → word."""
    folded = fold(text)
    words: dict[str, str] = {}
    for stretch in _CJK_RUN.split(folded):
        for word in _latin_words(stretch):
            words.setdefault(_stem(word), word)
    return words


def word_tokens(text: str) -> list[str]:
    """Matching terms of `text`: stems of English (and other alphabetic) words without stop
    words, digits kept, CJK as bigrams and content characters."""
    return list(_word_tokens(text))


@lru_cache(maxsize=512)  # the FAQ tokenizes a question more than once
def _word_tokens(text: str) -> tuple[str, ...]:
    folded = fold(text)
    tokens: list[str] = []
    position = 0
    for match in _CJK_RUN.finditer(folded):
        tokens += _latin_tokens(folded[position : match.start()])
        tokens += _cjk_tokens(match.group())
        position = match.end()
    tokens += _latin_tokens(folded[position:])
    return tuple(tokens)


def char_ngrams(
    text: str, sizes: tuple[int, ...] = (3, 4), cjk_sizes: tuple[int, ...] = (1, 2)
) -> list[str]:
    """Character n-grams of the normalized text with word boundaries marked, for typos.

    A Chinese character carries about what three or four Latin letters do, so CJK runs give
    n-grams of `cjk_sizes` instead.
    """
    folded = fold(text)
    grams: list[str] = []
    latin: list[str] = []
    for word in _split_words(folded):
        position = 0
        for match in _CJK_RUN.finditer(word):
            latin.append(word[position : match.start()])
            run = match.group()
            for size in cjk_sizes:
                grams += [run[i : i + size] for i in range(len(run) - size + 1)]
            position = match.end()
        latin.append(word[position:])
    words = [w for w in latin if w]
    if not words:
        return grams
    # Words hold no whitespace and are joined by single spaces: only a 1-gram can be blank.
    padded = " " + " ".join(words) + " "
    for size in sizes:
        if size == 1:
            grams += [char for char in padded if char != " "]
        else:
            grams += [padded[i : i + size] for i in range(len(padded) - size + 1)]
    return grams
