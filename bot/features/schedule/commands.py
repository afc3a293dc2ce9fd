"""/schedule commands: add text, image, poll and rotating-list posts; list, show, pause,
resume, remove, tag as promotion, and preview an expression."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.commands import Command, CommandCall, Handler, Param, ParamKind
from bot.errors import InvalidArguments, NotFound
from bot.events import Role
from bot.features.schedule.content import (
    POLL_QUESTION_LIMIT,
    check_items,
    check_length,
    check_template,
    local_time,
)
from bot.features.schedule.images import check_image
from bot.features.schedule.runner import when_of
from bot.features.schedule.triggers import ScheduleProblem, When, parse_when
from bot.i18n import N_, Translator
from storage.schedule import (
    NewSchedule,
    ScheduleInfo,
    add_schedule,
    delete_schedule,
    get_schedule,
    list_runs,
    list_schedules,
    set_paused,
    set_promo,
    update_schedule,
)

if TYPE_CHECKING:
    from bot.features.schedule.feature import ScheduleFeature

__all__ = ["schedule_commands"]

KIND_NAMES = {
    "text": N_("text"),
    "image": N_("image"),
    "poll": N_("poll"),
    "rotate": N_("rotating list"),
}
NO_SCHEDULE = N_("There is no scheduled post #{id}.")
#: Characters of a schedule's text (and of each list item) `/schedule show` quotes.
SHOWN_TEXT, SHOWN_ITEM = 1000, 200


def _shown(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _times(times: Sequence[str]) -> str:
    return "\n".join(f"• {time}" for time in times)


class ScheduleCommands:
    """Handlers bound to the schedule feature."""

    def __init__(self, feature: ScheduleFeature) -> None:
        self.feature = feature
        self.services = feature.services

    def _when(self, call: CommandCall) -> When:
        try:
            when = parse_when(
                call.args["when"],
                default_timezone=call.community.timezone,
                anchor=call.event.sent_at,
            )
        except ScheduleProblem as problem:
            raise InvalidArguments(problem.message(call.tr)) from None
        if not when.upcoming(call.event.sent_at, 1):
            raise InvalidArguments(
                call.tr(
                    N_("{when} never fires again (it is in the past, or no such day exists).")
                ).format(when=when.expression)
            )
        return when

    def _upcoming(self, call: CommandCall, when: When, count: int) -> list[str]:
        times = when.upcoming(call.event.sent_at, count)
        return [local_time(t, when.timezone, call.community.language) for t in times]

    async def _save(
        self,
        call: CommandCall,
        kind: str,
        text: str,
        *,
        items: Sequence[str] = (),
        image: str | None = None,
    ) -> str:
        """Check and store a new schedule for the channel the command came from."""
        when = self._when(call)
        try:
            check_template(text)
            checked = check_items(kind, items) if kind in ("poll", "rotate") else ()
            check_length((text, *checked), call.event.place.platform)
            if image is not None:
                image = check_image(image, self.feature.settings)
        except ScheduleProblem as problem:
            raise InvalidArguments(problem.message(call.tr)) from None
        place, now = call.event.place, call.event.sent_at
        schedule = NewSchedule(
            community_id=call.community.id,
            platform=place.platform,
            group_id=place.group_id,
            channel_id=place.channel_id,
            thread_id=place.thread_id,
            expression=when.expression,
            timezone=when.timezone,
            kind=kind,
            text=text,
            image=image,
            items=checked,
            author_member_id=call.member_id,
            created_at=now,
            next_run_at=when.next_at(now),
        )
        async with self.services.database.session() as session, session.begin():
            schedule_id = await add_schedule(session, schedule=schedule)
        self.feature.wake()
        upcoming = self._upcoming(call, when, 3)
        head = call.tr(N_("Scheduled post #{id}: {when} ({timezone}), in this channel.")).format(
            id=schedule_id, when=when.expression, timezone=when.timezone
        )
        return "\n".join([head, call.tr(N_("Next times:")), _times(upcoming)])

    async def add(self, call: CommandCall) -> str:
        """Schedule a text post."""
        return await self._save(call, "text", call.args["text"])

    async def image(self, call: CommandCall) -> str:
        """Schedule an image (an http(s) link or a file in the media folder) with text."""
        return await self._save(call, "image", call.args["text"] or "", image=call.args["image"])

    async def poll(self, call: CommandCall) -> str:
        """Schedule a poll: a question and 2-10 options."""
        question = call.args["question"]
        if len(question) > POLL_QUESTION_LIMIT:
            raise InvalidArguments(
                call.tr(N_("a poll question can have at most {limit} characters")).format(
                    limit=POLL_QUESTION_LIMIT
                )
            )
        return await self._save(call, "poll", question, items=call.args["options"])

    async def rotate(self, call: CommandCall) -> str:
        """Schedule a rotating list: each run posts the next item."""
        return await self._save(call, "rotate", "", items=call.args["items"])

    async def preview(self, call: CommandCall) -> str:
        """The next five times of an expression; nothing is saved."""
        when = self._when(call)
        head = call.tr(N_("{when} ({timezone}) fires next at:")).format(
            when=when.expression, timezone=when.timezone
        )
        return "\n".join([head, _times(self._upcoming(call, when, 5))])

    async def _get(self, call: CommandCall) -> ScheduleInfo:
        async with self.services.database.session() as session:
            schedule = await get_schedule(
                session, schedule_id=call.args["id"], community_id=call.community.id
            )
        if schedule is None:
            raise NotFound(call.tr(NO_SCHEDULE).format(id=call.args["id"]))
        return schedule

    def _summary(self, schedule: ScheduleInfo, tr: Translator, language: str) -> str:
        first = schedule.items[0] if schedule.kind == "rotate" and schedule.items else schedule.text
        preview = first if len(first) <= 40 else first[:39] + "…"
        flags = [tr(KIND_NAMES[schedule.kind])]
        if schedule.promo:
            flags.append(tr(N_("promo")))
        if schedule.paused:
            flags.append(tr(N_("paused")))
        if schedule.next_run_at is not None and not schedule.paused:
            when = local_time(schedule.next_run_at, schedule.timezone, language)
            flags.append(tr(N_("next {time}")).format(time=when))
        elif not schedule.paused:
            flags.append(tr(N_("done")))
        return f"#{schedule.id} {schedule.expression} ({schedule.timezone}) · " + " · ".join(
            [*flags, preview]
        )

    async def list(self, call: CommandCall) -> str:
        """The community's scheduled posts, one line each."""
        async with self.services.database.session() as session:
            schedules = await list_schedules(session, community_id=call.community.id)
        if not schedules:
            return call.tr(
                N_("Nothing is scheduled. Add a post with /schedule add <when> | <text>.")
            )
        language = call.community.language
        return "\n".join(self._summary(s, call.tr, language) for s in schedules)

    async def show(self, call: CommandCall) -> str:
        """One schedule in full: content, next times, last runs."""
        schedule, tr = await self._get(call), call.tr
        language = call.community.language
        lines = [self._summary(schedule, tr, language)]
        channel = schedule.channel_id + (f"/{schedule.thread_id}" if schedule.thread_id else "")
        lines.append(tr(N_("Channel: {channel}")).format(channel=channel))
        if schedule.image:
            lines.append(tr(N_("Image: {image}")).format(image=schedule.image))
        if schedule.kind != "rotate" and schedule.text:
            lines.append(_shown(schedule.text, SHOWN_TEXT))
        for number, item in enumerate(schedule.items, 1):
            lines.append(f"{number}. {_shown(item, SHOWN_ITEM)}")
        if schedule.kind == "rotate":
            lines.append(
                tr(N_("Next item: {number} of {count}")).format(
                    number=schedule.position % len(schedule.items) + 1, count=len(schedule.items)
                )
            )
        if schedule.paused and schedule.pause_reason:
            lines.append(tr(N_("Paused because: {reason}")).format(reason=schedule.pause_reason))
        if not schedule.paused and schedule.next_run_at is not None:
            times = when_of(schedule).upcoming(schedule.next_run_at, 3)
            lines.append(tr(N_("Next times:")))
            lines.append(_times([local_time(t, schedule.timezone, language) for t in times]))
        async with self.services.database.session() as session:
            runs = await list_runs(session, schedule_id=schedule.id)
        if runs:
            lines.append(tr(N_("Last runs:")))
        for run in runs:
            when = local_time(run.planned_at, schedule.timezone, language)
            extra = f" ({run.detail})" if run.detail and run.outcome != "posted" else ""
            lines.append(f"• {when} {run.outcome}{extra}")
        return "\n".join(lines)

    async def remove(self, call: CommandCall) -> str:
        """Delete a schedule (its record of runs stays)."""
        async with self.services.database.session() as session, session.begin():
            removed = await delete_schedule(
                session, community_id=call.community.id, schedule_id=call.args["id"]
            )
        if not removed:
            raise NotFound(call.tr(NO_SCHEDULE).format(id=call.args["id"]))
        return call.tr(N_("Removed scheduled post #{id}.")).format(id=call.args["id"])

    async def pause(self, call: CommandCall) -> str:
        """Stop a schedule posting until it is resumed."""
        await self._get(call)
        async with self.services.database.session() as session, session.begin():
            await set_paused(
                session,
                schedule_id=call.args["id"],
                community_id=call.community.id,
                paused=True,
                next_run_at=None,
                reason=call.tr(N_("paused by an admin")),
            )
        return call.tr(
            N_("Paused scheduled post #{id}. Send /schedule resume {id} to start it again.")
        ).format(id=call.args["id"])

    async def resume(self, call: CommandCall) -> str:
        """Start a paused schedule again from now (runs missed while paused are not posted)."""
        schedule, now = await self._get(call), call.event.sent_at
        when = when_of(schedule)
        following = when.next_at(now)
        async with self.services.database.session() as session, session.begin():
            await set_paused(
                session,
                schedule_id=schedule.id,
                community_id=call.community.id,
                paused=False,
                next_run_at=following,
            )
        self.feature.wake()
        if following is None:
            return call.tr(N_("Resumed scheduled post #{id}, but it never fires again.")).format(
                id=schedule.id
            )
        times = [
            local_time(t, when.timezone, call.community.language) for t in when.upcoming(now, 3)
        ]
        head = call.tr(N_("Resumed scheduled post #{id}.")).format(id=schedule.id)
        return "\n".join([head, call.tr(N_("Next times:")), _times(times)])

    async def edit(self, call: CommandCall) -> str:
        """Change when a schedule fires and, for a post, an image or a poll, its text or
        question (checked as when it was made)."""
        schedule = await self._get(call)
        when = self._when(call)
        text = call.args["text"]
        if text is None:
            text = schedule.text
        elif schedule.kind == "rotate":
            raise InvalidArguments(
                call.tr(
                    N_("A rotating list's items cannot be edited: remove it and schedule it again.")
                )
            )
        try:
            check_template(text)
            check_length((text, *schedule.items), schedule.platform)
        except ScheduleProblem as problem:
            raise InvalidArguments(problem.message(call.tr)) from None
        now = call.event.sent_at
        async with self.services.database.session() as session, session.begin():
            await update_schedule(
                session,
                community_id=call.community.id,
                schedule_id=schedule.id,
                expression=when.expression,
                timezone=when.timezone,
                text=text,
                next_run_at=when.next_at(now),
            )
        self.feature.wake()
        head = call.tr(N_("Changed scheduled post #{id}: {when} ({timezone}).")).format(
            id=schedule.id, when=when.expression, timezone=when.timezone
        )
        if schedule.paused:
            return head
        return "\n".join([head, call.tr(N_("Next times:")), _times(self._upcoming(call, when, 3))])

    async def promo(self, call: CommandCall) -> str:
        """Tag a schedule as promotion (counted against the weekly cap) or untag it."""
        promo = call.args["promo"] == "on"
        async with self.services.database.session() as session, session.begin():
            found = await set_promo(
                session, community_id=call.community.id, schedule_id=call.args["id"], promo=promo
            )
        if not found:
            raise NotFound(call.tr(NO_SCHEDULE).format(id=call.args["id"]))
        cap = self.feature.settings.promo_cap_for(call.community.name)
        if promo:
            return call.tr(
                N_(
                    "Scheduled post #{id} is a promotion: at most {cap} promotions post in any "
                    "7 days."
                )
            ).format(id=call.args["id"], cap=cap)
        return call.tr(N_("Scheduled post #{id} is no longer a promotion.")).format(
            id=call.args["id"]
        )


def schedule_commands(feature: ScheduleFeature) -> Sequence[Command]:
    """Every /schedule command, declared once."""
    h = ScheduleCommands(feature)
    text, admin, moderator = ParamKind.TEXT, Role.ADMIN, Role.MODERATOR
    when = Param("when", text, help=N_("e.g. daily 09:00, 0 9 * * MON-FRI, every 2h"))
    entry = Param("id", ParamKind.INTEGER, minimum=1)
    specs: tuple[tuple[str, Handler, str, Role, tuple[Param, ...]], ...] = (
        ("add", h.add, N_("Schedule a post in this channel."), admin, (Param("text", text),)),
        (
            "image",
            h.image,
            N_("Schedule an image (an http(s) link or a file in the media folder) with text."),
            admin,
            (
                Param("image", text, help=N_("an http(s) link, or a file in the media folder")),
                Param("text", text, required=False),
            ),
        ),
        (
            "poll",
            h.poll,
            N_("Schedule a poll: a question and 2 to 10 options."),
            admin,
            (Param("question", text), Param("options", text, variadic=True)),
        ),
        (
            "rotate",
            h.rotate,
            N_("Schedule a rotating list: each run posts the next item."),
            admin,
            (Param("items", text, variadic=True),),
        ),
    )
    # The commands that make a schedule read "<when> | <content> | …".
    commands = [
        Command(name, handler, help_text, role, (when, *params), group="schedule", separator="|")
        for name, handler, help_text, role, params in specs
    ]
    others: tuple[tuple[str, Handler, str, Role, tuple[Param, ...]], ...] = (
        ("list", h.list, N_("List the scheduled posts."), moderator, ()),
        (
            "show",
            h.show,
            N_("Show a scheduled post, its next times and last runs."),
            moderator,
            (entry,),
        ),
        ("remove", h.remove, N_("Delete a scheduled post."), admin, (entry,)),
        ("pause", h.pause, N_("Pause a scheduled post."), admin, (entry,)),
        ("resume", h.resume, N_("Resume a paused scheduled post."), admin, (entry,)),
        (
            "promo",
            h.promo,
            N_("Tag a scheduled post as promotion (weekly cap) or not."),
            admin,
            (entry, Param("promo", choices=("on", "off"))),
        ),
        (
            "preview",
            h.preview,
            N_("Show the next five times of an expression; nothing is saved."),
            moderator,
            (when,),
        ),
    )
    commands += [Command(*spec, group="schedule") for spec in others]
    commands.append(
        Command(
            "edit",
            h.edit,
            N_("Change when a scheduled post fires and, optionally, its text."),
            admin,
            (entry, when, Param("text", text, required=False)),
            group="schedule",
            separator="|",
        )
    )
    return tuple(commands)
