"""Answering members' questions from the FAQ, only when confident, and learning from misses."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from datetime import datetime, timedelta

from bot.commands import Command
from bot.config import FaqSettings
from bot.events import Action, Event, Message, ReactionAdded, Reply
from bot.features.base import BaseFeature, EventContext, Services
from bot.features.faq.library import IndexFactory, Library
from bot.text.gaps import is_gap_question
from bot.text.matcher import FaqIndex, MatchPolicy, Ranked, Ranker, pick, required_score
from bot.text.question import is_question, looks_like_command
from bot.text.semantic import Embedder, MiniLmEmbedder, SemanticIndex, UseEmbedder
from bot.text.smalltalk import SMALL_TALK
from bot.text.tokenize import word_tokens
from storage.counters import FaqLog
from storage.faq import recent_answers, record_vote

__all__ = [
    "HELPFUL",
    "NOT_HELPFUL",
    "FaqFeature",
    "is_gap",
    "match_policy",
    "semantic_indexes",
]

logger = logging.getLogger(__name__)
HELPFUL = frozenset({"👍", "👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿", "❤️", "🙏", "✅"})
NOT_HELPFUL = frozenset({"👎", "👎🏻", "👎🏼", "👎🏽", "👎🏾", "👎🏿", "❌"})
TAG = "faq:"


def match_policy(faq: FaqSettings, *, semantic: bool | None = None) -> MatchPolicy:
    """When an answer is confident enough under `faq`: the semantic stage's bars when it is
    on (`semantic`, by default `faq.semantic`), else the lexical matcher's."""
    if faq.semantic if semantic is None else semantic:
        return MatchPolicy(
            threshold=faq.semantic_threshold,
            margin=faq.semantic_margin,
            only_questions=faq.only_questions,
            non_question_threshold=(
                faq.semantic_non_question_threshold
                if faq.semantic_non_question_threshold < 1
                else None
            ),
        )
    return MatchPolicy(
        threshold=faq.threshold, margin=faq.margin, only_questions=faq.only_questions
    )


def is_gap(text: str, question: bool, ranked: Sequence[Ranked]) -> bool:
    """Whether a message the FAQ did not answer is logged as an unanswered question (a gap):
    it asks (`question`, from `is_question`), has words (not "???" or a bare link), is a
    question an admin could add to the FAQ (`bot.text.gaps.is_gap_question`: not small talk,
    chat about the speakers or a follow-up) and the semantic stage did not find it closer to
    the built-in small-talk lines than to its best entry (`ranked`)."""
    return (
        question
        and bool(word_tokens(text))
        and not (ranked and ranked[0].small_talk)
        and is_gap_question(text)
    )


def semantic_indexes(faq: FaqSettings, embedder: Embedder, cjk_embedder: Embedder) -> IndexFactory:
    """Builds semantic indexes under `faq`'s settings: `embedder` for questions without
    CJK characters, `cjk_embedder` for the others."""

    def build(entries: Sequence[tuple[Hashable, Sequence[str]]]) -> Ranker:
        return SemanticIndex(
            entries,
            embedder,
            weight=faq.semantic_weight,
            cjk_embedder=cjk_embedder,
            small_talk=SMALL_TALK if faq.semantic_small_talk else (),
        )

    return build


class FaqFeature(BaseFeature):
    """Replies with the best entry when the matcher is confident; logs unanswered questions.

    Answers given and questions missed are queued in `log` and written with the activity
    writer's next batch (in its transaction): no transaction per message. A command that
    reads them back flushes the writer first.
    """

    name = "faq"

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self.library = Library(services.database, services.clock, self._index_factory())
        self._answered: dict[tuple[int, str, str | None, int], datetime] = {}
        # Answers given before this process started (from faq_answers, which has no thread):
        # (community, platform, channel, entry) → when, read once per community.
        self._before: dict[tuple[int, str, str, int], datetime] = {}
        self._restored: set[int] = set()
        self.log = FaqLog()
        services.writer.attach(self.log)

    @property
    def settings(self) -> FaqSettings:
        """The FAQ settings."""
        return self.services.settings.faq

    def _index_factory(self) -> IndexFactory:
        """Lexical matching, or lexical + semantic when `faq.semantic` is on.

        Raises:
            SemanticUnavailable: semantic matching is on but its package is not installed.
        """
        if not self.settings.semantic:
            return FaqIndex
        # English (and other non-CJK) questions: MiniLM; Chinese/Japanese/Korean: USE.
        return semantic_indexes(self.settings, MiniLmEmbedder(), UseEmbedder())

    def policy(self) -> MatchPolicy:
        """When an answer is confident enough, from the settings."""
        return match_policy(self.settings)

    def commands(self) -> Sequence[Command]:
        """The /faq commands."""
        from bot.features.faq.commands import faq_commands

        return faq_commands(self)

    async def on_event(self, event: Event, context: EventContext) -> Sequence[Action]:
        """Answer a question, or count a reaction on an answer as feedback."""
        if not self.settings.enabled:
            return ()
        if (
            isinstance(event, Message)
            and not event.author.is_bot
            and not event.is_media  # a caption or a poll is not asked of the FAQ
            and event.text.strip()
            and not looks_like_command(event.text)  # e.g. "/start@OtherBot", "!rank"
        ):
            return await self._answer(event, context)
        if isinstance(event, ReactionAdded) and not event.reactor.is_bot:
            await self._react(event, context)
        return ()

    async def best(self, community_id: int, text: str) -> tuple[Ranked | None, list[Ranked]]:
        """The confident match (or None) and the two best candidates, for `/faq ask`."""
        policy = self.policy()
        ranked = (await self.library.shelf(community_id)).index.rank(text, 2)
        needed = required_score(policy, is_question(text))
        return (None if needed is None else pick(ranked, needed, policy.margin)), ranked

    async def _answer(self, event: Message, context: EventContext) -> list[Action]:
        community = context.community.id
        question = is_question(event.text)
        policy = self.policy()
        needed = required_score(policy, question)
        if needed is None:
            return []  # chat that could not be answered: not ranked at all
        shelf = await self.library.shelf(community)
        ranked = shelf.index.rank(event.text, 2)
        match = pick(ranked, needed, policy.margin)
        if match is None:
            if is_gap(event.text, question, ranked):
                self._log_miss(event, context, ranked)
            return []
        if event.backfilled:
            return []  # read from history later: it was never answered, so log no answer
        entry_id = int(str(match.key))
        if self._cooling(community, event, entry_id):
            return []
        await self._restore(community, event.sent_at)
        if self._cooling(community, event, entry_id):
            return []
        key = (community, event.place.channel_id, event.place.thread_id, entry_id)
        self._answered[key] = event.sent_at
        entry = shelf.entries[entry_id]
        self.log.answered(
            {
                "community_id": community,
                "entry_id": entry_id,
                "member_id": context.member_id,
                "platform": event.place.platform,
                "channel_id": event.place.channel_id,
                "message_id": event.message_id,
                "score": match.score,
                "at": event.sent_at,
            }
        )
        return [Reply(event.place, event.message_id, entry.answer, tag=f"{TAG}{entry_id}")]

    def _cooling(self, community: int, event: Message, entry_id: int) -> bool:
        """Whether the entry answered in this place within the cooldown: per thread (each
        forum topic or Discord thread is its own conversation), or in the channel before a
        restart (the log does not keep threads)."""
        window = timedelta(minutes=self.settings.answer_cooldown_minutes)
        place = event.place
        for last in (
            self._answered.get((community, place.channel_id, place.thread_id, entry_id)),
            self._before.get((community, place.platform, place.channel_id, entry_id)),
        ):
            if last is not None and event.sent_at - last < window:
                return True
        return False

    async def _restore(self, community: int, now: datetime) -> None:
        """Read the community's answers of the last cooldown window from the database, once
        per process, so that a restart does not post the same answer again at once."""
        if community in self._restored:
            return
        self._restored.add(community)
        since = now - timedelta(minutes=self.settings.answer_cooldown_minutes)
        async with self.services.database.session() as session:
            rows = await recent_answers(session, community_id=community, since=since)
        for platform, channel, entry_id, at in rows:
            self._before[(community, platform, channel, entry_id)] = at

    def _log_miss(self, event: Message, context: EventContext, ranked: list[Ranked]) -> None:
        keep = self.services.settings.activity.store_message_text
        best = ranked[0] if ranked else None
        self.log.unanswered(
            {
                "community_id": context.community.id,
                "member_id": context.member_id,
                "platform": event.place.platform,
                "channel_id": event.place.channel_id,
                "message_id": event.message_id,
                "text": event.text if keep else None,
                "best_entry_id": int(str(best.key)) if best else None,
                "best_score": best.score if best else 0.0,
                "at": event.sent_at,
            }
        )

    async def _react(self, event: ReactionAdded, context: EventContext) -> None:
        place = event.place
        tag = self.services.dispatcher.tag_of(place.platform, place.channel_id, event.message_id)
        if tag is None or not tag.startswith(TAG):
            return
        if event.emoji not in HELPFUL | NOT_HELPFUL:
            return
        async with self.services.database.session() as session, session.begin():
            await record_vote(
                session,
                entry_id=int(tag.removeprefix(TAG)),
                member_id=context.member_id,
                helpful=event.emoji in HELPFUL,
                at=event.at,
            )
