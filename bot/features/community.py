"""Community settings commands: language, local time zone, moderators' channel."""

from __future__ import annotations

from collections.abc import Sequence

from bot.commands import Command, CommandCall, Param, ParamKind
from bot.config import validate_timezone
from bot.errors import InvalidArguments
from bot.events import Role
from bot.features.base import BaseFeature
from bot.i18n import LANGUAGES, N_, normalize_language, translator
from bot.overrides import KEYS, OverrideError, check_reset, parse_override, setting_lines
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
                name="config",
                handler=self.configure,
                help=N_(
                    "Show this community's settings or change one (default: back to the "
                    "config file's value)."
                ),
                role=Role.ADMIN,
                params=(
                    Param("key", required=False, help=N_("e.g. faq.enabled")),
                    Param("value", ParamKind.TEXT, required=False, help=N_("e.g. off")),
                ),
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

    async def configure(self, call: CommandCall) -> str:
        """List the settings, show one, or set one (``default`` clears it)."""
        settings, community, tr = self.services.settings, call.community, call.tr
        key, text = call.args["key"], (call.args["value"] or "").strip()
        if key is None:
            lines = [tr(N_("Settings of {community} (/config KEY VALUE to change one):"))]
            lines[0] = lines[0].format(community=community.name)
            return "\n".join([*lines, *setting_lines(settings, community, tr)])
        key = key.strip().lower()
        if key not in KEYS:
            raise InvalidArguments(
                tr(N_("{key}: unknown setting; send /config to see them all.")).format(key=key)
            )
        if not text:
            return "\n".join(setting_lines(settings, community, tr, only=key))
        try:
            if text.lower() == "default":
                check_reset(settings, community, key)
                info = await self.services.directory.set_override(community.id, key, None)
                line = setting_lines(settings, info, tr, only=key)[0]
                return tr(N_("Back to the config file's value: {setting}")).format(setting=line)
            value = parse_override(settings, community, key, text)
        except OverrideError as error:
            raise InvalidArguments(
                tr(N_("Not changed: {error}")).format(error=str(error))
            ) from None
        info = await self.services.directory.set_override(community.id, key, value)
        line = setting_lines(settings, info, tr, only=key)[0]
        return tr(N_("Changed: {setting}")).format(setting=line)
