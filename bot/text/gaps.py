"""Is an unanswered message a question an admin could turn into an FAQ entry?

The FAQ logs what it could not answer so that admins see what their FAQ lacks. Only messages
that stand on their own and ask about something belong there. Left out, besides small talk
(`bot.text.smalltalk`):

- statements that only mention a problem word ("I'm software, I can't feel pain", "机器人不能冒犯")
  unless they are one short first-person report ("I can't log in", "我登不上去");
- talk about feelings between the people chatting ("why would I feel sad?", "你生气吗");
- questions about the speakers themselves ("have I erred?", "did you sleep well?") and
  follow-ups that only make sense in the conversation ("what about yesterday?", "is that
  true?", "它是什么样的?").

How-to questions in the first person ("how do I join?", "can I pay by card?", "我怎么签到")
stay gaps: that is what an FAQ is for.
"""

from __future__ import annotations

import re

from bot.text.normalize import normalize
from bot.text.question import asks_outright, starts_asking
from bot.text.smalltalk import is_small_talk

__all__ = ["is_gap_question"]

_CJK = re.compile(r"[\u3400-\u9fff]")
_SENTENCES = re.compile(r"[.!。！;；]+\s*|\s+-\s+")
#: A short report of one's own problem: "I can't log in", "my card was declined".
_OWN_REPORT = re.compile(r"^(?:i|i'm|im|i've|ive|my|we|we're|our|me|cannot|can't|cant|unable)\b")
_REPORT_WORDS = 16
#: "Can't" that reports no problem: "i can't wait", "can't believe it", "can't hear you".
_IDIOM = re.compile(
    r"\b(?:can'?t|cannot|couldn'?t)\s+(?:wait|believe|stop|stand|complain|even|help\s+it|"
    r"help\s+(?:laughing|smiling)|thank|agree|imagine|hear\s+you|see\s+you|get\s+enough)\b"
)
_CHINESE_OWN_REPORT = re.compile(r"^(?:我|我们|我的)")
_CHINESE_REPORT_CHARS = 20
_CHINESE_CLAUSE = re.compile(r"[,，、]")
_SHORT_WORDS = 4
_SHORT_CHARS = 6

_FEELINGS = (
    r"sad|sadness|happy|angry|anger|mad|jealous|jealousy|envy|shame|ashamed|embarrass\w*|"
    r"offend\w*|offense|frighten\w*|afraid|scared|lonely|bored|boredom|emotions?|emote|"
    r"feel|feels|feeling|feelings|felt|love|hate|pain|hurt|upset|arrogan\w*|proud|cry|"
    r"laugh|dream|dreams|fear|depressed|mood"
)
_FEELING = re.compile(rf"\b(?:{_FEELINGS})\b")
_PEOPLE = re.compile(r"\b(?:i|me|my|myself|you|u|your|yourself|we|us)\b")
_CHINESE_FEELINGS = re.compile(
    r"悲伤|难过|伤心|开心|高兴|快乐|生气|愤怒|嫉妒|羞耻|尴尬|冒犯|害怕|孤独|寂寞|无聊|情绪|情感|感情|"
    r"感受|感觉|爱|恨|痛|哭|笑|梦"
)
_CHINESE_PEOPLE = re.compile(r"[你我您]")

#: Questions about the speakers: their state, their past, what they know.
_ABOUT_SPEAKERS = re.compile(
    r"^(?:(?:what|why|how|when|who|where)\s+)?(?:have|has|did|was|were|am)\s+(?:i|you|u)\b|"
    r"^how\s+(?:has|have|is|was)\s+(?:your|ur)\s+\w+(?:\s+\w+)?\s+been\b|"
    r"^why\s+(?:do|did|would)\s+(?:you|u)\s+(?:ask|say|want\s+to\s+know|think\s+so)\b|"
    r"^(?:(?:what|why|how)\s+)?(?:would|should)\s+i\s+(?:be|feel)\b|"
    r"^(?:are|were)\s+(?:you|u)\s+(?!able\b|allowed\b|open\b|hiring\b|accepting\b)|"
    r"^do\s+(?:you|u)\s+know(?:\s+(?:all|any|anything|it|that|this|of|me|him|her|them|about\s+\w+))*\W*$|"
    r"^(?:how|what)\s+do\s+(?:you|u)\s+(?:work|do|mean|think|say)\W*$|"
    r"^do\s+i\s+(?:frighten|scare|bother|annoy|bore|know|look|sound|seem)\b|"
    r"^what\s+(?:do|did|have)\s+i\s+(?:do|done|did|say|said)\b|"
    r"\bwho\s+is\s+your\b|^is\s+there\s+a\s+reason\s+(?:that\s+|why\s+)?(?:i|you)\s+should\b|"
    r"\bwondering\s+if\s+(?:you|u)\s+(?:could|would|can|will|might)\b"
)
#: Follow-ups that refer back to the conversation.
_FOLLOW_UP = re.compile(
    r"^(?:and\s+|so\s+|but\s+)?(?:what|how)\s+about\b|"
    r"^(?:is|was|does|did|isn't|doesn't|would|will|can)\s+that\b|"
    r"^(?:what|why|how)\s+(?:does|did|is|was|would)\s+that\b|"
    r"^what\s+(?:else|good|\w+\s+news)\b|^what\s+(?:kind|sort|type)\s*\W*$|"
    r"^(?:did|has)\s+(?:something|anything)\s+happen|^(?:does|did|would)\s+(?:it|that)\s+matter\b|"
    r"^(?:do\s+not|don't|dont)\s+(?:worry|mind|bother|be\s+\w+)\b|^what\s+an?\s+(?!\w+\s+(?:is|are|do|does|can)\b)|"
    r"[,\s](?:right|yes|no|eh|huh|isn't\s+it|don't\s+you|aren't\s+you|no\s+way)\s*\?\s*$"
)
_CHINESE_FOLLOW_UP = re.compile(
    r"^(?:那|那么)?(?:它|这|那|这个|那个)(?:是|是不是|到底是)?(?:什么样|怎么样|什么意思)|"
    r"^(?:还有)?(?:其他|别的)|^什么(?:新闻|消息|好消息)|^你想(?:了解|知道|要)|"
    r"^我(?:能|可以)?帮你|^这是(?:一个)?.+还是"
)
_CHINESE_ABOUT_SPEAKERS = re.compile(
    r"^你(?:如何|怎么|怎样)(?:运作|工作|做到)|^你(?:知道|听到|听说)(?:它|这|那)?.{0,6}吗|"
    r"^我(?:从未|从来没|曾经|有没有).{0,6}吗|^你(?:使用|用)什么语言|"
    r"^你(?:是)?从哪(?:里|儿)?(?:听|看|知道|学|得知)"
)


_OPENING = re.compile(r"^(?:(?:hi|hey|hello|ok|okay|alright|well|so|sorry|oh)\b[\s,.!]*)+")
_NOT_FOR_THE_FAQ = (_ABOUT_SPEAKERS, _FOLLOW_UP, _CHINESE_FOLLOW_UP, _CHINESE_ABOUT_SPEAKERS)


#: Asking inside a sentence without a question mark: "if i go abroad, do i need a visa",
#: "for flight dl123 what's the status", "i need my bank to know". Relative clauses
#: (", which is…", "others who are…") are not asking.
_ASKS_INSIDE = re.compile(
    r"[,;:]\s*(?:what|how|when|where|why|(?:do|does|did|can|could|should|would|will|is|are)\s+"
    r"(?:i|you|we|it|they|there))\b|"
    r"\b(?:what|where|when|why|how)(?:'s|\s+(?:is|are|do|does|did|can|should|would|will))\b|"
    r"\bhow\s+(?:much|many|long|often|far|to)\b|"
    r"\b(?:i|we)\s+(?:really\s+|just\s+)?(?:need|want|would\s+like)\b|\bi'd\s+like\b|"
    r"\b(?:please|pls|plz|wondering|help\s+me)\b"
)


def _asks_without_mark(text: str) -> bool:
    """Whether `text`, which has no question mark, still asks: it opens as a question or a
    request, asks inside a sentence, is Chinese with a question word or request ("怎么签到",
    "帮我查一下"), or is one short report of one's own problem."""
    if _CJK.search(text):
        return asks_outright(text) or _is_own_report(text)
    return bool(starts_asking(text) or _ASKS_INSIDE.search(text) or _is_own_report(text))


def _about_feelings(text: str) -> bool:
    """Talk about feelings: a feeling word next to the people chatting ("why would I feel
    sad?", "你生气了吗"), or all but alone ("how angry", "mad?"), rather than a topic."""
    if _CJK.search(text):
        return bool(
            _CHINESE_FEELINGS.search(text)
            and (_CHINESE_PEOPLE.search(text) or len(text) <= _SHORT_CHARS)
        )
    return bool(
        _FEELING.search(text) and (_PEOPLE.search(text) or len(text.split()) <= _SHORT_WORDS)
    )


def _is_own_report(text: str) -> bool:
    """Whether `text`, which mentions a problem without asking, is one short first-person
    report of it ("I can't log in", "我登不上去")."""
    sentences = [s for s in _SENTENCES.split(text) if s.strip()]
    if len(sentences) != 1:
        return False
    sentence = sentences[0].strip()
    if _CJK.search(sentence):
        return bool(
            _CHINESE_OWN_REPORT.match(sentence)
            and len(sentence) <= _CHINESE_REPORT_CHARS
            and not _CHINESE_CLAUSE.search(sentence)
        )
    words = sentence.split()
    return bool(
        _OWN_REPORT.match(sentence)
        and not _IDIOM.search(sentence)
        and len(words) <= _REPORT_WORDS
        and not re.search(r"\b(?:so|because|but|though|although|if)\b", sentence)
    )


def is_gap_question(text: str) -> bool:
    """True if `text` (which `bot.text.question.is_question` read as asking) is worth logging
    as an unanswered question: it asks outright or reports one's own problem, and it is
    neither small talk, nor about feelings or the speakers, nor a follow-up."""
    folded = normalize(text).replace("’", "'").strip()
    if not folded or is_small_talk(text) or _about_feelings(folded):
        return False
    sentences = [s.strip() for s in re.split(r"(?<=[.!?。！？])\s*", folded) if s.strip()]
    asked = next((s for s in reversed(sentences) if s.endswith(("?", "？"))), None)
    if asked is None and not _asks_without_mark(folded):
        return False  # "there are others who know": a wh-word inside a statement
    question = asked or sentences[-1]
    clauses = [c.strip() for c in re.split(r"[,，]", question) if c.strip()]
    for part in {question, clauses[-1] if clauses else question}:
        part = _OPENING.sub("", part)
        if any(p.search(part) for p in _NOT_FOR_THE_FAQ):
            return False
    return True
