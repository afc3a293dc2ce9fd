"""Does a message ask for something? Questions and requests, in English and Chinese.

The FAQ feature answers only messages that ask: a question ("how do I join?", "怎么签到"),
a request ("please reset my password", "i'd like to book a room", "帮我查一下积分") or a
report of a problem ("i can't log in", "登不上去了"). Statements and reactions ("ok",
"i like it", "哈哈好的") are left alone, which keeps the bot out of ordinary conversation.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["asks_outright", "is_question", "looks_like_command", "starts_asking"]

# A bot command: a prefix bots use (/ ! ? . $) right before a command's name — "/start@OtherBot",
# "!rank", "?tag rules", ".play"; "?? really", "... what?" and "/ 2" are not.
_COMMAND = re.compile(r"^\s*[/!?.$][^\W\d_]")

# Spaces between Chinese characters (word-segmented text) do not change what it says.
_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")

# Words a message may start with before it gets to the point: "hey, how do I …".
_LEAD = (
    r"^(?:(?:hey|hi|hello|yo|so|and|but|also|well|um+|uh+|oh|ok(?:ay)?|sorry|excuse\s+me|"
    r"guys|folks|everyone|all|quick\s+question|question|q)\b[\s,.:!-]*)*"
)
_INTERROGATIVE = (
    r"what|what's|whats|what're|why|how|how's|hows|when|where|where's|which|who|who's|whom|"
    r"whose|is|are|am|was|were|do|does|did|can|could|should|would|will|shall|may|might|must|"
    r"have|has|had|isn't|aren't|wasn't|weren't|don't|doesn't|didn't|can't|cannot|couldn't|"
    r"won't|wouldn't|shouldn't|haven't|hasn't|anyone|anybody|somebody|someone|any\s+(?:one|idea)"
)
_PREPOSITION = r"(?:in|on|at|for|from|to|by|with|since|until|till|about|after|before|during)"
_REQUEST = (
    r"please|pls|plz|kindly|help|tell|show|give|let\s+me|remind|explain|i\s+need|we\s+need|"
    r"need|i\s+(?:really\s+|just\s+)?(?:want|wanna|would\s+(?:like|love)|'d\s+(?:like|love)|"
    r"have\s+to|must|gotta)|i'd\s+(?:like|love)|i'?m\s+(?:looking|trying|wondering|needing)|"
    r"i\s+am\s+(?:looking|trying|wondering|needing)|i\s+wonder|wondering|looking\s+for"
)
# Imperatives that ask a bot or an admin to do or show something.
_IMPERATIVE = (
    r"activate|add|adjust|apply|book|buy|calculate|call|cancel|change|check|clear|configure|"
    r"confirm|connect|convert|create|deactivate|decrease|define|delete|describe|dial|disable|"
    r"display|download|email|enable|engage|erase|fetch|figure\s+out|find|fix|flip|get|go|"
    r"increase|initiate|install|invite|let's|list|locate|look\s+up|lookup|lower|make|message|"
    r"move|mute|order|pair|pay|place|play|provide|put|raise|read|recommend|redeem|register|"
    r"remove|rename|renew|repeat|report|request|reserve|reset|restart|restore|roll|schedule|"
    r"search|send|set|share|sign\s+(?:me\s+)?up|skip|speak|spell|start|stop|submit|suggest|"
    r"switch|sync|take|text|track|transfer|translate|turn|unlock|update|upgrade|upload|verify|"
    r"what\s+about|how\s+about"
)
_ENGLISH_START = re.compile(
    _LEAD
    + rf"(?:(?:{_INTERROGATIVE})|{_PREPOSITION}\s+(?:what|which|whom|whose|how|when|where)|"
    + rf"(?:{_REQUEST})|(?:{_IMPERATIVE}))\b",
    re.IGNORECASE,
)
# Anywhere in the message: a question after a comma ("if I go abroad, do I need a visa"),
# at the end ("tires should be changed when"), a need, or a problem ("it doesn't work").
_ENGLISH_ANYWHERE = re.compile(
    r"[,;:]\s*(?:what|why|how|when|where|which|who|(?:will|do|does|did|can|could|should|"
    r"would|is|are)\s+(?:i|you|we|it|they|he|she|there))\b|"
    r"\b(?:what|when|where|how|why|who)\W*$|"
    r"\b(?:what|where|when|why|how|which|who)(?:'s|\s+(?:is|are|was|were|do|does|did|can|"
    r"could|should|would|will))\b|"
    r"\b(?:what|which)\s+(?:kind|type|sort|time|day|date|year|month)\b|"
    r"\bhow\s+(?:much|many|long|often|far|old|to|do|does|can|should)\b|"
    # Requests and needs.
    r"\b(?:please|pls|plz|wondering|wonder|assistance)\b|"
    r"(?<!the\s)\bhelp(?:\s+(?:me|us|with|please)\b|\W*$)|"
    r"\b(?:i|we)\s+(?:really\s+|just\s+)?(?:need|want|would\s+like)\b|\bi'd\s+like\b"
)  # matched on lower-cased text: cheaper than IGNORECASE
# Problems reported without asking: "it doesn't work", "i forgot my password".
_ENGLISH_PROBLEM = re.compile(
    r"\b(?:can'?t|cannot|couldn'?t|unable\s+to|(?:does|is|do|are)\s*n[o']t\s+work(?:ing)?|"
    r"not\s+working|won'?t\s+(?:work|start|load|open|let)|forg[eo]t|forgotten|declined|"
    r"locked\s+out|lost|missing|stolen|broken)\b"
)
_CHINESE = re.compile(
    # Question words and particles.
    # 没什么 "nothing", 不怎么 "not very": not asking.
    r"吗|呢[？?。!！]?$|(?<!不)怎么|怎样|怎麼|如何|(?<!没)(?<!没有)什么|什麼|为什么|为何|哪|能不能|能否|可不可以|"
    r"可以不可以|是否|有没有|是不是|要不要|会不会|多少|几|谁|咋|啥|请问|求助|求问|想问|"
    r"想知道|知道.*吗|何时|"
    # Requests: 请…, 帮我…, 给我…, 我想…, 把/将 X 加到…, or a command verb first.
    r"^请|^求|帮我|帮忙|麻烦|给我|告诉我|我想|我要|我需要|"
    r"^[将把].+(?:添加|加到|放到|放进|删除|改成|设为)|"
    r"^(?:设置|设定|取消|删除|删掉|打开|开启|关闭|关掉|播放|显示|查找|查询|查一下|查看|搜索|"
    r"添加|预订|预定|提醒我|列出|找一|找到|下载|修改|重置|申请|注册|登录|兑换)"
)
_CHINESE_PROBLEM = re.compile(r"不能|无法|打不开|登不上|进不去|失败|报错|忘了|忘记")


_WORD = re.compile(r"[a-z']+")
_HAS_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_ANYWHERE_WORDS = frozenset(
    [
        "what",
        "what's",
        "why",
        "how",
        "when",
        "where",
        "which",
        "who",
        "will",
        "do",
        "does",
        "did",
        "can",
        "could",
        "should",
        "would",
        "is",
        "are",
        "please",
        "pls",
        "plz",
        "wondering",
        "wonder",
        "assistance",
        "help",
        "need",
        "want",
        "like",
        "i'd",
        "cant",
        "can't",
        "cannot",
        "couldnt",
        "couldn't",
        "unable",
        "work",
        "working",
        "wont",
        "won't",
        "forget",
        "forgot",
        "forgotten",
        "declined",
        "locked",
        "lost",
        "missing",
        "stolen",
        "broken",
    ]
)

#: How much of a message the word patterns look at.
SCAN = 280


def _reads(text: str, problems: bool) -> bool:
    """Whether `text` asks for something (with `problems`, also whether it reports one)."""
    if "?" in text or "？" in text:
        return True
    # A question shows in its first sentences; long posts are not scanned to the end.
    head = text[:SCAN]
    plain = head.isascii()  # ASCII is already NFKC and has no CJK: skip that work
    text = (head if plain else _CJK_SPACE.sub("", unicodedata.normalize("NFKC", head))).strip()
    if not text:
        return False
    if _ENGLISH_START.match(text):
        return True
    # Every pattern of the English searches needs one of these words: skip the slow search
    # when none occurs (most chat), which keeps logging fast.
    lower = text.lower()
    if not _ANYWHERE_WORDS.isdisjoint(_WORD.findall(lower)) and (
        _ENGLISH_ANYWHERE.search(lower) or (problems and _ENGLISH_PROBLEM.search(lower))
    ):
        return True
    if plain or not _HAS_CJK.search(text):
        return False
    return bool(_CHINESE.search(text) or (problems and _CHINESE_PROBLEM.search(text)))


def starts_asking(text: str) -> bool:
    """True if English `text` opens with an interrogative, a request or an imperative."""
    return _ENGLISH_START.match(text.strip()) is not None


def is_question(text: str) -> bool:
    """True if `text` asks for something: a question mark, an English interrogative,
    request or imperative at the start, a reported problem, or a Chinese question word,
    particle or request."""
    return _reads(text, problems=True)


def asks_outright(text: str) -> bool:
    """True if `text` asks in so many words (as `is_question`, but a problem mentioned
    without asking — "I can't read", "机器人不能冒犯" — does not count)."""
    return _reads(text, problems=False)


def looks_like_command(text: str) -> bool:
    """Whether `text` reads as a command to a bot (Hearth or another): no answers, no XP."""
    return _COMMAND.match(text) is not None
