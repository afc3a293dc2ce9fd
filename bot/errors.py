"""Typed error hierarchy.

`UserFacingError` and its subclasses carry a message that is safe to show the member who
caused it; the engine turns them into a reply. Anything else is a bug: it is logged with the
event's ids and the member gets a short apology.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.events import Action

__all__ = [
    "ConfigError",
    "DeliveryFailed",
    "DeliveryProblem",
    "HearthError",
    "InvalidArguments",
    "NotFound",
    "PermissionDenied",
    "UserFacingError",
]


class HearthError(Exception):
    """Base class of every error Hearth raises on purpose."""


class ConfigError(HearthError):
    """The configuration file or an environment override is invalid.

    The message names the key (e.g. ``defaults.timezone``) and what is allowed.
    """


class UserFacingError(HearthError):
    """An error whose (already translated) message may be shown to the member."""


class PermissionDenied(UserFacingError):
    """The invoker's role is below what the command requires."""


class InvalidArguments(UserFacingError):
    """A command was called with arguments it cannot parse; the message includes usage."""


class NotFound(UserFacingError):
    """Something the member referred to (an id, a name) does not exist."""


class DeliveryProblem(Enum):
    """Why a platform refused an action."""

    DM_CLOSED = "dm_closed"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    FAILED = "failed"
    #: The platform has no such thing (a role grant on Telegram); logged, not reported.
    UNSUPPORTED = "unsupported"


class DeliveryFailed(HearthError):
    """A platform could not carry out an action; adapters translate their exceptions to it.

    The engine tells the community's moderators (once per problem a day) instead of retrying.
    """

    def __init__(self, action: Action, problem: DeliveryProblem, detail: str = "") -> None:
        super().__init__(f"{problem.value}: {detail}" if detail else problem.value)
        self.action = action
        self.problem = problem
        self.detail = detail
