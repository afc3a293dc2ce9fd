"""Recognising bots in a Telegram Desktop export, which has no "is bot" flag.

The rule, in order (the first that applies decides; once an account is a bot it stays one):

1. Ids given on the command line (``--bot ID``) and accounts Hearth already knows as bots
   (the live adapter records Telegram's exact ``is_bot`` flag; see `bot.importer.ingest`).
2. ``from_id`` ``channel…``/``chat…``: a channel or an anonymous admin posting as the group.
3. A message with ``inline_bot_buttons`` and no ``via_bot``: only bots attach inline
   keyboards to their own messages. A person's message sent *via* an inline bot (``via_bot``,
   e.g. ``@gif``) can carry that bot's buttons, so it proves nothing about its sender, and the
   sender of a ``via_bot`` message is a person (as live, where ``from`` is the person).
4. The name: Telegram requires bot usernames to end in "bot". The export gives display names,
   not usernames, so a name counts when it reads like a bot's: its last word is "bot"
   ("Tea Reminder Bot"), or it is one username-like word ending in ``_bot`` or a capitalised
   ``Bot`` ("tea_reminder_bot", "GroupHelpBot"). "Talbot" or "Abbot" do not count.

Limits: a bot with an ordinary display name ("Rose") that never sends inline buttons is taken
for a person unless Hearth saw it live or it is named with ``--bot``; a person whose display
name ends in the word "Bot" is taken for a bot. A bot recognised only by a later message is a
bot from then on; XP awarded for its messages in earlier batches is not taken back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["BotRule", "looks_like_bot_name"]

_LAST_WORD_BOT = re.compile(r"(?:^|\s)bot$", re.IGNORECASE)
_USERNAME_BOT = re.compile(r"^@?[A-Za-z][A-Za-z0-9_]{1,29}(?:_bot|_Bot|_BOT|[a-z0-9](?:Bot|BOT))$")


def looks_like_bot_name(name: str) -> bool:
    """True if a display name reads like a bot's (see the module's rule 4)."""
    stripped = name.strip()
    return bool(_LAST_WORD_BOT.search(stripped) or _USERNAME_BOT.match(stripped))


class BotRule:
    """Which user ids of one export are bots, learnt while reading it."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        self.bots: set[str] = set(known)
        self._checked: set[str] = set()

    def is_bot(self, user_id: str, name: str, raw: dict[str, Any] | None = None) -> bool:
        """Whether the sender of `raw` (or an account seen by id and name only) is a bot."""
        if user_id in self.bots:
            return True
        if raw is not None and "inline_bot_buttons" in raw and "via_bot" not in raw:
            self.bots.add(user_id)
            return True
        if user_id not in self._checked:
            self._checked.add(user_id)  # names are checked once per account, not per message
            if looks_like_bot_name(name):
                self.bots.add(user_id)
                return True
        return False
