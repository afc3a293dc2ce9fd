"""Build ``bot/text/minilm_pieces.npz``, the word-piece vectors of the default FAQ matcher.

Each of the 30,522 pieces of BERT's uncased vocabulary is read alone by all-MiniLM-L6-v2
(``[CLS] piece [SEP]``, the int8 ONNX graph of the semantic extra) and its output vector is
kept: a static embedding table in the manner of Model2Vec, distilled once, so the default
matcher knows that "refund" and "money back" are close without running the model. Rows are
stored as int8 with one float32 scale each (11.7 MB).

Needs the semantic extra (``pip install -e '.[semantic]'``); run from the repository root:

    .venv/bin/python scripts/build_word_vectors.py
"""

from __future__ import annotations

import numpy as np

from bot.text.semantic import MiniLmEmbedder
from bot.text.wordpiece import VOCAB
from bot.text.wordvectors import TABLE


def main() -> None:
    """Distil the table and write it beside `bot.text.wordvectors`."""
    embedder = MiniLmEmbedder(threads=2)
    size = len(VOCAB.read_text("utf-8").splitlines())
    vectors = embedder.piece_vectors(range(size))
    scales = np.abs(vectors).max(axis=1) / 127
    scales[scales == 0] = 1.0
    rows = np.round(vectors / scales[:, None]).astype(np.int8)
    np.savez(TABLE, rows=rows, scales=scales.astype(np.float32))
    print(f"{TABLE}: {rows.shape[0]} pieces × {rows.shape[1]}")


if __name__ == "__main__":
    main()
