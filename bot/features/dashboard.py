"""/dashboard: a one-time sign-in link to the web dashboard, by private message.

The link holds 256 random bits, works once, within `LINK_LIFETIME`, and starts a session for
the member in this community with the role the platform gives them now; only the token's
hash is stored (`storage.web`).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta

from bot.clock import Clock
from bot.commands import Command, CommandCall
from bot.config import WebSettings
from bot.events import DirectMessage, Role
from bot.features.base import DM_CLOSED, BaseFeature
from bot.i18n import N_
from storage.database import Database
from storage.web import Holder, create_link

__all__ = ["LINK_LIFETIME", "DashboardFeature", "issue_link"]

LINK_LIFETIME = timedelta(minutes=10)


async def issue_link(database: Database, clock: Clock, web: WebSettings, holder: Holder) -> str:
    """Store a new one-time link for `holder` and return its address."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    async with database.session() as session, session.begin():
        await create_link(
            session, token=token, holder=holder, now=now, expires_at=now + LINK_LIFETIME
        )
    return f"{web.base_url}/auth/{token}"


class DashboardFeature(BaseFeature):
    """The /dashboard command (moderators and admins)."""

    name = "dashboard"

    def commands(self) -> Sequence[Command]:
        """/dashboard."""
        return (
            Command(
                "dashboard",
                self.dashboard,
                N_("Get a sign-in link to the web dashboard, by private message."),
                role=Role.MODERATOR,
            ),
        )

    async def dashboard(self, call: CommandCall) -> str:
        """Send the caller a sign-in link privately; say in the group only that it was sent."""
        place, invoker = call.event.place, call.event.invoker
        holder = Holder(
            call.community.id, call.member_id, int(call.role), place.platform, invoker.user_id
        )
        services = self.services
        link = await issue_link(services.database, services.clock, services.settings.web, holder)
        text = call.tr(
            N_(
                "Your sign-in link to the {community} dashboard (it works once, within 10 "
                "minutes; don't share it): {link}"
            )
        ).format(community=call.community.name, link=link)
        message = DirectMessage(place.platform, invoker.user_id, text, group_id=place.group_id)
        delivery = await services.dispatcher.deliver(message, report=False)
        if delivery.ok:
            return call.tr(N_("I sent you a sign-in link to the dashboard in a private message."))
        return call.tr(DM_CLOSED).format(command="dashboard")
