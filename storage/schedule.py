"""Scheduled posts and the record of their runs.

Claims are conditional updates: a run is taken by moving a schedule's `next_run_at` and
`last_run_at` only if they are still what the claimer read, and a retry by moving a run out of
``retrying`` only if its attempt count is unchanged. The winner is whoever changed one row.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Community, Schedule, ScheduleRun

__all__ = [
    "NewRun",
    "NewSchedule",
    "Run",
    "ScheduleInfo",
    "add_run",
    "add_schedule",
    "advance_rotation",
    "claim_retry",
    "claim_run",
    "count_promo_runs",
    "delete_schedule",
    "due_retries",
    "due_schedules",
    "finish_run",
    "get_schedule",
    "list_runs",
    "list_schedules",
    "lock_community",
    "next_due_at",
    "set_paused",
    "set_promo",
    "update_schedule",
]

#: Outcomes of a run that count towards the promotion cap (posted, or about to be).
PROMO_OUTCOMES = ("pending", "posted", "retrying")


@dataclass(frozen=True, slots=True)
class NewSchedule:
    """What an admin asks for: where, when, and what."""

    community_id: int
    platform: str
    group_id: str
    channel_id: str
    thread_id: str | None
    expression: str
    timezone: str
    kind: str
    text: str
    image: str | None
    items: tuple[str, ...]
    author_member_id: int | None
    created_at: datetime
    next_run_at: datetime | None


@dataclass(frozen=True, slots=True)
class ScheduleInfo:
    """A stored schedule."""

    id: int
    community_id: int
    platform: str
    group_id: str
    channel_id: str
    thread_id: str | None
    expression: str
    timezone: str
    kind: str
    text: str
    image: str | None
    items: tuple[str, ...]
    position: int
    promo: bool
    paused: bool
    pause_reason: str | None
    author_member_id: int | None
    created_at: datetime
    next_run_at: datetime | None
    last_run_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewRun:
    """A run as claimed: planned, and pending (to post), missed or blocked."""

    community_id: int
    schedule_id: int
    platform: str
    channel_id: str
    promo: bool
    planned_at: datetime
    outcome: str
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """A recorded run."""

    id: int
    community_id: int
    schedule_id: int | None
    platform: str
    channel_id: str
    promo: bool
    planned_at: datetime
    outcome: str
    attempts: int
    retry_at: datetime | None
    posted_at: datetime | None
    message_id: str | None
    text: str | None
    detail: str | None


def _schedule(row: Schedule) -> ScheduleInfo:
    values = {name: getattr(row, name) for name in ScheduleInfo.__dataclass_fields__}
    values["items"] = tuple(row.items or ())
    return ScheduleInfo(**values)


def _run(row: ScheduleRun) -> Run:
    return Run(**{name: getattr(row, name) for name in Run.__dataclass_fields__})


def _changed(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def add_schedule(session: AsyncSession, *, schedule: NewSchedule) -> int:
    """Store a new schedule; returns its id."""
    values = asdict(schedule)
    values["items"] = list(schedule.items)
    row = Schedule(**values, position=0, promo=False, paused=False)
    session.add(row)
    await session.flush()
    return row.id


async def get_schedule(
    session: AsyncSession, *, schedule_id: int, community_id: int | None = None
) -> ScheduleInfo | None:
    """One schedule (of one community, when `community_id` is given)."""
    row = await session.get(Schedule, schedule_id, populate_existing=True)
    if row is None or (community_id is not None and row.community_id != community_id):
        return None
    return _schedule(row)


async def list_schedules(session: AsyncSession, *, community_id: int) -> list[ScheduleInfo]:
    """A community's schedules, oldest first."""
    query = select(Schedule).where(Schedule.community_id == community_id).order_by(Schedule.id)
    return [_schedule(row) for row in (await session.execute(query)).scalars()]


async def delete_schedule(session: AsyncSession, *, community_id: int, schedule_id: int) -> bool:
    """Delete a schedule (its runs stay, without it); False if there is no such schedule."""
    await session.execute(
        update(ScheduleRun)
        .where(ScheduleRun.schedule_id == schedule_id, ScheduleRun.community_id == community_id)
        .values(schedule_id=None)
    )
    result = await session.execute(
        delete(Schedule).where(Schedule.id == schedule_id, Schedule.community_id == community_id)
    )
    return _changed(result) == 1


async def set_paused(
    session: AsyncSession,
    *,
    schedule_id: int,
    paused: bool,
    next_run_at: datetime | None,
    reason: str | None = None,
    community_id: int | None = None,
) -> bool:
    """Pause a schedule (with a reason) or resume it from `next_run_at`."""
    query = update(Schedule).where(Schedule.id == schedule_id)
    if community_id is not None:
        query = query.where(Schedule.community_id == community_id)
    values: dict[str, Any] = {"paused": paused, "pause_reason": reason}
    if not paused:
        values["next_run_at"] = next_run_at
    return _changed(await session.execute(query.values(**values))) == 1


async def update_schedule(
    session: AsyncSession,
    *,
    community_id: int,
    schedule_id: int,
    expression: str,
    timezone: str,
    text: str,
    next_run_at: datetime | None,
) -> bool:
    """Change when a schedule fires and what it says (a paused one stays paused)."""
    values: dict[str, Any] = {"expression": expression, "timezone": timezone, "text": text}
    result = await session.execute(
        update(Schedule)
        .where(Schedule.id == schedule_id, Schedule.community_id == community_id)
        .values(**values)
    )
    if _changed(result) != 1:
        return False
    await session.execute(
        update(Schedule)
        .where(Schedule.id == schedule_id, Schedule.paused.is_(False))
        .values(next_run_at=next_run_at)
    )
    return True


async def set_promo(
    session: AsyncSession, *, community_id: int, schedule_id: int, promo: bool
) -> bool:
    """Tag a schedule as promotion (counted against the weekly cap) or untag it."""
    result = await session.execute(
        update(Schedule)
        .where(Schedule.id == schedule_id, Schedule.community_id == community_id)
        .values(promo=promo)
    )
    return _changed(result) == 1


async def due_schedules(
    session: AsyncSession, *, now: datetime, platforms: Collection[str], limit: int = 100
) -> list[ScheduleInfo]:
    """Active schedules on `platforms` whose next run is due, earliest first."""
    query = (
        select(Schedule)
        .where(
            Schedule.paused.is_(False),
            Schedule.next_run_at <= now,
            Schedule.platform.in_(list(platforms)),
        )
        .order_by(Schedule.next_run_at, Schedule.id)
        .limit(limit)
    )
    return [_schedule(row) for row in (await session.execute(query)).scalars()]


async def next_due_at(session: AsyncSession, *, platforms: Collection[str]) -> datetime | None:
    """When the earliest run or retry on `platforms` is due (None: nothing planned)."""
    runs = select(func.min(Schedule.next_run_at)).where(
        Schedule.paused.is_(False), Schedule.platform.in_(list(platforms))
    )
    retries = select(func.min(ScheduleRun.retry_at)).where(
        ScheduleRun.outcome == "retrying", ScheduleRun.platform.in_(list(platforms))
    )
    # min() keeps the column's type, so both come back as aware UTC times (or None).
    times = [(await session.execute(query)).scalar_one_or_none() for query in (runs, retries)]
    known = [moment for moment in times if moment is not None]
    return min(known) if known else None


async def claim_run(
    session: AsyncSession,
    *,
    schedule_id: int,
    seen_next: datetime,
    planned_at: datetime,
    next_run_at: datetime | None,
) -> bool:
    """Take the run planned at `planned_at`: True for exactly one claimer.

    The update applies only if the schedule is active, still due at `seen_next`, and its last
    claimed run is older than `planned_at`.
    """
    result = await session.execute(
        update(Schedule)
        .where(
            Schedule.id == schedule_id,
            Schedule.paused.is_(False),
            Schedule.next_run_at == seen_next,
            or_(Schedule.last_run_at.is_(None), Schedule.last_run_at < planned_at),
        )
        .values(last_run_at=planned_at, next_run_at=next_run_at)
        .execution_options(synchronize_session=False)
    )
    return _changed(result) == 1


async def add_run(session: AsyncSession, *, run: NewRun) -> int:
    """Record a claimed run (unique per schedule and planned time); returns its id."""
    query = insert(ScheduleRun).values(**asdict(run), attempts=0).returning(ScheduleRun.id)
    return int((await session.execute(query)).scalar_one())


async def due_retries(
    session: AsyncSession, *, now: datetime, platforms: Collection[str], limit: int = 100
) -> list[Run]:
    """Runs waiting to be retried whose time has come."""
    query = (
        select(ScheduleRun)
        .where(
            ScheduleRun.outcome == "retrying",
            ScheduleRun.retry_at <= now,
            ScheduleRun.platform.in_(list(platforms)),
        )
        .order_by(ScheduleRun.retry_at, ScheduleRun.id)
        .limit(limit)
    )
    return [_run(row) for row in (await session.execute(query)).scalars()]


async def claim_retry(session: AsyncSession, *, run_id: int, attempts: int) -> bool:
    """Take a retry: True for exactly one claimer (the run is still waiting, same attempts)."""
    result = await session.execute(
        update(ScheduleRun)
        .where(
            ScheduleRun.id == run_id,
            ScheduleRun.outcome == "retrying",
            ScheduleRun.attempts == attempts,
        )
        .values(outcome="pending", retry_at=None)
        .execution_options(synchronize_session=False)
    )
    return _changed(result) == 1


async def finish_run(
    session: AsyncSession,
    *,
    run_id: int,
    outcome: str,
    attempts: int,
    retry_at: datetime | None = None,
    posted_at: datetime | None = None,
    message_id: str | None = None,
    text: str | None = None,
    detail: str | None = None,
) -> None:
    """Record how an attempt went: posted, retrying (at `retry_at`) or failed."""
    await session.execute(
        update(ScheduleRun)
        .where(ScheduleRun.id == run_id)
        .values(
            outcome=outcome,
            attempts=attempts,
            retry_at=retry_at,
            posted_at=posted_at,
            message_id=message_id,
            text=text,
            detail=detail[:500] if detail else None,
        )
    )


async def advance_rotation(session: AsyncSession, *, schedule_id: int) -> None:
    """Move a rotating list on to its next item."""
    await session.execute(
        update(Schedule)
        .where(Schedule.id == schedule_id)
        .values(position=Schedule.position + 1)
        .execution_options(synchronize_session=False)
    )


async def lock_community(session: AsyncSession, *, community_id: int) -> None:
    """Serialize promotion claims of one community until the transaction ends.

    PostgreSQL locks the community's row; SQLite has a single writer already.
    """
    await session.execute(
        select(Community.id).where(Community.id == community_id).with_for_update()
    )


async def count_promo_runs(session: AsyncSession, *, community_id: int, since: datetime) -> int:
    """Promotional runs of a community posted (or about to be) planned after `since`."""
    query = select(func.count()).where(
        ScheduleRun.community_id == community_id,
        ScheduleRun.promo.is_(True),
        ScheduleRun.outcome.in_(PROMO_OUTCOMES),
        ScheduleRun.planned_at > since,
    )
    return int((await session.execute(query)).scalar_one())


async def list_runs(session: AsyncSession, *, schedule_id: int, limit: int = 5) -> list[Run]:
    """A schedule's newest runs first."""
    query = (
        select(ScheduleRun)
        .where(ScheduleRun.schedule_id == schedule_id)
        .order_by(ScheduleRun.planned_at.desc(), ScheduleRun.id.desc())
        .limit(limit)
    )
    return [_run(row) for row in (await session.execute(query)).scalars()]
