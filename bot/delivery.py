"""Delivery of actions to the adapters, and what happens when a platform refuses one.

Each adapter attaches a sink for its platform. A `DeliveryFailed` from a sink becomes a note
in the community's moderators' channel (once per problem a day), never an unhandled error;
any other exception is logged with the action and the rest are still delivered. `deliver()`
returns what happened (`Delivery`), for callers with their own retry policy (scheduled posts).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.directory import Directory
from bot.errors import DeliveryFailed, DeliveryProblem
from bot.events import (
    Action,
    Card,
    DeleteMessage,
    DirectMessage,
    GrantRole,
    Place,
    Poll,
    Post,
    React,
    Reply,
    Restrict,
    Role,
    Sanction,
    action_group,
    action_platform,
)
from bot.i18n import N_, Translator, translator
from bot.recent import Recent
from storage.identity import CommunityInfo

__all__ = [
    "Delivery",
    "Dispatcher",
    "RoleLookup",
    "Sink",
    "defuse_mass_mentions",
    "safe_action",
]

logger = logging.getLogger(__name__)
#: Performs one action; returns the platform's id of the message it sent, if any.
Sink = Callable[[Action], Awaitable[str | None]]
#: No word boundary: Discord pings for `@everyone你好`, `@here_x` or `@everyone1` too.
_MASS_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)
#: A member's role in a platform group (group id, user id), or None when it cannot be known.
RoleLookup = Callable[[str, str], Awaitable[Role | None]]
TAGGED_MESSAGES = 50_000
NOTE_AGAIN_AFTER = timedelta(hours=24)

_PROBLEMS = {
    DeliveryProblem.DM_CLOSED: N_(
        "Hearth could not send a private message to {user}: they have not started a chat "
        "with the bot or do not accept direct messages."
    ),
    DeliveryProblem.FORBIDDEN: N_(
        "Hearth is not allowed to {what}. Check the bot's permissions and role position. ({detail})"
    ),
    DeliveryProblem.NOT_FOUND: N_("Hearth could not {what}: it no longer exists. ({detail})"),
    DeliveryProblem.FAILED: N_("Hearth could not {what}. ({detail})"),
}


_SANCTIONS = {
    Sanction.MUTE: N_("mute"),
    Sanction.UNMUTE: N_("unmute"),
    Sanction.BAN: N_("ban"),
    Sanction.UNBAN: N_("unban"),
}


def defuse_mass_mentions(text: str) -> str:
    """Break `@everyone` / `@here` with a zero-width space so they never ping anyone."""
    return _MASS_MENTION.sub("@\u200b\\1", text)


def _defused_card(card: Card | None) -> Card | None:
    if card is None:
        return None
    return replace(
        card,
        title=defuse_mass_mentions(card.title),
        description=defuse_mass_mentions(card.description),
        fields=tuple((defuse_mass_mentions(a), defuse_mass_mentions(b)) for a, b in card.fields),
    )


def safe_action(action: Action) -> Action:
    """`action` with every text it sends (poll, card) free of mass mentions. The engine
    applies it to what features return; `Dispatcher.deliver` to what they send themselves."""
    if isinstance(action, Post):
        poll = action.poll
        if poll is not None:
            poll = Poll(
                defuse_mass_mentions(poll.question),
                tuple(defuse_mass_mentions(option) for option in poll.options),
            )
        return replace(
            action,
            text=defuse_mass_mentions(action.text),
            poll=poll,
            card=_defused_card(action.card),
        )
    if isinstance(action, DirectMessage):
        return replace(
            action, text=defuse_mass_mentions(action.text), card=_defused_card(action.card)
        )
    if isinstance(action, Reply):
        return replace(action, text=defuse_mass_mentions(action.text))
    return action


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of delivering one action.

    `message_id` is the platform's id of the message sent, when the sink returned one;
    `failure` the platform's refusal (None for a bug in a sink or a missing adapter, which
    `detail` describes).
    """

    ok: bool
    message_id: str | None = None
    failure: DeliveryFailed | None = None
    detail: str = ""


def _describe(action: Action, tr: Translator) -> str:
    if isinstance(action, GrantRole):
        return tr(N_("give role {role} to {user}")).format(role=action.role_id, user=action.user_id)
    if isinstance(action, DirectMessage):
        return tr(N_("send a private message to {user}")).format(user=action.user_id)
    if isinstance(action, Post):
        return tr(N_("post in channel {channel}")).format(channel=action.target.channel_id)
    if isinstance(action, React):
        return tr(N_("react in channel {channel}")).format(channel=action.place.channel_id)
    if isinstance(action, DeleteMessage):
        return tr(N_("delete a message in channel {channel}")).format(
            channel=action.place.channel_id
        )
    if isinstance(action, Restrict):
        return tr(N_("{sanction} {user}")).format(
            sanction=tr(_SANCTIONS[action.sanction]), user=action.user_id
        )
    return tr(N_("reply in channel {channel}")).format(channel=action.place.channel_id)


class Dispatcher:
    """Routes actions to platform sinks and reports refusals to moderators."""

    def __init__(self, directory: Directory, clock: Clock) -> None:
        self._directory = directory
        self._clock = clock
        self._sinks: dict[str, Sink] = {}
        self._roles: dict[str, RoleLookup] = {}
        self._noted: dict[tuple[int, str, str, str], datetime] = {}
        self._tags: Recent[tuple[str, str, str], str] = Recent(TAGGED_MESSAGES)

    def attach(self, platform: str, sink: Sink, roles: RoleLookup | None = None) -> None:
        """Deliver `platform`'s actions through `sink` from now on; `roles` looks up
        members' rights there when the engine acts outside a command (digest recipients)."""
        self._sinks[platform] = sink
        if roles is not None:
            self._roles[platform] = roles

    def detach(self, platform: str) -> None:
        """Stop delivering to `platform`."""
        self._sinks.pop(platform, None)
        self._roles.pop(platform, None)

    async def role_of(self, platform: str, group_id: str, user_id: str) -> Role | None:
        """A member's current role in a platform group; None when the platform cannot say
        (no adapter, no lookup, or the lookup failed)."""
        lookup = self._roles.get(platform)
        if lookup is None:
            return None
        try:
            return await lookup(group_id, user_id)
        except Exception:
            logger.exception(
                "looking up the role of %s in %s/%s failed", user_id, platform, group_id
            )
            return None

    def platforms(self) -> frozenset[str]:
        """The platforms an adapter is attached for."""
        return frozenset(self._sinks)

    async def dispatch(self, actions: Sequence[Action]) -> None:
        """Perform each action on its platform; one failure does not stop the rest."""
        for action in actions:
            await self._deliver(action)

    async def deliver(self, action: Action, *, report: bool = True) -> Delivery:
        """Perform one action and say how it went.

        With `report=False` a refusal is not reported to the moderators: the caller has its
        own policy (scheduled posts retry, then pause and tell the moderators themselves).
        """
        return await self._deliver(safe_action(action), reporting=report)

    async def _deliver(self, action: Action, *, reporting: bool = True) -> Delivery:
        platform = action_platform(action)
        sink = self._sinks.get(platform)
        if sink is None:
            logger.warning("no adapter for platform %s; dropped %r", platform, action)
            return Delivery(ok=False, detail=f"no adapter for platform {platform}")
        try:
            sent = await sink(action)
        except DeliveryFailed as failure:
            if failure.problem is DeliveryProblem.UNSUPPORTED:
                logger.info("%s cannot perform %r; skipped", platform, action)
                return Delivery(ok=False, failure=failure, detail=failure.detail or str(failure))
            logger.warning("%s refused %r: %s", platform, action, failure)
            if reporting:
                await self.report(failure)
            return Delivery(ok=False, failure=failure, detail=failure.detail or str(failure))
        except Exception as error:
            logger.exception("delivering %r on %s failed", action, platform)
            return Delivery(ok=False, detail=f"{type(error).__name__}: {error}")
        if sent is not None and isinstance(action, Reply) and action.tag is not None:
            self._tags.put((platform, action.place.channel_id, sent), action.tag)
        return Delivery(ok=True, message_id=sent)

    def tag_of(self, platform: str, channel_id: str, message_id: str) -> str | None:
        """The tag of a message Hearth sent recently (see `Reply.tag`), if any."""
        return self._tags.get((platform, channel_id, message_id))

    async def report(self, failure: DeliveryFailed) -> None:
        """Tell the community's moderators that an action could not be carried out."""
        group = action_group(failure.action)
        if group is None:
            logger.warning("cannot tell moderators about %s: no group known", failure)
            return
        info = await self._directory.group(action_platform(failure.action), group)
        community = info.community
        key = (community.id, failure.problem.value, type(failure.action).__name__, failure.detail)
        now = self._clock.now()
        last = self._noted.get(key)
        if last is not None and now - last < NOTE_AGAIN_AFTER:
            return
        self._noted[key] = now
        await self.notify_moderators(community, self._note(failure, translator(community.language)))

    @staticmethod
    def _note(failure: DeliveryFailed, tr: Translator) -> str:
        action = failure.action
        user = action.user_id if isinstance(action, DirectMessage | GrantRole) else ""
        return tr(_PROBLEMS[failure.problem]).format(
            user=user, what=_describe(action, tr), detail=failure.detail or "-"
        )

    async def notify_moderators(self, community: CommunityInfo, text: str) -> bool:
        """Post `text` to the community's moderators' channel; False if there is none."""
        ref = community.mod_channel
        if ref is None:
            logger.warning(
                "community %s has no moderators' channel (/modchannel); note: %s",
                community.id,
                text,
            )
            return False
        post = Post(Place(ref.platform, ref.group, ref.channel, ref.thread), text)
        return (await self._deliver(safe_action(post), reporting=False)).ok
