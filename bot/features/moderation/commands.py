"""Moderation commands: /warn, /warnings, /unwarn (moderators), /mod words (admins),
/mod log and /mod undo (moderators)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.commands import Command, CommandCall, Param, ParamKind
from bot.errors import InvalidArguments, NotFound
from bot.events import Action, Place, Post, Restrict, Role, Sanction
from bot.features.base import resolve_member
from bot.features.moderation.feature import Target
from bot.features.moderation.rules import fold
from bot.i18n import N_
from bot.localtime import local_time
from storage.identity import member_account
from storage.moderation import (
    AuditEntry,
    actions_of_warning,
    add_phrase,
    add_warning,
    find_action,
    list_phrases,
    list_warnings,
    mark_undone,
    recent_actions,
    record_action,
    remove_phrase,
    revoke_warning,
)

if TYPE_CHECKING:
    from bot.features.moderation.feature import ModerationFeature

__all__ = ["moderation_commands"]

PHRASE_LIMIT = 200
LOG_LIMIT = 25
_KINDS = {
    "held": N_("held"),
    "deleted": N_("deleted"),
    "warned": N_("warned"),
    "muted": N_("muted"),
    "banned": N_("banned"),
    "reported": N_("reported"),
}


class ModerationCommands:
    """Handlers, bound to the feature."""

    def __init__(self, feature: ModerationFeature) -> None:
        self.feature = feature
        self.services = feature.services

    async def _target(self, call: CommandCall, ref: str) -> Target:
        member_id, name = await resolve_member(self.services.database, call, ref)
        platform = call.event.place.platform
        async with self.services.database.session() as session:
            account = await member_account(session, member_id=member_id, platform=platform)
        if account is None:
            raise NotFound(call.tr(N_("No member called {name} here.")).format(name=ref))
        return Target(
            call.community, member_id, name, platform, call.event.place.group_id, account[0]
        )

    async def warn(self, call: CommandCall) -> Sequence[Action]:
        """A moderator warns a member; the ladder may mute or ban."""
        target = await self._target(call, call.args["member"])
        if target.member_id == call.member_id:
            raise InvalidArguments(call.tr(N_("You cannot warn yourself.")))
        reason = (call.args.get("reason") or "").strip() or self.feature.reason("manual", call.tr)
        now = call.event.sent_at
        async with self.services.database.session() as session, session.begin():
            warning = await add_warning(
                session,
                community_id=call.community.id,
                member_id=target.member_id,
                by_member_id=call.member_id,
                reason=reason,
                now=now,
            )
            await record_action(
                session,
                community_id=call.community.id,
                member_id=target.member_id,
                by_member_id=call.member_id,
                kind="warned",
                rule="manual",
                reason=reason,
                platform=target.platform,
                group_id=target.group_id,
                channel_id=call.event.place.channel_id,
                warning_id=warning,
                at=now,
            )
        said = call.tr(N_("⚠️ {name} is warned (#{id}): {reason}")).format(
            name=target.name, id=warning, reason=reason
        )
        escalated = await self.feature.escalate(target, warning, now, call.tr)
        return [Post(call.event.place, said), *escalated]

    async def warnings(self, call: CommandCall) -> str:
        """A member's warnings, newest first."""
        member_id, name = await resolve_member(self.services.database, call, call.args["member"])
        async with self.services.database.session() as session:
            found = await list_warnings(
                session, community_id=call.community.id, member_id=member_id
            )
        if not found:
            return call.tr(N_("{name} has no warnings.")).format(name=name)
        lines = [call.tr(N_("Warnings of {name}:")).format(name=name)]
        zone = call.community.timezone
        for w in found:
            by = w.by or call.tr(N_("Hearth"))
            line = f"#{w.id} · {local_time(w.at, zone)} · {by} · {w.reason}"
            lines.append(f"{line} " + call.tr(N_("(revoked)")) if w.revoked else line)
        return "\n".join(lines)

    async def unwarn(self, call: CommandCall) -> str:
        """Revoke one warning of this community."""
        warning = int(call.args["id"])
        async with self.services.database.session() as session, session.begin():
            member = await revoke_warning(
                session,
                community_id=call.community.id,
                warning_id=warning,
                now=call.event.sent_at,
            )
        if member is None:
            raise NotFound(call.tr(N_("There is no active warning #{id} here.")).format(id=warning))
        return call.tr(N_("Warning #{id} is revoked.")).format(id=warning)

    async def words(self, call: CommandCall) -> str:
        """/mod words add|remove <phrase>, /mod words list."""
        action = call.args["action"]
        community = call.community.id
        if action == "list":
            async with self.services.database.session() as session:
                phrases = await list_phrases(session, community_id=community)
            if not phrases:
                return call.tr(N_("No blocked phrases."))
            return call.tr(N_("Blocked phrases: {phrases}")).format(phrases=" · ".join(phrases))
        phrase = " ".join((call.args.get("phrase") or "").split())
        if not phrase or not any(c.isalnum() for c in fold(phrase)):
            raise InvalidArguments(
                call.tr(N_("Give the phrase: /mod words {action} <phrase>")).format(action=action)
            )
        if len(phrase) > PHRASE_LIMIT:
            raise InvalidArguments(
                call.tr(N_("A phrase can have at most {limit} characters.")).format(
                    limit=PHRASE_LIMIT
                )
            )
        async with self.services.database.session() as session, session.begin():
            if action == "add":
                done = await add_phrase(
                    session, community_id=community, phrase=phrase, now=call.event.sent_at
                )
            else:
                done = await remove_phrase(session, community_id=community, phrase=phrase)
        self.feature.forget_phrases(community)
        if action == "add":
            message = (
                N_("“{phrase}” is blocked.") if done else N_("“{phrase}” was already blocked.")
            )
        else:
            message = (
                N_("“{phrase}” is allowed again.") if done else N_("“{phrase}” was not blocked.")
            )
        return call.tr(message).format(phrase=phrase)

    async def log(self, call: CommandCall) -> str:
        """The latest moderation actions."""
        count = int(call.args.get("count") or 10)
        async with self.services.database.session() as session:
            entries = await recent_actions(session, community_id=call.community.id, limit=count)
        if not entries:
            return call.tr(N_("No moderation actions yet."))
        lines = [call.tr(N_("Moderation log (newest first):"))]
        zone = call.community.timezone
        for e in entries:
            by = e.by or call.tr(N_("Hearth"))
            until = ""
            if e.until is not None:
                until = " · " + call.tr(N_("until {time}")).format(time=local_time(e.until, zone))
            undone = " " + call.tr(N_("(undone)")) if e.undone else ""
            lines.append(
                f"#{e.id} · {local_time(e.at, zone)} · {by} "
                f"{call.tr(_KINDS.get(e.kind, e.kind))} {e.member} · {e.reason}{until}{undone}"
            )
        return "\n".join(lines)

    async def undo(self, call: CommandCall) -> Sequence[Action] | str:
        """Undo an action and everything it led to: revoke its warning, lift a mute or ban,
        put a deleted message back (as a post quoting it)."""
        action_id = int(call.args["id"])
        community = call.community.id
        async with self.services.database.session() as session:
            entry = await find_action(session, community_id=community, action_id=action_id)
            if entry is None:
                raise NotFound(
                    call.tr(N_("There is no moderation action #{id} here.")).format(id=action_id)
                )
            related = [entry]
            if entry.warning_id is not None:
                related = await actions_of_warning(
                    session, community_id=community, warning_id=entry.warning_id
                )
        pending = [e for e in related if not e.undone]
        if not pending:
            return call.tr(N_("Action #{id} was already undone.")).format(id=action_id)
        actions: list[Action] = []
        for e in pending:
            actions += await self._reverse(call, e)
        now = call.event.sent_at
        async with self.services.database.session() as session, session.begin():
            if entry.warning_id is not None:
                await revoke_warning(
                    session, community_id=community, warning_id=entry.warning_id, now=now
                )
            await mark_undone(
                session,
                community_id=community,
                action_ids=[e.id for e in pending],
                by=call.member_id,
                now=now,
            )
        done = call.tr(N_("Undone: #{id} ({member}).")).format(id=action_id, member=entry.member)
        return [*actions, Post(call.event.place, done)]

    async def _reverse(self, call: CommandCall, entry: AuditEntry) -> list[Action]:
        if entry.kind in ("held", "deleted") and entry.text and entry.channel_id:
            place = Place(entry.platform, entry.group_id, entry.channel_id)
            restored = call.tr(N_("Restored by a moderator — {name} wrote: {text}")).format(
                name=entry.member, text=entry.text
            )
            return [Post(place, restored)]
        lift = {"muted": Sanction.UNMUTE, "banned": Sanction.UNBAN}.get(entry.kind)
        if lift is None:
            return []
        async with self.services.database.session() as session:
            account = await member_account(
                session, member_id=entry.member_id, platform=entry.platform
            )
        if account is None:
            return []
        return [Restrict(entry.platform, entry.group_id, account[0], lift, reason="undo")]


def moderation_commands(feature: ModerationFeature) -> Sequence[Command]:
    """Every moderation command, declared once."""
    h = ModerationCommands(feature)
    member = Param("member", ParamKind.MEMBER)
    ident = Param("id", ParamKind.INTEGER, minimum=1)
    mod, admin = Role.MODERATOR, Role.ADMIN
    return (
        Command(
            "warn",
            h.warn,
            N_("Warn a member; warnings add up to a mute or a ban."),
            role=mod,
            params=(member, Param("reason", ParamKind.TEXT, required=False)),
            feature=feature.name,
        ),
        Command(
            "warnings",
            h.warnings,
            N_("A member's warnings."),
            role=mod,
            params=(member,),
            feature=feature.name,
        ),
        Command(
            "unwarn",
            h.unwarn,
            N_("Revoke a warning."),
            role=mod,
            params=(ident,),
            feature=feature.name,
        ),
        Command(
            "words",
            h.words,
            N_("Blocked words and phrases: add, remove or list them."),
            role=admin,
            group="mod",
            params=(
                Param("action", choices=("add", "remove", "list")),
                Param("phrase", ParamKind.TEXT, required=False),
            ),
            feature=feature.name,
        ),
        Command(
            "log",
            h.log,
            N_("The latest moderation actions."),
            role=mod,
            group="mod",
            params=(
                Param("count", ParamKind.INTEGER, required=False, minimum=1, maximum=LOG_LIMIT),
            ),
            feature=feature.name,
        ),
        Command(
            "undo",
            h.undo,
            N_("Undo a moderation action (a false positive)."),
            role=mod,
            group="mod",
            params=(ident,),
            feature=feature.name,
        ),
    )
