"""Community settings commands: language, local time zone, moderators' channel."""

from __future__ import annotations

from collections.abc import Sequence

from bot.commands import Command, CommandCall, Param
from bot.config import validate_timezone
from bot.errors import InvalidArguments
from bot.events import Role
from bot.features.base import BaseFeature
from bot.i18n import LANGUAGES, N_, normalize_language, translator
from storage.identity import ChannelRef

__all__ = ["CommunityFeature"]


class CommunityFeature(BaseFeature):
    """`/language`, `/timezone` and `/modchannel` for admins."""

    name = "community"

    def commands(self) -> Sequence[Command]:
        """The settings commands."""
        return (
            Command(
                name="language",
                handler=self.set_language,
                help=N_("Show or set the language Hearth uses in this community."),
                role=Role.ADMIN,
                params=(Param("language", required=False),),
            ),
            Command(
                name="modchannel",
                handler=self.set_mod_channel,
                help=N_("Send moderator alerts to this channel (on, the default) or stop (off)."),
                role=Role.ADMIN,
                params=(Param("state", required=False, choices=("on", "off")),),
            ),
            Command(
                name="timezone",
                handler=self.set_timezone,
                help=N_("Show or set this community's time zone (an IANA name)."),
                role=Role.ADMIN,
                params=(Param("timezone", required=False),),
            ),
        )

    async def set_language(self, call: CommandCall) -> str:
        """Show the language, or switch to another shipped catalog."""
        wanted = call.args["language"]
        if wanted is None:
            return call.tr(N_("Language: {language}. Available: {available}")).format(
                language=call.community.language, available=", ".join(LANGUAGES)
            )
        language = normalize_language(wanted)
        if language is None:
            raise InvalidArguments(
                call.tr(N_("language: unknown language {value}; available: {available}")).format(
                    value=repr(wanted), available=", ".join(LANGUAGES)
                )
            )
        await self.services.directory.update_community(call.community.id, language=language)
        return translator(language)(N_("Language set to {language}.")).format(
            language=LANGUAGES[language]
        )

    async def set_timezone(self, call: CommandCall) -> str:
        """Show the time zone, or change it after checking the name."""
        wanted = call.args["timezone"]
        if wanted is None:
            return call.tr(N_("Time zone: {timezone}")).format(timezone=call.community.timezone)
        try:
            validate_timezone(wanted)
        except ValueError:
            raise InvalidArguments(
                call.tr(
                    N_(
                        "timezone: unknown time zone {value}; use an IANA name such as "
                        "Europe/Berlin or Asia/Shanghai"
                    )
                ).format(value=repr(wanted))
            ) from None
        await self.services.directory.update_community(call.community.id, timezone=wanted)
        return call.tr(N_("Time zone set to {timezone}.")).format(timezone=wanted)

    async def set_mod_channel(self, call: CommandCall) -> str:
        """Make the channel the command was sent in the moderators' channel, or clear it."""
        if call.args["state"] == "off":
            await self.services.directory.update_community(call.community.id, mod_channel=None)
            return call.tr(N_("Moderator alerts are off."))
        place = call.event.place
        ref = ChannelRef(place.platform, place.group_id, place.channel_id, place.thread_id)
        await self.services.directory.update_community(call.community.id, mod_channel=ref)
        return call.tr(N_("Moderator alerts will be posted in this channel."))
