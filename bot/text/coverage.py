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

from collections.abc import Callable, Iterable, Mapping

import numpy as np
from numpy.typing import NDArray

from bot.text.normalize import CJK
from bot.text.wordvectors import word_vector

__all__ = ["CORE_NEEDED", "RELATED", "UNCOVERED_PENALTY", "support", "word_matrix"]

#: Core share at which a message counts as naming the entry's topic (below: scaled down).
CORE_NEEDED = 0.35
CORE_POWER = 0.5
#: Score lost when all of a message's weight lies in words the entry does not cover.
UNCOVERED_PENALTY = 0.4
#: Word-piece cosine from which an entry's word covers a different word of the message.
RELATED = 0.3

Matrix = NDArray[np.float32]


def word_matrix(words: Iterable[str]) -> Matrix | None:
    """The unit word-piece vectors of an entry's English words (None if none has one)."""
    vectors = [v for v in map(word_vector, dict.fromkeys(words)) if v is not None]
    return np.stack(vectors) if vectors else None


def _uncovered(
    words: Mapping[str, str],
    weights: Mapping[str, float],
    entry_terms: frozenset[str],
    matrix: Matrix | None,
) -> float:
    """Weight of the message's English terms the entry neither has nor relates to."""
    missing = 0.0
    for term, word in words.items():
        if term in entry_terms or CJK.search(term):
            continue
        vector = word_vector(word) if matrix is not None else None
        if matrix is None or vector is None or float((matrix @ vector).max()) < RELATED:
            missing += weights.get(term, 0.0)
    return missing


def support(
    terms: Iterable[str],
    words: Mapping[str, str],
    weight: Callable[[str], float],
    centroid: Mapping[str, float],
    entry_terms: frozenset[str],
    matrix: Matrix | None,
) -> float:
    """The factor (0..1] a message's score against an entry is multiplied by.

    Args:
        terms: the message's terms (`bot.text.tokenize.word_tokens`).
        words: its English terms and a word for each (`bot.text.tokenize.content_words`).
        weight: a term's weight in the FAQ (IDF).
        centroid: the entry's unit centroid in the message's script.
        entry_terms: every term of the entry's phrasings.
        matrix: the entry's English words' vectors (`word_matrix`).
    """
    unique = set(terms)
    core = sum(centroid.get(term, 0.0) ** 2 for term in unique)
    factor = min(1.0, core / CORE_NEEDED) ** CORE_POWER
    weights = {term: weight(term) for term in unique}
    total = sum(weights.values())
    if total > 0 and words:
        factor *= 1 - UNCOVERED_PENALTY * _uncovered(words, weights, entry_terms, matrix) / total
    return float(factor)
