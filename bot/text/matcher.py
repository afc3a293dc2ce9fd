"""FAQ matching: which entry answers a message, and how sure we are (0..1).

Each entry is a key and the phrasings an admin wrote for it. A message is scored against an
entry with three lexical signals, all on stemmed English words without stop words and Chinese
character bigrams (see `bot.text.tokenize`):

* **BM25** of the message's terms against the entry's phrasings taken as one document,
  divided by the most the message's terms could score, so it reads as "how much of what the
  message says does the entry cover". Terms the FAQ never uses count against the message
  (an unknown Chinese bigram half as much: it is usually two neighbouring words' characters).
* **Centroid cosine**: the cosine between the message and the mean of the entry's phrasings
  (each an IDF-weighted set of terms). It rewards covering the entry's core words, the ones
  its phrasings share, and so separates a paraphrase from a message that only shares a
  generic word with one phrasing.
* **Character n-grams** (3 and 4 characters, 1 and 2 for Chinese; TF-IDF, cosine with the
  closest phrasing), for typos, inflections the stemmer misses and word order.
* **Meaning** (`bot.text.wordvectors`): the cosine of IDF-weighted word-piece vectors
  distilled from a sentence encoder, message against entry centroid, so that paraphrases
  sharing no word ("money back" / "refund") still score. Cosines of unrelated English texts
  sit around 0.45, so only the part above `VECTOR_FLOOR` counts, rescaled to 0..1. Texts with
  CJK characters have no vector and are matched by the lexical signals alone.

Both word signals come from one walk over an inverted index, with every per-entry weight
computed when the index is built: a lookup costs what the message's terms cost, not what the
FAQ's size costs. Only the best `rerank` entries by words and the best `VECTOR_RERANK` by
meaning get the character comparison. The lexical score is ``word_weight × words + (1 −
word_weight) × characters``, where ``words`` is ``(1 − centroid_weight) × BM25 +
centroid_weight × centroid`` (0.5 and 0.4 by default); the score is ``(1 − vector_weight) ×
lexical + vector_weight × meaning`` (0.5), or the lexical score for a text without a vector.

`decide` turns the two best scores into an answer or silence under a `MatchPolicy`.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from operator import mul
from typing import Protocol

from bot.text.coverage import Message, support, word_matrix
from bot.text.normalize import CJK, has_cjk
from bot.text.question import is_question
from bot.text.tokenize import char_ngrams, content_words, word_tokens
from bot.text.wordvectors import PieceVectors, load_table

__all__ = [
    "DEFAULTS",
    "FaqIndex",
    "MatchPolicy",
    "Ranked",
    "Ranker",
    "decide",
    "pick",
    "required_score",
]

#: BM25 term-frequency saturation and length normalization.
K1 = 1.2
B = 0.75
#: Entries (best by words) that get the character comparison.
RERANK = 5
#: Share of the centroid cosine in the word score (the rest is normalized BM25).
CENTROID_WEIGHT = 0.4
#: Share of the word score in the final score (the rest is character n-grams).
WORD_WEIGHT = 0.5
CHAR_SIZES = (3, 4)
#: Terms of a message looked up in the index, rarest first.
MAX_TERMS = 32
#: Weight of a CJK bigram no entry uses, relative to an unknown word.
UNSEEN_BIGRAM = 0.5
#: Share of the word-piece vectors' similarity in the score (the rest is lexical).
VECTOR_WEIGHT = 0.5
#: Word-piece cosines at or below this count as no similarity.
VECTOR_FLOOR = 0.56
#: Entries (best by word-piece vectors) added to the character comparison.
VECTOR_RERANK = 3

Vector = dict[str, float]


@dataclass(frozen=True, slots=True)
class Ranked:
    """An entry and how confident the index is that it answers the question (0..1).

    `words` is the word-level similarity (BM25 and centroid cosine), `chars` the character
    n-gram cosine with the closest phrasing, `meaning` the word-piece vectors' similarity
    (0 for a text without a vector), `model` the semantic stage's sentence-encoder cosine
    (None without that stage); `score` mixes them. `small_talk` is set by
    the semantic stage when the message reads more like everyday chat than like this entry:
    `decide` then stays silent whatever the score.
    """

    key: Hashable
    score: float
    words: float
    chars: float
    small_talk: bool = False
    meaning: float = 0.0
    model: float | None = None


def _is_cjk_pair(term: str) -> bool:
    return len(term) == 2 and CJK.match(term) is not None and CJK.match(term[1]) is not None


class Ranker(Protocol):
    """Anything that ranks entries for a text: `FaqIndex`, or an index built on it."""

    def rank(self, text: str, limit: int = 2) -> list[Ranked]:
        """The best `limit` entries, most confident first."""
        ...


def _unit(weights: Vector) -> Vector:
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return {term: w / norm for term, w in weights.items()}


class FaqIndex:
    """An immutable index of entries (key → phrasings); rebuild it when entries change."""

    def __init__(
        self,
        entries: Sequence[tuple[Hashable, Sequence[str]]],
        *,
        word_weight: float = WORD_WEIGHT,
        centroid_weight: float = CENTROID_WEIGHT,
        k1: float = K1,
        b: float = B,
        char_sizes: tuple[int, ...] = CHAR_SIZES,
        rerank: int = RERANK,
        vector_weight: float = VECTOR_WEIGHT,
    ) -> None:
        """Index `entries`; `vector_weight` 0 leaves the word-piece vectors out."""
        self.word_weight = word_weight
        self.vector_weight = vector_weight
        self.centroid_weight = centroid_weight
        self.char_sizes = char_sizes
        self.rerank = rerank
        self.keys = [key for key, _ in entries]
        phrasings = [[word_tokens(p) for p in texts] for _, texts in entries]
        docs = [Counter(t for terms in entry for t in terms) for entry in phrasings]
        count = len(docs)
        frequency = Counter(term for doc in docs for term in doc)
        self._idf = {
            term: math.log(1 + (count - n + 0.5) / (n + 0.5)) for term, n in frequency.items()
        }
        # A term no entry uses weighs as much as the rarest possible one.
        self._unseen_idf = math.log(1 + (count + 0.5) / 0.5)
        average = sum(sum(doc.values()) for doc in docs) / count if count else 1.0
        # term → [(entry, BM25 share, centroid weight)]; a message's score for an entry is a
        # sum over its terms, so everything that depends on the entry alone is done here.
        self._postings: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
        for index, (doc, entry) in enumerate(zip(docs, phrasings, strict=True)):
            norm = k1 * (1 - b + b * sum(doc.values()) / average)
            centroid = self._centroid(entry)
            for term, tf in doc.items():
                share = self._idf[term] * tf * (k1 + 1) / (tf + norm) / (k1 + 1)
                self._postings[term].append((index, share, centroid.get(term, 0.0)))
        self._terms = [frozenset(doc) for doc in docs]
        # The centroid of each entry's English and of its CJK phrasings (for `support`).
        self._script_centroids = [
            (self._script_centroid(texts, entry, False), self._script_centroid(texts, entry, True))
            for (_, texts), entry in zip(entries, phrasings, strict=True)
        ]
        self._word_matrices = [
            word_matrix(w for text in texts for w in content_words(text).values())
            for _, texts in entries
        ]
        grams = [[Counter(char_ngrams(p, char_sizes)) for p in texts] for _, texts in entries]
        gram_frequency = Counter(g for entry in grams for counts in entry for g in counts)
        total = sum(len(entry) for entry in grams) or 1
        self._gram_idf = {g: math.log((1 + total) / (1 + n)) + 1 for g, n in gram_frequency.items()}
        self._gram_default = math.log(1 + total) + 1
        self._phrasing_vectors = [[self._gram_vector(c) for c in entry] for entry in grams]
        table = load_table() if vector_weight and entries else None
        self._meaning = PieceVectors([t for _, t in entries], table) if table else None

    def __len__(self) -> int:
        return len(self.keys)

    def _weight(self, term: str) -> float:
        weight = self._idf.get(term)
        if weight is not None:
            return weight
        # An unknown CJK bigram is most often two characters from neighbouring words, not a
        # word: its characters, which are terms too, already count what it says.
        return UNSEEN_BIGRAM * self._unseen_idf if _is_cjk_pair(term) else self._unseen_idf

    def _centroid(self, phrasings: list[list[str]]) -> Vector:
        """The unit mean of the phrasings' unit IDF vectors (each phrasing a set of terms)."""
        total: dict[str, float] = defaultdict(float)
        for terms in phrasings:
            for term, weight in _unit({t: self._weight(t) for t in set(terms)}).items():
                total[term] += weight
        return _unit(total)

    def _script_centroid(self, texts: Sequence[str], terms: list[list[str]], cjk: bool) -> Vector:
        """The centroid of the phrasings written in CJK (`cjk`) or not; all if there are none."""
        chosen = [t for text, t in zip(texts, terms, strict=True) if has_cjk(text) == cjk]
        return self._centroid(chosen or terms)

    def _gram_vector(self, counts: Counter[str]) -> Vector:
        """Unit TF-IDF vector of n-gram counts (sublinear TF)."""
        idf, default = self._gram_idf, self._gram_default
        weights = {g: idf.get(g, default) for g in counts}
        for gram, n in counts.items():
            if n > 1:
                weights[gram] *= 1 + math.log(n)
        return _unit(weights)

    def _words(self, terms: list[str]) -> dict[int, float]:
        """Word similarity (0..1) of every entry sharing a term with the message.

        Only the `MAX_TERMS` rarest terms are looked up (all of them count in the ceiling):
        in a long message the common ones, with the longest postings, add little.
        """
        weighted = sorted(((self._weight(t), t) for t in set(terms)), reverse=True)
        ceiling = sum(w for w, _ in weighted)
        if not ceiling:
            return {}
        # Each entry's BM25 shares add up to less than the ceiling: the ratio stays below 1.
        bm25 = (1 - self.centroid_weight) / ceiling
        centroid = self.centroid_weight / math.sqrt(sum(w * w for w, _ in weighted))
        scores: dict[int, float] = defaultdict(float)
        for weight, term in weighted[:MAX_TERMS]:
            postings = self._postings.get(term)
            if postings is None:
                continue
            weight *= centroid
            for index, share, component in postings:
                scores[index] += bm25 * share + weight * component
        return scores

    def _chars(self, query: Vector, index: int) -> float:
        best = 0.0
        for vector in self._phrasing_vectors[index]:
            common = query.keys() & vector.keys()
            products = map(mul, map(query.__getitem__, common), map(vector.__getitem__, common))
            best = max(best, sum(products))
        return min(best, 1.0)  # rounding can make a perfect match 1.0000000000000002

    def rank(self, text: str, limit: int = 2) -> list[Ranked]:
        """The best `limit` entries for `text`, most confident first."""
        terms = word_tokens(text)
        if not terms or not self.keys:
            return []
        words = self._words(terms)
        candidates = heapq.nlargest(self.rerank, words, key=words.__getitem__)
        cosines = self._meaning.similarities(text) if self._meaning else None
        if cosines is not None:
            best = PieceVectors.best(cosines, VECTOR_RERANK)
            candidates += [i for i in best if i not in candidates and cosines[i] > VECTOR_FLOOR]
        if not candidates:
            return []
        query = self._gram_vector(Counter(char_ngrams(text, self.char_sizes)))
        script = int(has_cjk(text))
        message = Message(terms, content_words(text), self._weight)
        ranked = []
        for index in candidates:
            chars = self._chars(query, index)
            word = words.get(index, 0.0)
            score = self.word_weight * word + (1 - self.word_weight) * chars
            meaning = 0.0
            if cosines is not None:
                meaning = max(0.0, float(cosines[index]) - VECTOR_FLOOR) / (1 - VECTOR_FLOOR)
                score = (1 - self.vector_weight) * score + self.vector_weight * meaning
            score *= support(
                message,
                self._script_centroids[index][script],
                self._terms[index],
                self._word_matrices[index],
            )
            ranked.append(Ranked(self.keys[index], score, word, chars, meaning=meaning))
        ranked.sort(key=lambda r: r.score, reverse=True)
        return ranked[:limit]


@dataclass(frozen=True, slots=True)
class MatchPolicy:
    """When the FAQ feature answers: the best entry's score must reach `threshold` and beat
    the runner-up's by `margin`; with `only_questions`, only messages that ask something
    (`bot.text.question.is_question`) are considered, unless `non_question_threshold` is set:
    then other messages are answered too when their best score reaches it (a stricter bar,
    for matchers whose confidence can tell a request from small talk on its own)."""

    threshold: float
    margin: float
    only_questions: bool = True
    non_question_threshold: float | None = None


#: Tuned on CLINC150 and xSID (see docs/performance.md, "FAQ matching").
DEFAULTS = MatchPolicy(threshold=0.19, margin=0.01)


def required_score(policy: MatchPolicy, question: bool) -> float | None:
    """The score a message needs under `policy`, or None if it is not answered whatever its
    score: with `only_questions`, a message that does not ask (`question` false) needs
    `non_question_threshold` if the policy has one, else it is never answered."""
    if policy.only_questions and not question:
        if policy.non_question_threshold is None:
            return None
        return max(policy.threshold, policy.non_question_threshold)
    return policy.threshold


def pick(ranked: Sequence[Ranked], needed: float, margin: float) -> Ranked | None:
    """The best of `ranked` if its score reaches `needed` and leads the runner-up (0 if none)
    by at least `margin`, unless the index flagged it as `small_talk`."""
    if not ranked or ranked[0].score < needed or ranked[0].small_talk:
        return None
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    return ranked[0] if ranked[0].score - runner_up >= margin else None


def decide(index: Ranker, text: str, policy: MatchPolicy = DEFAULTS) -> Ranked | None:
    """The entry to answer `text` with, or None to stay silent (`required_score`, then
    `pick` among the two best entries; nothing is ranked for a message never answered)."""
    needed = required_score(policy, is_question(text))
    return None if needed is None else pick(index.rank(text, 2), needed, policy.margin)
