"""Word-piece vectors: what the default FAQ matcher knows about meaning without a model.

The table ``minilm_pieces.npz`` holds, for each of the 30,522 pieces of BERT's uncased
vocabulary, the vector all-MiniLM-L6-v2 gives that piece read alone (int8 with one scale per
row; distilled once by ``scripts/build_word_vectors.py``, in the manner of Model2Vec). Pieces
that mean related things get close vectors: "refund" and "money back", "card" and "credit",
which share no stem. A text's vector is the IDF-weighted sum of its pieces' vectors (IDF over
the FAQ's phrasings, so words every entry uses weigh little); an entry's is the unit mean of
its phrasings' unit vectors. Loading costs about 12 MB of memory once per process; a message
costs a tokenization and one product with the entries' matrix (well under a millisecond at
1,500 entries).

The model is English: a piece vector says little about a Chinese character, so texts with
CJK characters get no vector (`PieceVectors.similarities` returns None) and are matched by
words alone.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from bot.text.normalize import has_cjk, strip_noise
from bot.text.wordpiece import WordPiece

__all__ = ["TABLE", "PieceVectors", "load_table", "word_vector"]

logger = logging.getLogger(__name__)
TABLE = Path(__file__).with_name("minilm_pieces.npz")
#: Pieces of a message that count (its head and tail if longer): questions are short.
MAX_PIECES = 128

Table = tuple[NDArray[np.int8], NDArray[np.float32]]


@cache
def load_table(path: Path = TABLE) -> Table | None:
    """The int8 rows and their scales, read once per process; None (and a warning) if the
    file is missing, so a broken install still matches by words."""
    try:
        with np.load(path) as data:
            return data["rows"], data["scales"]
    except OSError:
        logger.warning("FAQ word-piece vectors missing (%s); matching by words only", path)
        return None


@cache
def _tokenizer() -> WordPiece:
    return WordPiece()


class PieceVectors:
    """Entry vectors for a list of entries (each a list of phrasings); immutable."""

    def __init__(self, entries: Sequence[Sequence[str]], table: Table) -> None:
        self._rows, self._scales = table
        self._unknown = _tokenizer().unknown
        phrasings = [
            [self._pieces(text) for text in texts if not has_cjk(text)] for texts in entries
        ]
        count = sum(len(entry) for entry in phrasings)
        frequency = Counter(piece for entry in phrasings for ids in entry for piece in set(ids))
        # A piece no phrasing uses weighs as much as the rarest one could.
        self._unseen = math.log(count + 1) + 1
        self._idf = {piece: math.log((count + 1) / (n + 1)) + 1 for piece, n in frequency.items()}
        width = self._rows.shape[1]
        centroids = np.zeros((len(entries), width), dtype=np.float32)
        for row, entry in enumerate(phrasings):
            for ids in entry:
                vector = self._vector(ids)
                if vector is not None:
                    centroids[row] += vector
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        self._centroids = centroids / np.maximum(norms, 1e-9)

    def _pieces(self, text: str) -> list[int]:
        pieces = _tokenizer().pieces(strip_noise(text), MAX_PIECES)
        return [i for i in pieces if i != self._unknown]

    def _vector(self, ids: list[int]) -> NDArray[np.float32] | None:
        """The unit IDF-weighted sum of the pieces' vectors; None without pieces."""
        if not ids:
            return None
        weights = np.fromiter(
            (self._idf.get(i, self._unseen) for i in ids), dtype=np.float32, count=len(ids)
        )
        weights *= self._scales[ids]
        total = weights @ self._rows[ids].astype(np.float32)
        norm = float(np.linalg.norm(total))
        return total / norm if norm > 0 else None

    def similarities(self, text: str) -> NDArray[np.float32] | None:
        """Cosine of `text` with every entry (entries in the order given), or None for a
        text with CJK characters or without a known piece."""
        if has_cjk(text):
            return None
        vector = self._vector(self._pieces(text))
        if vector is None:
            return None
        # A BLAS product (5x faster than einsum here); measured with the semantic stage, whose
        # next encoder run follows it, it did not slow onnxruntime down (bench.faq, 1,500 entries).
        result: NDArray[np.float32] = self._centroids @ vector
        return result

    @staticmethod
    def best(cosines: NDArray[np.float32], count: int) -> list[int]:
        """Positions of the `count` highest cosines (in no particular order)."""
        if len(cosines) <= count:
            return list(range(len(cosines)))
        return [int(i) for i in np.argpartition(-cosines, count)[:count]]


@lru_cache(maxsize=65_536)
def word_vector(word: str) -> NDArray[np.float32] | None:
    """The unit sum of one word's piece vectors (None without the table or a known piece),
    for telling whether two different words mean related things ("parcel" / "package")."""
    table = load_table()
    if table is None:
        return None
    rows, scales = table
    tokenizer = _tokenizer()
    ids = [i for i in tokenizer.pieces(word, 16) if i != tokenizer.unknown]
    if not ids:
        return None
    total = scales[ids].astype(np.float32) @ rows[ids].astype(np.float32)
    norm = float(np.linalg.norm(total))
    return total / norm if norm > 0 else None
