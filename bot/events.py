"""Normalized inbound events and outbound actions shared by every adapter.

Adapters turn a platform's updates into these events and perform the actions the engine
returns. Times are timezone-aware UTC; ids are strings exactly as the platform gives them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum

__all__ = [
    "MESSAGE_KINDS",
    "Action",
    "Author",
    "Card",
    "CommandInvoked",
    "DeleteMessage",
    "DirectMessage",
    "Event",
    "GrantRole",
    "MemberJoined",
    "MemberLeft",
    "Message",
    "Place",
    "Poll",
    "Post",
    "React",
    "ReactionAdded",
    "Reply",
    "Restrict",
    "Role",
    "Sanction",
    "action_group",
    "action_platform",
]


class Role(IntEnum):
    """Who may run a command, ordered: a moderator may do what a member may, and so on."""

    MEMBER = 0
    MODERATOR = 1
    ADMIN = 2


def _require_utc(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {moment!r}")


@dataclass(frozen=True, slots=True)
class Place:
    """Where something happens: a channel (or topic/thread) of a platform group."""

    platform: str
    group_id: str
    channel_id: str
    thread_id: str | None = None
    #: The group's title on the platform, when the event carries it (names new communities).
    group_name: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Author:
    """A platform account as seen in one event."""

    user_id: str
    name: str
    is_bot: bool = False


#: What a message is, as stored in the activity log's `kind` (the same names on every
#: platform and on import). A media message's caption, or a poll's question, is its `text`.
MESSAGE_KINDS = (
    "text",
    "photo",
    "video",
    "animation",  # a GIF, or Telegram's silent looping video
    "sticker",
    "voice",
    "video_note",  # Telegram's round video message
    "audio",
    "document",
    "poll",
    "location",
    "contact",
    "dice",
    "other",
)


@dataclass(frozen=True, slots=True)
class Message:
    """A member posted a message in a group channel."""

    place: Place
    message_id: str
    author: Author
    text: str
    sent_at: datetime
    reply_to: str | None = None
    mentions: tuple[str, ...] = ()
    #: Read from the platform's history after a restart or reconnect (Discord), not received
    #: live: it counts as usual, but nothing answers it (the engine returns none of its
    #: actions, and features log no answer they did not send).
    backfilled: bool = False
    #: One of `MESSAGE_KINDS`: "text" for a plain message, else the media it carries.
    kind: str = "text"

    def __post_init__(self) -> None:
        _require_utc(self.sent_at, "Message.sent_at")
        if self.kind not in MESSAGE_KINDS:
            raise ValueError(f"Message.kind must be one of {', '.join(MESSAGE_KINDS)}")

    @property
    def is_media(self) -> bool:
        """Whether the message carries media (a photo, a sticker, a poll, ...), not only text."""
        return self.kind != "text"


@dataclass(frozen=True, slots=True)
class MemberJoined:
    """An account joined a group."""

    platform: str
    group_id: str
    member: Author
    at: datetime

    def __post_init__(self) -> None:
        _require_utc(self.at, "MemberJoined.at")


@dataclass(frozen=True, slots=True)
class MemberLeft:
    """An account left (or was removed from) a group."""

    platform: str
    group_id: str
    member: Author
    at: datetime

    def __post_init__(self) -> None:
        _require_utc(self.at, "MemberLeft.at")


@dataclass(frozen=True, slots=True)
class ReactionAdded:
    """An account reacted to a message."""

    place: Place
    message_id: str
    reactor: Author
    emoji: str
    at: datetime
    message_author_id: str | None = None

    def __post_init__(self) -> None:
        _require_utc(self.at, "ReactionAdded.at")


@dataclass(frozen=True, slots=True)
class CommandInvoked:
    """An account ran a command (`/name args`).

    `name` is the command word without the slash; `args` the raw rest of the line.
    `invoker_role` is what the platform says the invoker is; the engine checks it against
    the command's required role on every call. `message_id` is the command message (or the
    interaction id) the answer replies to.
    """

    place: Place
    invoker: Author
    name: str
    args: str
    sent_at: datetime
    invoker_role: Role = Role.MEMBER
    message_id: str | None = None

    def __post_init__(self) -> None:
        _require_utc(self.sent_at, "CommandInvoked.sent_at")


Event = Message | MemberJoined | MemberLeft | ReactionAdded | CommandInvoked


@dataclass(frozen=True, slots=True)
class Poll:
    """A poll to post: a question and 2-10 options."""

    question: str
    options: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Reply:
    """Answer a message (or a command) in its place.

    `tag` marks the sent message for the feature that sent it (an FAQ answer, so reactions
    on it count as feedback).
    """

    place: Place
    message_id: str | None
    text: str
    private: bool = False
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class Card:
    """The same message as structured parts, for platforms that show them (Discord embeds);
    the others send the action's text. Parts are already in the platform's markup."""

    title: str
    description: str
    #: (heading, body) sections shown one under the other.
    fields: tuple[tuple[str, str], ...] = ()
    #: A 0xRRGGBB accent colour (green: all well; orange: something needs a look).
    colour: int | None = None
    footer: str | None = None


@dataclass(frozen=True, slots=True)
class Post:
    """Post a new message to a channel, optionally with an image, a poll or a card."""

    target: Place
    text: str
    image: str | None = None
    poll: Poll | None = None
    card: Card | None = None


@dataclass(frozen=True, slots=True)
class DirectMessage:
    """Send a private message to one account.

    `group_id` names the group the message is about, so a failure can be reported to that
    community's moderators.
    """

    platform: str
    user_id: str
    text: str
    image: str | None = None
    group_id: str | None = None
    #: A local file sent as a document (e.g. the member's data export).
    file: str | None = None
    card: Card | None = None


@dataclass(frozen=True, slots=True)
class GrantRole:
    """Give a platform role to an account in a group (Discord role rewards), removing the
    roles in `revoke` (the previous level's role); an empty `role_id` only removes."""

    platform: str
    group_id: str
    user_id: str
    role_id: str
    reason: str = ""
    revoke: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class React:
    """Add an emoji reaction to a message."""

    place: Place
    message_id: str
    emoji: str


@dataclass(frozen=True, slots=True)
class DeleteMessage:
    """Delete a member's message (moderation)."""

    place: Place
    message_id: str
    reason: str = ""


class Sanction(StrEnum):
    """What `Restrict` does to an account in a group."""

    MUTE = "mute"
    UNMUTE = "unmute"
    BAN = "ban"
    UNBAN = "unban"


@dataclass(frozen=True, slots=True)
class Restrict:
    """Mute an account until a time (Discord timeout, Telegram restrictChatMember), ban it, or
    lift either."""

    platform: str
    group_id: str
    user_id: str
    sanction: Sanction
    #: When a mute ends (UTC); required for MUTE.
    until: datetime | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.sanction is Sanction.MUTE:
            if self.until is None:
                raise ValueError("a mute needs an end (until)")
            _require_utc(self.until, "Restrict.until")


Action = Reply | Post | DirectMessage | GrantRole | React | DeleteMessage | Restrict


def action_platform(action: Action) -> str:
    """The platform that must perform `action`."""
    if isinstance(action, Reply | React | DeleteMessage):
        return action.place.platform
    if isinstance(action, Post):
        return action.target.platform
    return action.platform


def action_group(action: Action) -> str | None:
    """The platform group `action` belongs to, if it says."""
    if isinstance(action, Reply | React | DeleteMessage):
        return action.place.group_id
    if isinstance(action, Post):
        return action.target.group_id
    return action.group_id
