"""Built-in small talk: everyday chat lines that the semantic FAQ stage treats as a
"not a question for the FAQ" class (see `bot.text.semantic.SemanticIndex`).

Written for Hearth (not taken from any benchmark pool): greetings, thanks, reactions, remarks
about the day and casual questions between members, in English and Chinese. A message whose
nearest line here is closer than its best FAQ entry stays unanswered, so the FAQ's threshold
can sit lower without answering chatter.
"""

from __future__ import annotations

import re

from bot.text.normalize import normalize

__all__ = ["SMALL_TALK", "is_small_talk"]

SMALL_TALK: tuple[str, ...] = (
    "hi",
    "hello everyone",
    "hey there",
    "good morning",
    "good night all",
    "how are you doing today?",
    "I'm fine, thanks",
    "what's up?",
    "lol that's hilarious",
    "haha nice",
    "thanks a lot",
    "you're welcome",
    "no worries",
    "bye, see you later",
    "I agree with you",
    "that makes sense",
    "I don't think so",
    "sounds good to me",
    "ok cool",
    "congrats!",
    "happy birthday",
    "welcome to the server",
    "anyone here?",
    "brb, grabbing coffee",
    "I'm so tired today",
    "what did you have for lunch?",
    "the weather is lovely today",
    "it's raining again here",
    "did you watch the game last night?",
    "I love this song",
    "what are you up to this weekend?",
    "I just got home from work",
    "can't wait for the weekend",
    "good luck with your exam",
    "I'm bored",
    "who wants to play later?",
    "same here",
    "oh really?",
    "wait what",
    "me too",
    "my cat is sleeping on my keyboard",
    "how was your day?",
    "do you like pizza?",
    "what's your favourite movie?",
    "are you still there?",
    "I think he is right about that",
    "that was a long meeting",
    "where did everyone go?",
    "你好呀",
    "大家好",
    "早上好",
    "晚安",
    "哈哈哈",
    "笑死我了",
    "谢谢你",
    "不客气啦",
    "没关系",
    "再见，明天见",
    "我先去吃饭了",
    "今天好累啊",
    "天气真好",
    "又下雨了",
    "你吃饭了吗？",
    "周末有什么安排？",
    "我也是",
    "好的",
    "对啊",
    "真的吗？",
    "太厉害了",
    "恭喜恭喜",
    "生日快乐",
    "欢迎新朋友",
    "有人在吗？",
    "我回来了",
    "好无聊啊",
    "这首歌真好听",
    "你在干嘛呢？",
    "刚下班",
    "加油",
    "我不这么认为",
    "有道理",
    "哇，好可爱",
    "晚上一起打游戏吗？",
    "我家猫又在捣乱",
    "今天的比赛看了吗？",
    "困死了",
    "你今天过得怎么样？",
    "你喜欢吃什么？",
)


# The rules: everyday chat recognised by its form, whatever the FAQ holds. A message is small
# talk when each of its clauses is a greeting, farewell, thanks, acknowledgement, reaction,
# laughter or a "how are you?" (in English or Chinese), with names said to someone ("hi alice",
# "小王，早") and emoji allowed around them. One such clause next to a real question ("thanks!
# how do I join?") leaves the message a question.

_EMOTICON = re.compile(
    r"(?<![\w:])(?:[:;=8][-'^o]?[)(\]\[dDpPoO3/\\|*>@]+|[xX][dD]+|<3+|\^_*\^|[tT]_+[tT]|[oO]_+[oO]"
    r"|[-=>]_+[-=<]|¯\\_\(ツ\)_/¯)(?!\w)"
)
_CLAUSES = re.compile(r"[,.!?;:…~\n\t。！？，、；：～]+|\s+-+\s+")
_APOSTROPHES = str.maketrans("’‘`´", "''''")
_GREETING = (
    r"hi+|hello+|hey+|heya|hiya|howdy|yo+|sup|greetings|hai|ahoy|oi|"
    r"good\s+(?:morning|afternoon|evening|night|day)|g'?morning|mornin[g']?|gm|gn|evening|"
    r"welcome(?:\s+(?:back|aboard|in))?|long\s+time\s+no\s+see|"
    r"(?:(?:it'?s\s+|it\s+is\s+)?(?:so\s+)?(?:nice|pleased|glad|good|great|a\s+pleasure)\s+"
    r"to\s+(?:meet|see|have)\s+(?:you|u|ya)(?:\s+(?:all|too|again))?)|"
    r"top\s+of\s+the\s+morning(?:\s+to\s+you)?|happy\s+(?:\w+day|new\s+year|holidays)|"
    r"merry\s+(?:christmas|xmas)|"
    r"(?:good)?bye+(?:\s*bye)?|bb|cya|see\s+(?:you|ya|u)(?:\s+(?:later|soon|tomorrow|around|all))?|"
    r"later|laters|take\s+care|(?:have\s+a\s+)?(?:nice|good|great|lovely)\s+(?:day|one|night|"
    r"evening|weekend)|gotta\s+go|g2g|gtg|brb|ttyl|afk|(?:i'?m\s+)?back|night|nite|gnight|"
    r"sleep\s+well|sweet\s+dreams"
)
_HOW_ARE_YOU = (
    r"how\s+(?:are|r)\s+(?:you|u|ya|y'?all|you\s+all|you\s+guys|everyone|everybody|things|we)"
    r"(?:\s+(?:doing|feeling|going|today|tonight|all|this\s+(?:morning|evening|week)))*|"
    r"how'?re\s+(?:you|u)(?:\s+doing)?|how\s+(?:you|u|ya)\s+(?:doing|been|feeling)|"
    r"how\s+(?:is|'s|s)\s+(?:it\s+going|everyone|everybody|everything|life|things|"
    r"(?:your|ur)\s+(?:day|week|weekend|morning|evening|night))|hows\s+it\s+going|"
    r"how\s+(?:was|were)\s+(?:your|ur)\s+(?:day|week|weekend|holidays?|trip|night|morning|"
    r"evening|vacation)|how\s+(?:have|'ve)\s+(?:you|u)\s+been|how\s+do\s+you\s+do|"
    r"what'?s\s+(?:up|new|good|happening|going\s+on)|wh?at\s+up|wa+s+u+p+|whass?up|wazz?up|"
    r"(?:are\s+)?(?:you|u)\s+(?:ok|okay|alright|all\s+right|good|well|there|around|here)|"
    r"(?:and|how\s+about|what\s+about)\s+(?:you|u|yourself)|"
    r"(?:thanks|thank\s*(?:you|u|ya|yu)|thx|thnx|thanx|tnx|ty|tysm|tyvm|cheers|kudos|"
    r"much\s+appreciated|appreciate\s+(?:it|that|you)|many\s+thanks)"
    r"(?:\s+(?:so|very)\s+much|\s+a\s+(?:lot|ton|bunch|million)|\s+again|\s+anyway|"
    r"\s+in\s+advance|\s+for\s+\w+(?:\s+\w+){0,2})?"
)
_REACTION = (
    r"ok+|okay|okey|okie|oki|k+|sure|yes+|yeah|yea|yep|yup|ya|yah|no+|nope|nah|naw|"
    r"alright|all\s+right|right|cool|nice|great|awesome|perfect|fine|good|excellent|amazing|"
    r"wow+|whoa|woah|oh+|ah+|aha|uh+|um+|hm+|huh|eh|meh|omg|omfg|wtf|damn|dang|yikes|oops|"
    r"whoops|ugh|sweet|neat|lovely|fair(?:\s+enough)?|true|exactly|indeed|agreed|of\s+course|"
    r"ofc|definitely|absolutely|totally|same(?:\s+here)?|me\s+too|me\s+neither|got\s+it|"
    r"gotcha|i\s+see|(?:that\s+)?makes\s+sense|sounds\s+(?:good|great|fine)|works\s+for\s+me|"
    r"np|no\s+(?:problem|prob|worries)|(?:you'?re|ur|you\s+are)\s+welcome|yw|anytime|sorry|"
    r"my\s+bad|nvm|never\s*mind|congrats|congratulations|grats|gz|gg|wp|well\s+done|"
    r"good\s+(?:job|one|luck)|nice\s+one|gl|hf|hbd|bless\s+you|really|seriously|for\s+real|"
    r"srsly|is\s+(?:that|it)\s+(?:so|true)|"
    r"are\s+you\s+(?:sure|serious|kidding)(?:\s+about\s+(?:that|it|this))?|"
    r"(?:you|u)\s+(?:sure|serious)|no\s+way|why\s+not|how\s+come|how\s+so|"
    r"(?:why|what|how|when|where|who|which)(?:\s+(?:so|not|then|though|exactly))?|"
    r"wait(?:\s+what)?|wut|whut|so|and|but|then|please|pls|plz|\+1|"
    r"(?:can|could|may)\s+i\s+ask\s+(?:you\s+)?(?:a\s+)?(?:quick\s+)?(?:question|something)|"
    r"(?:quick\s+)?question|let\s+me\s+ask\s+(?:you\s+)?(?:a\s+)?(?:question|something)|"
    r"(?:or\s+)?(?:is|isn'?t|does|doesn'?t|did|didn'?t|was|wasn'?t|are|aren'?t|do|don'?t)\s+"
    r"(?:it|you|they|he|she|we|that)|(?:should|am|did|do|have|can|could|would|will)\s+i(?:\s+be)?|"
    r"(?:is\s+)?any(?:one|body)\s+(?:here|around|there|online|awake|alive)|"
    r"l+o+l+[lo]*|lmf?ao+|rofl|roflmao|kek|lul|xd+|(?:ha|he|hi|ho|ah|eh|hu){2,}h?|hah|heh|"
    r"jaja+|jeje+|hhh+|wkwk+"
)
#: Answers to "how are you?" and other replies that say nothing to look up.
_HOW_I_AM = (
    r"(?:i'?m|i\s+am|am|all|we'?re|everything'?s|it'?s)?\s*(?:doing\s+|feeling\s+|"
    r"very\s+|pretty\s+|really\s+|so\s+|just\s+)*(?:fine|good|great|well|ok|okay|alright|"
    r"all\s+right|not\s+(?:bad|great|too\s+bad|so\s+(?:good|great)|much)|so-?so|tired|busy|"
    r"bored|sleepy|hungry|happy|sad|better)(?:\s+(?:thanks|thank\s+you|too|today|now))?|"
    r"could\s+be\s+(?:better|worse)|(?:nothing|not)\s+(?:much|too\s+much)|same\s+old|"
    r"maybe|perhaps|probably|possibly|well|i\s+(?:think|guess|hope)\s+so|i\s+don'?t\s+know|"
    r"idk|dunno|not\s+sure|no\s+idea|who\s+knows|me"
)
_FEELING = (
    r"sad|happy|glad|mad|angry|upset|bored|lonely|jealous|ashamed|amused|tired|sleepy|hungry|"
    r"busy|free|scared|afraid|embarrassed|nervous|excited|worried|sick|ill|drunk|intoxicated|"
    r"crazy|stupid|smart|funny|serious|kidding|joking|real|alive|human|married|single|home|"
    r"awake|there|here|around|online|back|ok|okay|alright|fine|well|sure|ready|in|coming|going"
)
#: Casual questions about the person asked ("are you sad?", "do you like pizza?", "what's
#: your favourite movie?", "what are you up to?"): members asking each other, not the FAQ.
_ABOUT_YOU = (
    rf"(?:(?:are|were|r)\s+)?(?:you|u)\s+(?:ever\s+|still\s+|really\s+|so\s+|very\s+|feeling\s+"
    rf"|getting\s+|not\s+)*(?:{_FEELING}|a\s+(?:bot|robot|human|person|computer|machine|"
    rf"programmer|student|girl|boy|man|woman|fan\s+of\s+\w+)|from\s+\w+|into\s+\w+)"
    rf"(?:\s+(?:today|tonight|now|right\s+now|again|too|then|yet|at\s+all|of\s+me))?|"
    rf"(?:do|did|would|will|can|could|does)\s+(?:you|u)\s+(?:ever\s+|really\s+|still\s+|also\s+|"
    rf"even\s+)*(?:like|love|hate|enjoy|prefer|dream|miss|mind|care|worry|fear|agree|"
    rf"remember\s+me|watch|read|listen|dance|sing|cook|laugh|cry|sleep|eat|drink|smoke|travel|"
    rf"feel|walk|move|die|breathe|think|mate|get\s+(?:{_FEELING}|embarrassed|lonely)|"
    rf"have\s+(?:feelings|emotions|a\s+(?:girlfriend|boyfriend|wife|husband|family|pet|dog|"
    rf"cat|favou?rite\s+\w+)|kids|pets|siblings|brothers|sisters|friends|hobbies))"
    rf"(?:\s+\w+){{0,4}}|"
    rf"(?:what|which)(?:'s|\s+is|\s+are|\s+was|\s+were)?\s+(?:your|ur)\s+(?:favou?rite|fav|name|"
    rf"age|mood|fear|hobby|hobbies|job|plan|plans|opinion|deal|story|sign|birthday|dream|"
    rf"dreams|goal|question|problem|idea)(?:\s+\w+){{0,3}}|"
    rf"(?:what|which)\s+(?:kind|type|sort)s?\s+of\s+\w+(?:\s+\w+)?\s+do\s+(?:you|u)\s+"
    rf"(?:like|love|enjoy|prefer|listen\s+to|watch|read|play)|"
    rf"what\s+(?:are|were|r)\s+(?:you|u)\s+(?:doing|up\s+to|working\s+on|reading|watching|"
    rf"playing|eating|listening\s+to|thinking(?:\s+about)?|feeling|afraid\s+of|scared\s+of|"
    rf"talking\s+about|saying|laughing\s+at)(?:\s+(?:today|tonight|now|right\s+now|later|"
    rf"this\s+weekend|these\s+days))?|"
    rf"what\s+(?:makes|made|annoys|scares|bothers|excites|worries)\s+(?:you|u)(?:\s+\w+)?|"
    rf"(?:does|did|would|will)\s+(?:it|that|this)\s+make\s+(?:you|u)(?:\s+\w+)?|"
    rf"what\s+(?:do|did)\s+(?:you|u)\s+(?:hate|love|like|fear|worry(?:\s+about)?|mean|"
    rf"do\s+for\s+fun|think)|"
    rf"how\s+(?:do|did)\s+(?:you|u)\s+feel(?:\s+\w+){{0,2}}|how\s+(?:old|tall)\s+(?:are|r)\s+"
    rf"(?:you|u)|where\s+(?:are|r)\s+(?:you|u)\s+from|where\s+do\s+(?:you|u)\s+live|"
    rf"who\s+(?:are|r)\s+(?:you|u)|why\s+(?:do|did|would|are)\s+(?:you|u)\s+(?:ask|say\s+that|"
    rf"think\s+so|care|laugh)|"
    rf"have\s+(?:you|u)\s+(?:ever\s+)?(?:heard\s+the\s+news|been\s+to|seen|watched|read|played|"
    rf"felt|loved?|met|eaten)(?:\s+\w+){{0,3}}|tell\s+me\s+(?:more\s+)?about\s+(?:yourself|"
    rf"your\s*self|your\s+\w+|you)"
)
#: Said to someone after a greeting or thanks: a name, "everyone", "guys"… not a topic.
_VOCATIVE = (
    r"(?:\s+(?!(?:about|for|with|to|on|in|at|from|of|the|a|an|my|your|this|that)\b)\w+){0,2}"
)
_ONE = rf"(?:(?:{_GREETING}|{_HOW_ARE_YOU}|{_ABOUT_YOU}){_VOCATIVE}|{_REACTION}|{_HOW_I_AM})"
_ENGLISH = re.compile(rf"{_ONE}(?:\s+{_ONE})*")
#: A clause that is only a name said to someone ("alice, how are you?").
_NAME = re.compile(
    r"(?!(?:how|what|why|when|where|who|which|help|can|is|are|do|does)\b)\w+(?:\s+\w+)?"
)
_CHINESE_PHRASE = (
    r"你好|您好|你们好|大家好|各位好|嗨|哈喽|哈啰|早|早安|早上好|上午好|中午好|下午好|晚上好|"
    r"晚安|欢迎(?:欢迎)?(?:新人|新朋友|新同学|加入|回来|光临)?|好久不见|幸会|"
    r"很?高兴(?:见到|认识)(?:你|您)们?|初次见面|再见|拜拜|拜|回见|回头见|明天见|下次见|晚点见|"
    r"我?先(?:走|撤|下|睡|溜|去忙)了?|去睡了|睡了|下线了|我?回来了|在吗|在不在|在么|"
    r"有人(?:在)?吗|有人在不|(?:你|您|大家)?(?:最近|今天)?(?:还)?好吗|"
    r"(?:最近|今天|这几天)(?:怎么样|如何|过得怎么样|过得好吗)|吃了吗|吃饭了吗|吃了没|"
    r"(?:你)?在干嘛|干嘛呢|在干什么|忙什么呢|怎么了|咋了|(?:那)?你呢|"
    r"谢谢|谢了|谢啦|多谢|感谢|感激|感恩|辛苦了|辛苦啦|辛苦|蟹蟹|3q|不客气|不用谢|没关系|没事儿?|"
    r"不要紧|好的?|好吧|好滴|好嘞|好哒|行|行吧|可以的?|嗯++|恩++|哦++|噢++|喔++|收到|明白了?|懂了|"
    r"知道了|了解|对的?|是的|是啊|没错|确实|有道理|同意|赞|点赞|顶|支持|牛逼?|厉害|太强了|"
    r"强|6{2,}+|真棒|不错|挺好|好主意|是吗|对吗|真的吗|真的假的|不会吧|哇塞?|天哪|我去|卧槽|无语|"
    r"晕|汗|唉|哎呀?|哟|也是|我也是|同感|同上|加油|恭喜|生日快乐|新年快乐|节日快乐|抱歉|"
    r"不好意思|对不起|哈++|呵++|嘿++|嘻++|嘎++|笑死(?:我了)?|笑哭|2?3{3,}+|ok|h{2,}+"
)
_PARTICLES = r"[啊呀呢吧啦嘛呗咯了的哟]*+"
_CHINESE_FEELING = (
    r"伤心|难过|开心|高兴|快乐|生气|害怕|无聊|孤独|寂寞|累|困|饿|忙|疯了?|嫉妒|紧张|兴奋|难受|烦|"
    r"心烦|不开心|好|在|还好|没事"
)
#: How one is, and bare follow-ups with nothing to look up ("什么?", "什么意思").
_CHINESE_REPLY = (
    r"不怎么(?:好|样|的)?|没什么|没啥|还行|还好|一般般?|凑合|马马虎虎|老样子|(?:我)?(?:也)?(?:还|挺|很|超)?"
    r"(?:好|累|忙|困|饿|开心|高兴|无聊)|什么(?:问题|意思|事)?|啥(?:事|意思)?|为什么|为啥|怎么说|"
    r"然后呢|所以呢|真的|哪个|谁|我?(?:能|可以)?(?:问|请教)(?:你|您|大家)?(?:一个|个|一下)?(?:问题)?"
)
#: Casual questions about the person asked: 你喜欢什么书？你是机器人吗？什么让你伤心？
_CHINESE_ABOUT_YOU = (
    rf"你们?(?:最|也|还|真的?)?(?:喜欢|爱|讨厌|恨|害怕|怕|担心|想念)[^，。？！?!]{{0,8}}|"
    rf"你们?(?:是|是不是)(?:个|一个)?(?:机器人|人类?|程序员|学生|男生|女生|男的|女的|谁|哪里人|什么)|"
    rf"你们?(?:还|很|会|也|觉得|感到|感觉)?(?:{_CHINESE_FEELING})|"
    rf"(?:什么|啥)(?:让|使|令)你们?[^，。？！?!]{{0,4}}|你的[^，。？！?!]{{1,4}}是(?:什么|啥)|"
    rf"你们?(?:在|正在)?(?:做|作|干|忙)(?:什么|啥|嘛)|"
    rf"你们?(?:能|会|可以|不能|无法)(?:感觉|感受|体验|思考|做梦|走路|吃饭|睡觉|唱歌|跳舞|哭|笑)(?:到)?|"
    rf"告诉我(?:更多)?(?:关于)?你(?:的)?[^，。？！?!]{{0,6}}|你们?(?:从)?哪里(?:人|来)(?:的)?|"
    rf"你们?多大(?:了)?|你们?几岁(?:了)?|你们?叫什么(?:名字)?"
)
_CHINESE_ADDRESS = re.compile(r"大家|各位|朋友们|兄弟们|姐妹们|老铁们?|亲|你|您")
_CHINESE_END = rf"{_PARTICLES}(?:吗|么|呢|没)?{_PARTICLES}(?:你|您|大家|各位|你们)?"


def _alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of a regular expression (split at ``|`` outside groups)."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(pattern):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "|" and depth == 0:
            parts.append(pattern[start:index])
            start = index + 1
    return [*parts, pattern[start:]]


#: One pattern per Chinese small-talk phrase, each with its particles: a clause is read as a
#: chain of them (`_is_chinese_chat`), which stays linear where one big pattern would
#: backtrack exponentially on "好的好的好的…".
_CHINESE_UNITS = tuple(
    re.compile(rf"(?:{part}){_CHINESE_END}")
    for part in _alternatives(f"{_CHINESE_PHRASE}|{_CHINESE_REPLY}|{_CHINESE_ABOUT_YOU}")
)


#: Matches where any unit does: most clauses fail it at once, before the units are tried.
_ANY_UNIT = re.compile("|".join(f"(?:{unit.pattern})" for unit in _CHINESE_UNITS))


def _is_chinese_chat(clause: str) -> bool:
    """Whether `clause` (no spaces) is a chain of small-talk phrases, after an optional form
    of address (大家, 各位, 你…)."""
    address = _CHINESE_ADDRESS.match(clause)
    frontier = {0, address.end()} if address else {0}
    reached: set[int] = set()
    while frontier:
        start = frontier.pop()
        if not _ANY_UNIT.match(clause, start):
            continue
        for unit in _CHINESE_UNITS:
            found = unit.match(clause, start)
            if found and found.end() > start and found.end() not in reached:
                if found.end() == len(clause):
                    return True
                reached.add(found.end())
                frontier.add(found.end())
    return False


#: A clause of a few CJK characters with no question word: a name or a form of address.
_CHINESE_NAME = re.compile(r"[\u3400-\u9fff]{1,3}")
_CHINESE_ASKS = re.compile(r"[吗么呢什怎哪谁几啥咋如何为多请帮]")


def _clause_kind(clause: str) -> str | None:
    """ "chat" for a small-talk clause, "name" for one that may be only a name, else None."""
    if _ENGLISH.fullmatch(clause) or _is_chinese_chat(clause.replace(" ", "")):
        return "chat"
    if _NAME.fullmatch(clause) or (
        _CHINESE_NAME.fullmatch(clause) and not _CHINESE_ASKS.search(clause)
    ):
        return "name"
    return None


def is_small_talk(text: str) -> bool:
    """True if `text` is everyday chat, not something to ask the FAQ: greetings, farewells,
    thanks, acknowledgements, reactions and laughter ("lol", "好的", "哈哈"), "how are you?"
    and "在吗", alone or together, with names ("hi alice, how are you?") and emoji; or
    nothing but emoji. Any other clause ("thanks! how do I join?") makes it not small talk.
    """
    folded = normalize(_EMOTICON.sub(" ", text)).translate(_APOSTROPHES)
    kinds = [_clause_kind(c.strip()) for c in _CLAUSES.split(folded) if c.strip()]
    if None in kinds:
        return False
    return not kinds or "chat" in kinds
