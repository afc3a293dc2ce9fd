"""Members' control over their own data: /mydata (an export by private message) and
/forgetme (delete texts, names and ledger details after a confirmation)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.commands import Command, CommandCall, Param
from bot.events import DirectMessage
from bot.features.base import DM_CLOSED, BaseFeature, Services
from bot.i18n import N_
from storage.privacy import forget_account_name, forget_member, member_export, memberships

__all__ = ["PrivacyFeature", "forget_account"]

CONFIRM_WITHIN = timedelta(minutes=5)


def _write_export(data: dict[str, Any], name: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="hearth-mydata-"))
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


async def forget_account(services: Services, platform: str, user_id: str) -> int:
    """Forget a platform account in every community it is in (``hearth forget``).

    Returns how many communities it was forgotten in.
    """
    async with services.database.session() as session, session.begin():
        found = await memberships(session, platform=platform, user_id=user_id)
        for community_id, member_id in found:
            await forget_member(session, community_id=community_id, member_id=member_id)
        await forget_account_name(session, platform=platform, user_id=user_id)
    return len(found)


class PrivacyFeature(BaseFeature):
    """/mydata and /forgetme."""

    name = "privacy"

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self._pending: dict[tuple[int, int], datetime] = {}

    def commands(self) -> Sequence[Command]:
        """The privacy commands (any member, about themselves only)."""
        return (
            Command(
                "mydata",
                self.mydata,
                N_("Get everything Hearth stores about you here, by private message."),
            ),
            Command(
                "forgetme",
                self.forgetme,
                N_("Delete your message texts, name and point details here."),
                params=(Param("confirm", required=False, choices=("confirm",)),),
            ),
        )

    async def export(self, community_id: int, member_id: int) -> dict[str, Any]:
        """The member's data in one community."""
        await self.services.writer.flush()  # activity still queued belongs in the export
        async with self.services.database.session() as session:
            data = await member_export(session, community_id=community_id, member_id=member_id)
        return {"exported_at": self.services.clock.now().isoformat(), **data}

    async def export_account(self, platform: str, user_id: str) -> Path:
        """A JSON file of a platform account's data in every community (private /mydata)."""
        async with self.services.database.session() as session:
            found = await memberships(session, platform=platform, user_id=user_id)
        communities = [await self.export(community, member) for community, member in found]
        return _write_export(
            {"platform": platform, "user_id": user_id, "communities": communities},
            f"hearth-data-{platform}-{user_id}",
        )

    async def mydata(self, call: CommandCall) -> str:
        """Send the member a JSON file of their data in this community."""
        data = {
            "community": call.community.name,
            **await self.export(call.community.id, call.member_id),
        }
        path = _write_export(data, f"hearth-data-{call.community.id}-{call.member_id}")
        place = call.event.place
        message = DirectMessage(
            place.platform,
            call.event.invoker.user_id,
            call.tr(N_("Here is everything Hearth stores about you in {community}.")).format(
                community=call.community.name
            ),
            group_id=place.group_id,
            file=str(path),
        )
        try:
            delivery = await self.services.dispatcher.deliver(message, report=False)
        finally:
            if place.platform != "console":  # the console user opens the file from disk
                path.unlink(missing_ok=True)
                path.parent.rmdir()
        if delivery.ok:
            return call.tr(N_("I sent you your data in a private message."))
        return call.tr(DM_CLOSED).format(command="mydata")

    async def forgetme(self, call: CommandCall) -> str:
        """Ask for confirmation, then forget the member's texts, name and ledger details."""
        key = (call.community.id, call.member_id)
        now = call.event.sent_at
        if call.args["confirm"] != "confirm":
            self._pending[key] = now
            return call.tr(
                N_(
                    "This deletes your message texts, your name and the details of "
                    "your points in this community (counts stay, anonymised). Send "
                    "/forgetme confirm within 5 minutes to go ahead."
                )
            )
        asked = self._pending.pop(key, None)
        if asked is None or now - asked > CONFIRM_WITHIN:
            return call.tr(N_("Send /forgetme first; then /forgetme confirm within 5 minutes."))
        await self.services.writer.flush()  # texts still queued must be forgotten too
        async with self.services.database.session() as session, session.begin():
            await forget_member(session, community_id=call.community.id, member_id=call.member_id)
        return call.tr(N_("Done: your texts, name and point details here are deleted."))
