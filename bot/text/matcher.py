"""FAQ matching: BM25 over each entry's phrasings (stemmed words, CJK bigrams) through an
inverted index, re-ranked with character n-gram cosine, giving a confidence in [0, 1].

Only entries sharing a term with the question are scored, so a lookup costs what the
question's terms cost, not what the FAQ's size costs.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from bot.text.tokenize import char_ngrams, word_tokens

__all__ = ["FaqIndex", "Ranked"]

K1 = 1.2
B = 0.75
RERANK = 10


@dataclass(frozen=True, slots=True)
class Ranked:
    """An entry and how confident the index is that it answers the question (0..1)."""

    key: Hashable
    score: float
    words: float
    chars: float


def _unit(counts: Counter[str], idf: dict[str, float], default: float) -> dict[str, float]:
    weights = {gram: (1 + math.log(n)) * idf.get(gram, default) for gram, n in counts.items()}
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return {gram: w / norm for gram, w in weights.items()}


class FaqIndex:
    """An immutable index of entries (key → phrasings); rebuild it when entries change."""

    def __init__(
        self, entries: Sequence[tuple[Hashable, Sequence[str]]], *, word_weight: float = 0.6
    ) -> None:
        self.word_weight = word_weight
        self.keys = [key for key, _ in entries]
        docs = [Counter(t for p in phrasings for t in word_tokens(p)) for _, phrasings in entries]
        self._lengths = [sum(doc.values()) for doc in docs]
        count = len(docs)
        self._avg = (sum(self._lengths) / count) if count else 1.0
        self._postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for index, doc in enumerate(docs):
            for term, tf in doc.items():
                self._postings[term].append((index, tf))
        self._idf = {
            term: math.log(1 + (count - len(posts) + 0.5) / (len(posts) + 0.5))
            for term, posts in self._postings.items()
        }
        self._unseen_idf = math.log(1 + (count + 0.5) / 0.5)
        grams = [[Counter(char_ngrams(p)) for p in phrasings] for _, phrasings in entries]
        frequency: Counter[str] = Counter(g for entry in grams for c in entry for g in c)
        total = sum(len(entry) for entry in grams) or 1
        self._gram_idf = {g: math.log((1 + total) / (1 + n)) + 1 for g, n in frequency.items()}
        self._gram_default = math.log(1 + total) + 1
        self._phrasing_vectors = [
            [_unit(c, self._gram_idf, self._gram_default) for c in entry] for entry in grams
        ]

    def __len__(self) -> int:
        return len(self.keys)

    def _bm25(self, terms: list[str]) -> dict[int, float]:
        scores: dict[int, float] = defaultdict(float)
        for term in set(terms):
            idf = self._idf.get(term)
            if idf is None:
                continue
            for index, tf in self._postings[term]:
                norm = K1 * (1 - B + B * self._lengths[index] / self._avg)
                scores[index] += idf * tf * (K1 + 1) / (tf + norm)
        # The best a document could score for these terms: unknown terms count against it.
        ceiling = sum(self._idf.get(t, self._unseen_idf) for t in set(terms)) * (K1 + 1)
        return {index: score / ceiling for index, score in scores.items()} if ceiling else {}

    def _chars(self, text: str, index: int) -> float:
        query = _unit(Counter(char_ngrams(text)), self._gram_idf, self._gram_default)
        return max(
            (
                sum(w * vector.get(g, 0.0) for g, w in query.items())
                for vector in self._phrasing_vectors[index]
            ),
            default=0.0,
        )

    def rank(self, text: str, limit: int = 2) -> list[Ranked]:
        """The best `limit` entries for `text`, most confident first."""
        terms = word_tokens(text)
        if not terms or not self.keys:
            return []
        words = self._bm25(terms)
        candidates = sorted(words, key=words.__getitem__, reverse=True)[:RERANK]
        ranked = []
        for index in candidates:
            chars = self._chars(text, index)
            score = self.word_weight * words[index] + (1 - self.word_weight) * chars
            ranked.append(Ranked(self.keys[index], score, words[index], chars))
        ranked.sort(key=lambda r: r.score, reverse=True)
        return ranked[:limit]


@dataclass(frozen=True, slots=True)
class MatchPolicy:
    """When the FAQ feature answers."""

    threshold: float
    margin: float
    only_questions: bool = True


DEFAULTS = MatchPolicy(threshold=0.5, margin=0.05)


def decide(index: FaqIndex, text: str, policy: MatchPolicy = DEFAULTS) -> Ranked | None:
    """The entry to answer `text` with, or None to stay silent."""
    from bot.text.question import is_question

    if policy.only_questions and not is_question(text):
        return None
    ranked = index.rank(text, 2)
    if not ranked or ranked[0].score < policy.threshold:
        return None
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    return ranked[0] if ranked[0].score - runner_up >= policy.margin else None
