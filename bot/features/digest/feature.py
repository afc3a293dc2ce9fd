"""Digests: `/digest [day|week|month]` posts one now; a background loop sends the daily and
weekly digests at their local times, each claimed in the database first so that it is sent
exactly once however many Hearth processes share the database. A claim is renewed after each
recipient; a process stopped while sending gives it up, one that died leaves it to expire
(`CLAIM_TIMEOUT`), and the next tick sends the digest to the recipients who lack it.

Fire times come from the scheduled posts' trigger parser (``daily 09:00``, ``weekly mon
09:00`` in the community's time zone), so digests follow local time across daylight saving
changes like every other schedule. Tests call `tick()` with a manual clock.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.commands import Command, CommandCall, Param, parse_arguments
from bot.config import DigestSettings
from bot.errors import InvalidArguments
from bot.events import Action, Card, DirectMessage, Place, Post, Role
from bot.features.base import DM_CLOSED, BaseFeature, Services
from bot.features.digest.metrics import Report, build_report, daily_series
from bot.features.digest.periods import KINDS, Kind, Period, period_before
from bot.features.digest.render import CARD_PLATFORMS, format_for_platform, render, render_card
from bot.features.digest.subscriptions import CHOICES, Subscriptions
from bot.features.points.curve import Curve
from bot.features.schedule.triggers import parse_when
from bot.i18n import N_, Translator, translator
from bot.overrides import is_on, points_rules
from bot.tasks import finish, spawn, stop_task
from storage.digest import (
    DigestClaim,
    claim_digest,
    digest_claimed,
    finish_digest,
    release_digest,
    renew_digest,
)
from storage.identity import CommunityInfo, list_communities

__all__ = ["DigestFeature"]

logger = logging.getLogger(__name__)
CHECK_EVERY = 60.0
#: How long a digest with a recipient on a platform this process has no adapter for waits for
#: a process that has it, before going to the recipients this process can reach.
WAIT_FOR_OTHER_PROCESSES = timedelta(minutes=15)
#: A digest's claim is renewed after each recipient; one not renewed for this long belongs to
#: a process that stopped while sending, and is taken over.
CLAIM_TIMEOUT = timedelta(minutes=10)
#: When a claim given up at stop was last renewed: long ago, so it is taken over at once.
RELEASED = datetime(2000, 1, 1, tzinfo=UTC)


class DigestFeature(BaseFeature):
    """Community health reports for moderators, on demand and on schedule."""

    name = "digest"

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self._task: asyncio.Task[None] | None = None
        self._charts: Path | None = None
        self._drawing = asyncio.Lock()
        self.claim_timeout = CLAIM_TIMEOUT
        self.subscriptions = Subscriptions(
            services.database, services.dispatcher, services.settings.digest
        )

    @property
    def settings(self) -> DigestSettings:
        """The [digest] settings."""
        return self.services.settings.digest

    def commands(self) -> Sequence[Command]:
        """`/digest [day|week|month]` for moderators (none when digests are turned off)."""
        if not self.settings.enabled:
            return ()
        kind = Param("period", choices=KINDS, required=False, help=N_("day, week or month"))
        which = Param("digest", choices=tuple(CHOICES), required=False, help=N_("daily or weekly"))
        return (
            Command(
                name="digest",
                handler=self._command,
                help=N_("Post the digest of yesterday, last week or last month here."),
                role=Role.MODERATOR,
                params=(kind,),
                feature=self.name,
            ),
            Command(
                name="subscribe",
                handler=self._subscribe,
                help=N_(
                    "Receive the daily digest (moderators) or the weekly one (admins) by "
                    "private message."
                ),
                role=Role.MODERATOR,
                params=(which,),
                feature=self.name,
            ),
            Command(
                name="unsubscribe",
                handler=self._unsubscribe,
                help=N_("Stop receiving digests by private message."),
                params=(which,),
                feature=self.name,
            ),
        )

    async def _subscribe(self, call: CommandCall) -> str:
        subscriptions = self.subscriptions
        wanted = subscriptions.wanted(call.args.get("digest"), call.role, call.tr)
        if isinstance(wanted, str):
            return wanted
        place, user = call.event.place, call.event.invoker.user_id
        names = subscriptions.names(wanted, call.tr)
        hello = call.tr(N_("You will receive the {digest} digest of {community} here.")).format(
            digest=names, community=call.community.name
        )
        if not await subscriptions.confirm(place.platform, user, place.group_id, hello):
            return call.tr(DM_CLOSED).format(command="subscribe")
        now = self.services.clock.now()
        await subscriptions.add(call.community, call.member_id, place.platform, user, wanted, now)
        return call.tr(
            N_("Subscribed: the {digest} digest will come to you by private message.")
        ).format(digest=names)

    async def _unsubscribe(self, call: CommandCall) -> str:
        kinds = _kinds(call.args.get("digest"))
        place = call.event.place
        removed = await self.subscriptions.remove(
            place.platform, call.event.invoker.user_id, kinds, call.community.id
        )
        if not removed:
            return call.tr(N_("You were not subscribed to that digest."))
        return call.tr(N_("You will no longer receive the {digest} digest here.")).format(
            digest=self.subscriptions.names(kinds, call.tr)
        )

    async def private_command(
        self, platform: str, user_id: str, name: str, args: str, tr: Translator
    ) -> str | None:
        """`/subscribe [daily|weekly]` or `/unsubscribe [daily|weekly]` sent in a private
        chat with the bot; None for any other command."""
        command = next((c for c in self.commands() if c.name == name and c.group is None), None)
        if command is None or name not in ("subscribe", "unsubscribe"):
            return None
        try:  # the same parsing, and the same usage help, as in a group
            choice = parse_arguments(command, args, tr).get("digest")
        except InvalidArguments as error:
            return str(error)
        if name == "unsubscribe":
            await self.subscriptions.remove(platform, user_id, _kinds(choice))
            return await self.subscriptions.listing(platform, user_id, tr)
        now = self.services.clock.now()
        return await self.subscriptions.private(platform, user_id, choice, tr, now)

    async def start(self) -> None:
        """Start sending scheduled digests, unless this process is not a worker."""
        wanted = self.settings.daily or self.settings.weekly
        if self.settings.enabled and wanted and self.services.settings.schedule.worker:
            self._task = spawn("digest", self._loop)

    async def stop(self) -> None:
        """Stop the loop and remove chart files."""
        await stop_task(self._task)
        self._task = None
        if self._charts is not None:
            shutil.rmtree(self._charts, ignore_errors=True)
            self._charts = None

    async def report(self, community: CommunityInfo, period: Period) -> Report:
        """The numbers of one community's period (activity still queued is written first)."""
        await self.services.writer.flush()
        settings = self.services.settings
        return await build_report(
            self.services.database,
            community_id=community.id,
            community=community.name,
            period=period,
            settings=self.settings,
            curve=Curve(points_rules(settings, community).curve),
            faq=is_on(settings, community, "faq"),
        )

    async def chart(self, community: CommunityInfo, report: Report, path: Path) -> Path:
        """Draw the digest's chart (30 days of activity and the heatmap) to `path`, labelled
        in the community's language."""
        from bot.features.digest.charts import digest_chart

        series = await daily_series(
            self.services.database, community_id=community.id, period=report.period
        )
        tr = translator(community.language)
        async with self._drawing:  # pyplot keeps global state: one drawing at a time
            return await asyncio.to_thread(digest_chart, series, report.matrix, path, tr)

    async def _compose(
        self, community: CommunityInfo, period: Period, platform: str
    ) -> tuple[str, str | None, Card | None]:
        report = await self.report(community, period)
        fmt = format_for_platform(platform)
        tr = translator(community.language)
        text = render(report, self.settings, tr, fmt)  # defused on delivery
        card = None
        if platform in CARD_PLATFORMS:
            card = render_card(report, self.settings, tr)
        image = None
        if self.settings.charts:
            if self._charts is None:
                self._charts = Path(tempfile.mkdtemp(prefix="hearth-digest-"))
            # One file per community and kind: a new digest replaces the previous chart.
            target = self._charts / f"digest-{community.id}-{period.kind}.png"
            try:
                image = str(await self.chart(community, report, target))
            except Exception:
                logger.exception("drawing the digest chart of community %s failed", community.id)
        return text, image, card

    async def _command(self, call: CommandCall) -> Sequence[Action]:
        kind: Kind = call.args.get("period") or "day"
        community = call.community
        period = period_before(kind, self.services.clock.now(), community.timezone)
        place = call.event.place
        text, image, card = await self._compose(community, period, place.platform)
        return [Post(place, text, image=image, card=card)]

    async def _loop(self) -> None:
        # Supervised (bot.tasks): an error is logged and the loop restarted after a backoff.
        while True:
            await finish(self.tick())
            await asyncio.sleep(CHECK_EVERY)

    def _plans(self) -> list[tuple[Kind, str]]:
        s = self.settings
        plans: list[tuple[Kind, str]] = []
        if s.daily:
            plans.append(("day", f"daily {s.daily_time}"))
        if s.weekly:
            plans.append(("week", f"weekly {s.weekly_day} {s.weekly_time}"))
        return plans

    async def next_due(self) -> datetime | None:
        """The next time a digest of some community is due."""
        if not self.settings.enabled:
            return None
        now = self.services.clock.now()
        async with self.services.database.session() as session:
            communities = await list_communities(session)
        fires = [
            parse_when(expression, default_timezone=community.timezone, anchor=now).after(now)
            for community in communities
            for _kind, expression in self._plans()
        ]
        return min((fire for fire in fires if fire is not None), default=None)

    def _fired(self, expression: str, timezone: str, now: datetime) -> datetime | None:
        """The latest fire time of `expression` within the grace window before `now`."""
        when = parse_when(expression, default_timezone=timezone, anchor=now)
        fire = when.next_at(now - timedelta(hours=self.settings.grace_hours))
        found = None
        while fire is not None and fire <= now:
            found, fire = fire, when.after(fire)
        return found

    async def _targets(self, community: CommunityInfo, kind: Kind) -> list[Place | tuple[str, str]]:
        """The configured direct-message recipients (platform, user id), else the moderators'
        channel; and every subscriber who may still receive it."""
        table = self.settings.daily_recipients if kind == "day" else self.settings.weekly_recipients
        configured = [
            (r.partition(":")[0], r.partition(":")[2]) for r in table.get(community.name, ())
        ]
        targets: list[Place | tuple[str, str]] = list(configured)
        ref = community.mod_channel
        if not configured and ref is not None:
            targets.append(Place(ref.platform, ref.group, ref.channel, ref.thread))
        for subscriber in await self.subscriptions.recipients(community, kind):
            if subscriber not in configured:
                targets.append(subscriber)
        return targets

    async def tick(self) -> list[tuple[int, str, str]]:
        """Send every digest due now; returns (community id, kind, first day) of each sent."""
        if not self.settings.enabled:
            return []
        now = self.services.clock.now()
        platforms = self.services.dispatcher.platforms()
        async with self.services.database.session() as session:
            communities = await list_communities(session)
        sent: list[tuple[int, str, str]] = []
        for community in communities:
            if not is_on(self.services.settings, community, "digest"):
                continue  # switched off there with /config
            for kind, expression in self._plans():
                fire = self._fired(expression, community.timezone, now)
                if fire is None:
                    continue
                period = period_before(kind, fire, community.timezone)
                async with self.services.database.session() as session:
                    if await digest_claimed(
                        session,
                        community_id=community.id,
                        kind=kind,
                        period_start=period.first.isoformat(),
                        expired_before=now - self.claim_timeout,
                    ):
                        continue  # sent (or being sent): no need to look at recipients
                targets = await self._targets(community, kind)
                reachable = [t for t in targets if _platform(t) in platforms]
                if not reachable:
                    continue
                if len(reachable) < len(targets):
                    if now - fire < WAIT_FOR_OTHER_PROCESSES:
                        continue  # another process (with that adapter) may send it to all
                    logger.warning(
                        "the %s digest of community %s goes only to %d of %d recipients: no "
                        "adapter here for the others",
                        kind,
                        community.id,
                        len(reachable),
                        len(targets),
                    )
                    targets = reachable
                try:
                    if await self._send(community, period, targets, now):
                        sent.append((community.id, kind, period.first.isoformat()))
                except Exception:
                    logger.exception("the %s digest of community %s failed", kind, community.id)
        return sent

    async def _send(
        self,
        community: CommunityInfo,
        period: Period,
        targets: list[Place | tuple[str, str]],
        now: datetime,
    ) -> bool:
        """Claim the digest, send it to each target not sent to yet, record the outcome;
        True when it is done. A stop while sending gives the claim up at once; a process that
        dies leaves it to expire, and the next tick (here or elsewhere) takes it over."""
        cid, kind, start = community.id, period.kind, period.first.isoformat()
        async with self.services.database.session() as session, session.begin():
            claim = await claim_digest(
                session,
                community_id=cid,
                kind=kind,
                period_start=start,
                now=now,
                expired_before=now - self.claim_timeout,
            )
        if claim is None:
            return False
        if claim.attempt > 1:
            logger.info(
                "the %s digest of community %s was left unfinished; sending it (attempt %d, "
                "%d of %d recipients have it)",
                kind,
                cid,
                claim.attempt,
                len(claim.delivered),
                len(targets),
            )
        delivered, failures = list(claim.delivered), []
        try:
            for target in targets:
                if _key(target) in delivered:
                    continue
                problem = await self._deliver(community, period, target)
                if problem is None:
                    delivered.append(_key(target))
                else:
                    failures.append(problem)
                if not await self._renew(claim, delivered):
                    logger.warning(
                        "the %s digest of community %s was taken over by another process; "
                        "this one stops sending it",
                        kind,
                        cid,
                    )
                    return False
        except asyncio.CancelledError:
            await self._release(claim)
            raise
        except Exception as error:
            logger.exception("the %s digest of community %s failed", period.kind, community.id)
            failures.append(f"{type(error).__name__}: {error}")
        outcome = "failed" if failures and not delivered else "sent"
        async with self.services.database.session() as session, session.begin():
            finished = await finish_digest(
                session,
                claim=claim,
                outcome=outcome,
                delivered=delivered,
                detail="; ".join(failures),
            )
        return finished and outcome == "sent"

    async def _deliver(
        self, community: CommunityInfo, period: Period, target: Place | tuple[str, str]
    ) -> str | None:
        """Send the digest to one target; None if it got through, else why not."""
        text, image, card = await self._compose(community, period, _platform(target))
        action: Action = (
            Post(target, text, image=image, card=card)
            if isinstance(target, Place)
            else DirectMessage(target[0], target[1], text, image=image, card=card)
        )
        delivery = await self.services.dispatcher.deliver(action)
        return None if delivery.ok else delivery.detail or "the platform refused it"

    async def _renew(self, claim: DigestClaim, delivered: list[str]) -> bool:
        now = self.services.clock.now()
        async with self.services.database.session() as session, session.begin():
            return await renew_digest(session, claim=claim, delivered=delivered, now=now)

    async def _release(self, claim: DigestClaim) -> None:
        try:
            async with self.services.database.session() as session, session.begin():
                await release_digest(session, claim=claim, since=RELEASED)
        except Exception:
            logger.exception("could not give up the claim on digest run %s", claim.run_id)


def _kinds(choice: str | None) -> list[str]:
    """The digest kinds a `daily`/`weekly` choice means; both without one."""
    return [CHOICES[choice]] if choice else list(CHOICES.values())


def _platform(target: Place | tuple[str, str]) -> str:
    return target.platform if isinstance(target, Place) else target[0]


def _key(target: Place | tuple[str, str]) -> str:
    """How a recipient is remembered among those a digest was sent to."""
    if isinstance(target, Place):
        return f"{target.platform}:{target.group_id}:{target.channel_id}:{target.thread_id or ''}"
    return f"dm:{target[0]}:{target[1]}"
