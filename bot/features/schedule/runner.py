"""Posting due runs exactly once: claim in the database, post, record, retry, pause.

One `tick()` looks at the clock once and handles what is due then: retries first, then
schedules. A run is claimed by a conditional update before anything is posted, so two Hearth
processes on one database never post it twice; a crash between claim and post loses that run
rather than doubling it. A run missed while Hearth was down posts once if it is within the grace
time and is otherwise recorded as missed; after any downtime at most one run per schedule is
posted.

Due work runs in one lane per community (`lanes`): a slow platform or a large post of one
community does not hold back another's posts, and each attempt (rendering and delivery) has a
time budget, `POST_TIMEOUT`, after which it counts as a failed attempt and is retried later
(like any delivery that fails part-way, the retry posts the whole post again).
Rendering is bounded by the post's size limit (`content.post_limit`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import ScheduleSettings
from bot.events import Post
from bot.features.base import Services
from bot.features.schedule.content import (
    build_post,
    check_template,
    template_values,
    wanted_fields,
)
from bot.features.schedule.images import ImageRefused, resolve_image
from bot.features.schedule.lanes import run_in_lanes
from bot.features.schedule.triggers import ScheduleProblem, When, WhenError, parse_when
from bot.i18n import N_, Translator, translator
from storage.identity import CommunityInfo, get_community
from storage.schedule import (
    NewRun,
    Run,
    ScheduleInfo,
    add_run,
    advance_rotation,
    claim_retry,
    claim_run,
    count_promo_runs,
    due_retries,
    due_schedules,
    finish_run,
    get_schedule,
    lock_community,
    next_due_at,
    set_paused,
)

__all__ = ["PARALLEL_COMMUNITIES", "POST_TIMEOUT", "RunReport", "Runner", "when_of"]

logger = logging.getLogger(__name__)
PROMO_WINDOW = timedelta(days=7)
#: Communities whose due work runs at the same time, at most.
PARALLEL_COMMUNITIES = 8
#: Seconds one attempt (rendering and delivery) or one note to moderators may take.
POST_TIMEOUT = 60.0
PAUSED_NOTE = N_(
    "Scheduled post #{id} is paused: posting in channel {channel} failed {attempts} times "
    "({detail}). Fix the cause, then send /schedule resume {id}."
)
TEMPLATE_NOTE = N_(
    "Scheduled post #{id} is paused and was not posted: {detail}. Remove it (/schedule "
    "remove {id}) and schedule it again with plain placeholders."
)
IMAGE_NOTE = N_(
    "Scheduled post #{id} is paused and was not posted: its image cannot be posted "
    "({detail}). Remove it (/schedule remove {id}) and schedule the image again as an "
    "http(s) link or a file in the media folder."
)
BLOCKED_NOTE = N_(
    "Scheduled post #{id} was not posted: it is a promotion, and this community already had "
    "{count} promotional posts in the last 7 days (the cap is {cap})."
)


@dataclass(frozen=True, slots=True)
class RunReport:
    """What a tick did with one run: posted, retrying, failed, missed or blocked."""

    schedule_id: int
    planned_at: datetime
    outcome: str
    message_id: str | None = None


def when_of(schedule: ScheduleInfo) -> When:
    """A stored schedule's trigger (``every`` intervals count from its creation)."""
    return parse_when(
        schedule.expression, default_timezone=schedule.timezone, anchor=schedule.created_at
    )


def _latest_within(when: When, start: datetime, end: datetime) -> datetime | None:
    """The last fire time in [start, end], or None."""
    found = None
    fire = when.next_at(start)
    while fire is not None and fire <= end:
        found = fire
        fire = when.after(fire)
    return found


class Runner:
    """Finds due runs and retries and carries them out."""

    def __init__(
        self,
        services: Services,
        *,
        parallel: int = PARALLEL_COMMUNITIES,
        post_timeout: float = POST_TIMEOUT,
    ) -> None:
        self.services = services
        self.parallel = parallel
        self.post_timeout = post_timeout

    @property
    def settings(self) -> ScheduleSettings:
        """The [schedule] settings."""
        return self.services.settings.schedule

    async def next_due(self) -> datetime | None:
        """When the earliest run or retry this process can post is due."""
        platforms = self.services.dispatcher.platforms()
        if not platforms:
            return None
        async with self.services.database.session() as session:
            return await next_due_at(session, platforms=platforms)

    async def tick(self) -> list[RunReport]:
        """Handle every retry and run due now on the platforms an adapter is attached for."""
        now = self.services.clock.now()
        platforms = self.services.dispatcher.platforms()
        if not platforms:
            return []
        database = self.services.database
        async with database.session() as session:
            retries = await due_retries(session, now=now, platforms=platforms)
            due = await due_schedules(session, now=now, platforms=platforms)
        # Each community in its own lane: its retries first, then its runs, in order.
        jobs = [
            (
                run.community_id,
                partial(self._guarded, run.schedule_id, partial(self._retry, run, now)),
            )
            for run in retries
        ]
        jobs += [
            (s.community_id, partial(self._guarded, s.id, partial(self._run, s, now))) for s in due
        ]
        return await run_in_lanes(jobs, parallel=self.parallel)

    async def _guarded(
        self, schedule_id: int | None, work: Callable[[], Awaitable[list[RunReport]]]
    ) -> list[RunReport]:
        try:
            return await work()
        except Exception:
            logger.exception("scheduled post #%s failed", schedule_id)
            return []

    async def _run(self, schedule: ScheduleInfo, now: datetime) -> list[RunReport]:
        seen = schedule.next_run_at
        if seen is None:  # pragma: no cover - due_schedules only returns planned runs
            return []
        try:
            when = when_of(schedule)
        except WhenError as error:  # a stored expression this version cannot read
            await self._give_up(schedule, str(error))
            return []
        window = now - timedelta(minutes=self.settings.grace_minutes)
        to_post = _latest_within(when, max(seen, window), now)
        # Whatever was due before the run to post (or before the grace window) is skipped:
        # one "missed" record for it, never a burst of catch-up posts.
        missed = to_post is None or seen < to_post
        planned = to_post or seen
        cap = None
        if schedule.promo:  # resolved before the claim: no other session inside it
            cap = self.settings.promo_cap_for((await self._community(schedule)).name)
        async with self.services.database.session() as session, session.begin():
            claimed = await claim_run(
                session,
                schedule_id=schedule.id,
                seen_next=seen,
                planned_at=planned,
                next_run_at=when.after(now),
            )
            if not claimed:
                return []
            if missed:
                await add_run(session, run=self._new_run(schedule, seen, "missed", now))
            run_id, outcome = None, None
            if to_post is not None:
                outcome = await self._promo_outcome(session, schedule, cap, now)
                run_id = await add_run(session, run=self._new_run(schedule, to_post, outcome, now))
        reports = []
        if missed:
            logger.warning(
                "scheduled post #%s missed its run at %s (Hearth was not running then); skipped",
                schedule.id,
                seen.isoformat(),
            )
            reports.append(RunReport(schedule.id, seen, "missed"))
        if to_post is None or run_id is None:
            return reports
        if outcome == "blocked":
            await self._report_blocked(schedule, now)
            return [*reports, RunReport(schedule.id, to_post, "blocked")]
        return [*reports, await self._attempt(schedule, run_id, to_post, 0)]

    def _new_run(
        self, schedule: ScheduleInfo, planned: datetime, outcome: str, now: datetime
    ) -> NewRun:
        detail = None
        if outcome == "missed":
            late = int((now - planned).total_seconds() // 60)
            grace = self.settings.grace_minutes
            detail = (
                f"{late} min late: Hearth was not running (grace {grace} min, one post at most)"
            )
        return NewRun(
            community_id=schedule.community_id,
            schedule_id=schedule.id,
            platform=schedule.platform,
            channel_id=schedule.channel_id,
            promo=schedule.promo,
            planned_at=planned,
            outcome=outcome,
            detail=detail,
        )

    async def _promo_outcome(
        self, session: AsyncSession, schedule: ScheduleInfo, cap: int | None, now: datetime
    ) -> str:
        """ "pending", or "blocked" when a promotion would exceed the community's cap."""
        if cap is None:
            return "pending"
        # Two processes claiming promotions of one community at once take turns here, so
        # the second one counts the first one's run.
        await lock_community(session, community_id=schedule.community_id)
        used = await count_promo_runs(
            session, community_id=schedule.community_id, since=now - PROMO_WINDOW
        )
        return "blocked" if used >= cap else "pending"

    async def _community(self, schedule: ScheduleInfo) -> CommunityInfo:
        async with self.services.database.session() as session:
            community = await get_community(session, community_id=schedule.community_id)
        if community is None:  # pragma: no cover - schedules reference their community
            raise LookupError(f"community {schedule.community_id} of #{schedule.id} is gone")
        return community

    async def _retry(self, run: Run, now: datetime) -> list[RunReport]:
        async with self.services.database.session() as session, session.begin():
            if not await claim_retry(session, run_id=run.id, attempts=run.attempts):
                return []
            schedule = None
            if run.schedule_id is not None:
                schedule = await get_schedule(session, schedule_id=run.schedule_id)
            if schedule is None or schedule.paused:
                await finish_run(
                    session,
                    run_id=run.id,
                    outcome="failed",
                    attempts=run.attempts,
                    detail=(run.detail or "") + " (schedule removed or paused)",
                )
                return []
        return [await self._attempt(schedule, run.id, run.planned_at, run.attempts)]

    async def _attempt(
        self, schedule: ScheduleInfo, run_id: int, planned: datetime, attempts: int
    ) -> RunReport:
        """Post one run (attempt number `attempts + 1`) and record how it went."""
        community = await self._community(schedule)
        tr = translator(community.language)
        try:
            image = self._checked(schedule)
        except ScheduleProblem as refused:
            detail = refused.message(tr)
            template = IMAGE_NOTE if isinstance(refused, ImageRefused) else TEMPLATE_NOTE
            note = tr(template).format(id=schedule.id, detail=detail)
            await self._fail(schedule, community, run_id, attempts + 1, detail, tr, note=note)
            return RunReport(schedule.id, planned, "failed")
        try:
            # A budget for the whole attempt: a platform that does not answer must not hold
            # this community's lane (and a place among the parallel ones) for long.
            async with asyncio.timeout(self.post_timeout):
                post, text = await self._post(schedule, community, planned, tr, image)
                delivery = await self.services.dispatcher.deliver(post, report=False)
            ok, message_id, detail = delivery.ok, delivery.message_id, delivery.detail
        except TimeoutError:
            logger.warning(
                "scheduled post #%s took over %s s; stopped", schedule.id, self.post_timeout
            )
            ok, message_id, text = False, None, ""
            detail = f"no answer within {self.post_timeout:g} s"
        except Exception as error:  # a template query failing, say: a failed attempt too
            logger.exception("preparing scheduled post #%s failed", schedule.id)
            ok, message_id, detail, text = False, None, f"{type(error).__name__}: {error}", ""
        attempts += 1
        now = self.services.clock.now()
        if ok:
            await self._record_posted(schedule, run_id, attempts, now, message_id, text)
            return RunReport(schedule.id, planned, "posted", message_id)
        detail = detail or "the platform refused the post"
        if attempts < self.settings.max_attempts:
            waits = self.settings.retry_backoff_minutes
            retry_at = now + timedelta(minutes=waits[min(attempts, len(waits)) - 1])
            async with self.services.database.session() as session, session.begin():
                await finish_run(
                    session,
                    run_id=run_id,
                    outcome="retrying",
                    attempts=attempts,
                    retry_at=retry_at,
                    detail=detail,
                )
            logger.warning(
                "scheduled post #%s failed (%s); retry %s at %s",
                schedule.id,
                detail,
                attempts,
                retry_at.isoformat(),
            )
            return RunReport(schedule.id, planned, "retrying")
        await self._fail(schedule, community, run_id, attempts, detail, tr)
        return RunReport(schedule.id, planned, "failed")

    def _checked(self, schedule: ScheduleInfo) -> str | None:
        """The image to post, if any, once the stored content passes today's checks.

        Checked again at every post: a schedule stored before the rules (or written to the
        database directly, or a file changed since) must never post a file from outside the
        media folder, nor a template that could make a post any length.

        Raises:
            ScheduleProblem: `ImageRefused` or `ContentError`, worded for the moderators.
        """
        for text in (schedule.text, *schedule.items):
            check_template(text)
        if schedule.kind == "image" and schedule.image:
            return resolve_image(schedule.image, self.settings)
        return None

    async def _post(
        self,
        schedule: ScheduleInfo,
        community: CommunityInfo,
        planned: datetime,
        tr: Translator,
        image: str | None,
    ) -> tuple[Post, str]:
        wanted = wanted_fields(schedule)
        values = {}
        if wanted:
            values = await template_values(
                self.services.database,
                community,
                planned=planned,
                timezone=schedule.timezone,
                wanted=wanted,
                tr=tr,
            )
        return build_post(schedule, values, tr, image=image)

    async def _record_posted(
        self,
        schedule: ScheduleInfo,
        run_id: int,
        attempts: int,
        now: datetime,
        message_id: str | None,
        text: str,
    ) -> None:
        async with self.services.database.session() as session, session.begin():
            await finish_run(
                session,
                run_id=run_id,
                outcome="posted",
                attempts=attempts,
                posted_at=now,
                message_id=message_id,
                text=text,
            )
            if schedule.kind == "rotate":
                await advance_rotation(session, schedule_id=schedule.id)

    async def _fail(
        self,
        schedule: ScheduleInfo,
        community: CommunityInfo,
        run_id: int,
        attempts: int,
        detail: str,
        tr: Translator,
        *,
        note: str | None = None,
    ) -> None:
        async with self.services.database.session() as session, session.begin():
            await finish_run(
                session, run_id=run_id, outcome="failed", attempts=attempts, detail=detail
            )
            await set_paused(
                session, schedule_id=schedule.id, paused=True, next_run_at=None, reason=detail
            )
        logger.warning(
            "scheduled post #%s paused after %s attempts: %s", schedule.id, attempts, detail
        )
        note = note or tr(PAUSED_NOTE).format(
            id=schedule.id, channel=schedule.channel_id, attempts=attempts, detail=detail
        )
        await self._notify(community, note)

    async def _notify(self, community: CommunityInfo, note: str) -> None:
        """Tell the moderators, within the time budget (a slow channel must not hold the lane)."""
        try:
            async with asyncio.timeout(self.post_timeout):
                await self.services.dispatcher.notify_moderators(community, note)
        except TimeoutError:
            logger.warning(
                "note to the moderators of community %s timed out: %s", community.id, note
            )

    async def _give_up(self, schedule: ScheduleInfo, detail: str) -> None:
        async with self.services.database.session() as session, session.begin():
            await set_paused(
                session, schedule_id=schedule.id, paused=True, next_run_at=None, reason=detail
            )
        logger.error("scheduled post #%s paused: cannot read its time: %s", schedule.id, detail)

    async def _report_blocked(self, schedule: ScheduleInfo, now: datetime) -> None:
        community = await self._community(schedule)
        async with self.services.database.session() as session:
            used = await count_promo_runs(
                session, community_id=schedule.community_id, since=now - PROMO_WINDOW
            )
        cap = self.settings.promo_cap_for(community.name)
        logger.warning(
            "promotion #%s blocked: %s promotions in 7 days (cap %s)", schedule.id, used, cap
        )
        note = translator(community.language)(BLOCKED_NOTE).format(
            id=schedule.id, count=used, cap=cap
        )
        await self._notify(community, note)
