"""How much a message and an entry really share, beyond the scores of the words they share.

Two failures of word, character and vector similarity on small FAQs: a message that shares
only a generic word with an entry ("what time is it?" and "What time does the meetup start?")
and a message whose own topic the entry lacks ("how do I reset my router?" and "How do I reset
my password?": most characters and the shape of the sentence agree). `support` scales a score
down for both:

* **core**: the share of the entry's centroid (the unit mean of its phrasings in the message's
  script, English or CJK) that the message's terms carry. A paraphrase names the entry's core
  words, the ones its phrasings share; a message sharing a side word carries little of it.
* **uncovered**: the share of the message's term weight (IDF over the FAQ; a word no entry uses
  weighs most) in English words that the entry neither contains nor has a related word for
  (word-piece vectors of the two words, cosine below `RELATED`): what the message asks about
  that the entry does not mention.

Tuned with `bench/faq.py` (docs/performance.md, "FAQ matching").
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping

import numpy as np
from numpy.typing import NDArray

from bot.text.wordvectors import word_vector

__all__ = ["CORE_NEEDED", "RELATED", "UNCOVERED_PENALTY", "Message", "support", "word_matrix"]

#: Core share at which a message counts as naming the entry's topic (below: scaled down).
CORE_NEEDED = 0.35
CORE_POWER = 0.5
#: Score lost when all of a message's weight lies in words the entry does not cover.
UNCOVERED_PENALTY = 0.4
#: Word-piece cosine from which an entry's word covers a different word of the message.
RELATED = 0.3
#: English words of a message compared with an entry's (the heaviest).
MAX_WORDS = 16

Matrix = NDArray[np.float32]


def word_matrix(words: Iterable[str]) -> Matrix | None:
    """The unit word-piece vectors of an entry's English words (None if none has one)."""
    vectors = [v for v in map(word_vector, dict.fromkeys(words)) if v is not None]
    return np.stack(vectors) if vectors else None


class Message:
    """What `support` needs of a message, computed once for all its candidate entries.

    Args:
        terms: the message's terms (`bot.text.tokenize.word_tokens`).
        words: its English terms and a word for each (`bot.text.tokenize.content_words`,
            which leaves CJK out).
        weight: a term's weight in the FAQ (IDF).
    """

    __slots__ = ("_english", "_matrix", "_vectors", "terms", "total", "weights")

    def __init__(
        self, terms: Iterable[str], words: Mapping[str, str], weight: Callable[[str], float]
    ) -> None:
        self.terms = frozenset(terms)
        self.weights = {term: weight(term) for term in self.terms}
        self.total = sum(self.weights.values())
        # The heaviest ones, as the word score looks up the rarest terms (long messages).
        english = heapq.nlargest(
            MAX_WORDS, (t for t in words if t in self.weights), key=self.weights.__getitem__
        )
        vectors = [word_vector(words[t]) for t in english]
        self._english = english
        self._vectors = [v is not None for v in vectors]
        found = [v for v in vectors if v is not None]
        self._matrix: Matrix | None = np.stack(found) if found else None

    def uncovered(self, entry_terms: frozenset[str], matrix: Matrix | None) -> float:
        """Weight of the English terms the entry neither has nor has a related word for."""
        related: list[float] = []
        if matrix is not None and self._matrix is not None:
            related = (matrix @ self._matrix.T).max(axis=0).tolist()
        missing, row = 0.0, 0
        for term, has_vector in zip(self._english, self._vectors, strict=True):
            closest = related[row] if has_vector and related else 0.0
            row += has_vector
            if term not in entry_terms and closest < RELATED:
                missing += self.weights[term]
        return missing


def support(
    message: Message,
    centroid: Mapping[str, float],
    entry_terms: frozenset[str],
    matrix: Matrix | None,
) -> float:
    """The factor (0..1] a message's score against an entry is multiplied by.

    Args:
        message: the message (`Message`).
        centroid: the entry's unit centroid in the message's script.
        entry_terms: every term of the entry's phrasings.
        matrix: the entry's English words' vectors (`word_matrix`).
    """
    core = sum(centroid.get(term, 0.0) ** 2 for term in message.terms)
    factor = min(1.0, core / CORE_NEEDED) ** CORE_POWER
    if message.total > 0:
        factor *= 1 - UNCOVERED_PENALTY * message.uncovered(entry_terms, matrix) / message.total
    return float(factor)
