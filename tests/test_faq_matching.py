"""FAQ matching: question detection, tokens, the decision rule, and an accuracy floor on a
hand-made Chinese FAQ (tests/data/faq_zh.yaml, tests/data/faq_zh_chat.txt)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.features.faq.files import read_entries
from bot.text.matcher import DEFAULTS, FaqIndex, MatchPolicy, Ranked, decide
from bot.text.question import is_question
from bot.text.tokenize import char_ngrams, word_tokens

DATA = Path(__file__).parent / "data"
# Floors for the Chinese set at DEFAULTS, a little under what the matcher does today
# (55/99 right, 2 wrong, 0 of 100 chat lines answered), so they catch regressions.
ZH_RIGHT_FLOOR = 0.48
ZH_WRONG_CEILING = 0.05
ZH_CHAT_FALSE_TRIGGERS = 0.02

ENTRIES: list[tuple[Hashable, Sequence[str]]] = [
    ("password", ["How do I reset my password?", "I forgot my password"]),
    ("refund", ["How do I get a refund?", "Can I get my money back?"]),
    ("rules", ["Where are the server rules?", "What are the rules here?"]),
    ("checkin", ["怎么每日签到？", "签到有什么奖励？"]),
]


def _load_zh() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = yaml.safe_load((DATA / "faq_zh.yaml").read_text("utf-8"))
    return entries


def _chat_lines() -> list[str]:
    text = (DATA / "faq_zh_chat.txt").read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


# --- is_question -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "How do I reset my password?",
        "how do i reset my password",
        "what's the server ip",
        "hey, where are the rules",
        "Is there a refund policy",
        "anyone know how to join the guild",
        "please reset my password",
        "i'd like a refund for my order",
        "i need help with the installer",
        "I can't log in since yesterday",
        "tell me the event schedule",
        "in what channel do I post clips",
        "if I buy the pass today, do I get the skins",
        "next song please",
        "怎么签到",
        "积分有什么用",
        "这个活动几点开始",
        "群规在哪里看呢",
        "可以退款吗",
        "帮我查一下积分",
        "我想加入公会",
        "密码忘了登不上去",
        "请 问 怎么 签到",
    ],
)
def test_is_question_recognises_questions_and_requests(text: str) -> None:
    assert is_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "ok",
        "thanks for the help",
        "lol that was great",
        "I like this server",
        "good morning everyone",
        "see you tomorrow",
        "that's what I said",
        "好的",
        "哈哈哈笑死我了",
        "今天天气不错",
        "晚安",
        "谢谢大家",
    ],
)
def test_is_question_leaves_statements_alone(text: str) -> None:
    assert not is_question(text)


def test_is_question_reads_full_width_question_marks() -> None:
    assert is_question("今天下雨？")
    assert is_question("ＷＨＥＲＥ ＩＳ ＩＴ")


# --- tokenization ----------------------------------------------------------------------------


def test_word_tokens_stem_and_drop_stop_words() -> None:
    assert word_tokens("How do I reset my passwords?") == ["how", "reset", "password"]
    assert word_tokens("Resetting PASSWORD") == ["reset", "password"]
    assert word_tokens("the of and") == []


def test_word_tokens_drop_contraction_fragments() -> None:
    assert word_tokens("I don't know what's up") == ["know", "up"]


def test_word_tokens_chinese_bigrams_and_characters() -> None:
    assert word_tokens("签到奖励") == ["签到", "到奖", "奖励", "签", "到", "奖", "励"]
    # Two stop characters make no bigram and no single; one stop character keeps its bigram.
    assert word_tokens("我的积分") == ["的积", "积分", "积", "分"]
    assert word_tokens("还款") == ["还款", "款"]


def test_word_tokens_join_segmented_chinese_and_mixed_text() -> None:
    assert word_tokens("每日 签到") == word_tokens("每日签到")
    assert word_tokens("Steam版本") == ["steam", "版本", "版", "本"]


def test_word_tokens_are_width_and_case_insensitive() -> None:
    assert word_tokens("ＲＥＳＥＴ Password") == word_tokens("reset password")


def test_char_ngrams_mark_word_boundaries() -> None:
    grams = char_ngrams("reset pwd")
    assert " re" in grams
    assert "set " in grams
    assert "t pw" in grams
    assert all(gram.strip() for gram in grams)


def test_char_ngrams_use_short_grams_for_chinese() -> None:
    assert char_ngrams("签到", sizes=(3,)) == ["签", "到", "签到"]
    assert char_ngrams("签到 ok", sizes=(3,)) == ["签", "到", "签到", " ok", "ok "]


# --- the index -------------------------------------------------------------------------------


def test_rank_orders_entries_and_scores_between_zero_and_one() -> None:
    index = FaqIndex(ENTRIES)
    ranked = index.rank("how can I reset my password", 3)
    assert ranked[0].key == "password"
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)
    assert all(0 <= r.score <= 1 and 0 <= r.words <= 1 and 0 <= r.chars <= 1 for r in ranked)
    assert index.rank("每天签到在哪", 1)[0].key == "checkin"


def test_rank_of_nothing_is_empty() -> None:
    assert FaqIndex(ENTRIES).rank("the of and", 2) == []
    assert FaqIndex([]).rank("reset my password", 2) == []
    assert FaqIndex(ENTRIES).rank("zebra xylophone", 2) == []


def test_exact_phrasing_scores_high_and_unknown_words_lower_it() -> None:
    index = FaqIndex(ENTRIES)
    exact = index.rank("How do I reset my password?", 1)[0]
    assert exact.key == "password"
    assert exact.score > 0.8
    diluted = index.rank("how do I reset my password for the minecraft launcher", 1)[0]
    assert diluted.key == "password"
    assert diluted.score < exact.score


def test_index_scales_without_losing_the_answer() -> None:
    many = [(f"{key}-{copy}", phrasings) for copy in range(50) for key, phrasings in ENTRIES]
    ranked = FaqIndex(many).rank("how do I get a refund", 2)
    assert str(ranked[0].key).startswith("refund")


# --- decide ----------------------------------------------------------------------------------


class _Fixed:
    """A ranker that always returns the same candidates."""

    def __init__(self, *scores: float) -> None:
        self.ranked = [Ranked(f"e{n}", s, s, s) for n, s in enumerate(scores)]

    def rank(self, text: str, limit: int = 2) -> list[Ranked]:
        return self.ranked[:limit]


def test_decide_threshold() -> None:
    policy = MatchPolicy(threshold=0.5, margin=0.0)
    assert decide(_Fixed(0.5), "how?", policy) == Ranked("e0", 0.5, 0.5, 0.5)
    assert decide(_Fixed(0.49), "how?", policy) is None
    assert decide(_Fixed(), "how?", policy) is None


def test_decide_margin() -> None:
    policy = MatchPolicy(threshold=0.3, margin=0.1)
    assert decide(_Fixed(0.6, 0.55), "how?", policy) is None
    found = decide(_Fixed(0.6, 0.45), "how?", policy)
    assert found is not None
    assert found.key == "e0"
    # A single candidate leads an absent runner-up (score 0).
    assert decide(_Fixed(0.35), "how?", policy) is not None


def test_decide_only_questions() -> None:
    asking = MatchPolicy(threshold=0.1, margin=0.0)
    anything = MatchPolicy(threshold=0.1, margin=0.0, only_questions=False)
    assert decide(_Fixed(0.9), "I reset my password yesterday", asking) is None
    assert decide(_Fixed(0.9), "I reset my password yesterday", anything) is not None


def test_decide_non_question_threshold() -> None:
    policy = MatchPolicy(threshold=0.4, margin=0.0, non_question_threshold=0.6)
    assert decide(_Fixed(0.5), "how do I reset it?", policy) is not None
    assert decide(_Fixed(0.5), "I reset my password yesterday", policy) is None
    assert decide(_Fixed(0.6), "I reset my password yesterday", policy) is not None


def test_decide_with_the_real_index_at_defaults() -> None:
    index = FaqIndex(ENTRIES)
    found = decide(index, "how can i reset my password?")
    assert found is not None
    assert found.key == "password"
    assert decide(index, "i reset my password lol") is None  # not asking
    assert decide(index, "what's the weather like in Paris?") is None  # nothing fits
    assert DEFAULTS.only_questions
    assert 0 < DEFAULTS.threshold < 1
    assert DEFAULTS.margin >= 0


# --- the Chinese FAQ -------------------------------------------------------------------------


def test_chinese_faq_is_in_the_import_format() -> None:
    raw = _load_zh()
    assert len(raw) >= 30
    for entry in raw:
        assert len(entry["questions"]) == 3
        assert len(entry["test_questions"]) >= 3
        assert not set(entry["questions"]) & set(entry["test_questions"])
        assert entry["answer"]
        assert entry["tags"]
    imported = read_entries(DATA / "faq_zh.yaml")
    assert [e.key for e in imported] == [e["id"] for e in raw]
    assert len(set(_chat_lines())) == 100


def test_chinese_faq_accuracy_floor() -> None:
    raw = _load_zh()
    index = FaqIndex([(entry["id"], entry["questions"]) for entry in raw])
    right = wrong = asked = 0
    for entry in raw:
        for question in entry["test_questions"]:
            asked += 1
            found = decide(index, question, DEFAULTS)
            right += found is not None and found.key == entry["id"]
            wrong += found is not None and found.key != entry["id"]
    assert right / asked >= ZH_RIGHT_FLOOR, f"{right}/{asked} answered right"
    assert wrong / asked <= ZH_WRONG_CEILING, f"{wrong}/{asked} answered wrong"
    chat = _chat_lines()
    triggered = [line for line in chat if decide(index, line, DEFAULTS) is not None]
    assert len(triggered) / len(chat) <= ZH_CHAT_FALSE_TRIGGERS, triggered


@given(
    st.lists(
        st.sampled_from(
            [
                "how",
                "what's",
                "i'd",
                "like",
                "can't",
                "help",
                "me",
                "the",
                "build",
                "works",
                "please",
                "forgot",
                "my",
                "password",
                ",",
                "do",
                "you",
                "know",
                "lost",
                "ok",
                "谢谢",
                "怎么",
                "好的",
                "?",
                "PLEASE",
                "Help",
                "wonder",
                "x",
            ]
        ),
        max_size=12,
    )
)
def test_the_word_precheck_never_changes_the_answer(words: list[str]) -> None:
    import bot.text.question as q

    text = " ".join(words)
    slow = bool(
        "?" in text
        or q._ENGLISH_START.match(text)
        or q._ENGLISH_ANYWHERE.search(text.lower())
        or q._ENGLISH_PROBLEM.search(text.lower())
        or q._CHINESE.search(text)
        or q._CHINESE_PROBLEM.search(text)
    )
    assert q.is_question(text) == slow, text
