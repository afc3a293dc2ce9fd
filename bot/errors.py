"""Typed error hierarchy.

`UserFacingError` and its subclasses carry a message that is safe to show the member who
caused it; the engine turns them into a reply. Anything else is a bug: it is logged with the
event's ids and the member gets a short apology.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
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
