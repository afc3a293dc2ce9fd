"""/faq commands: maintain entries, try the matcher, see what went unanswered."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.commands import Command, CommandCall, Handler, Param, ParamKind
from bot.errors import NotFound
from bot.events import Role
from bot.i18n import N_, Translator
from bot.text.matcher import Ranked
from bot.text.normalize import is_blank
from bot.text.question import is_question
from bot.text.tokenize import question_key, word_tokens
from storage.faq import (
    MAX_TAGS,
    Entry,
    Unanswered,
    add_entry,
    clean_tags,
    delete_entry,
    get_entry,
    list_entries,
    recent_unanswered,
    record_vote,
    update_entry,
)

if TYPE_CHECKING:
    from bot.features.faq.feature import FaqFeature

__all__ = ["faq_commands", "group_questions"]

#: Entries `/faq list` shows at a time.
LIST_PAGE = 30


GAP_DAYS = 7
SAME_QUESTION = 0.5


def group_questions(questions: Sequence[Unanswered]) -> list[tuple[int, Unanswered]]:
    """Group similar questions (word overlap ≥ 50%), most frequent first."""
    groups: list[tuple[set[str], list[Unanswered]]] = []
    for question in questions:
        terms = set(word_tokens(question.text or ""))
        for seed, members in groups:
            union = seed | terms
            if union and len(seed & terms) / len(union) >= SAME_QUESTION:
                members.append(question)
                break
        else:
            groups.append((terms, [question]))
    groups.sort(key=lambda group: len(group[1]), reverse=True)
    return [(len(members), members[0]) for _, members in groups]


def _signals(ranked: Ranked, tr: Translator) -> str:
    """What the score is made of, so admins can see why an entry scores as it does."""
    parts = [
        tr(N_("words {value}")).format(value=f"{ranked.words:.2f}"),
        tr(N_("characters {value}")).format(value=f"{ranked.chars:.2f}"),
        tr(N_("meaning {value}")).format(value=f"{ranked.meaning:.2f}"),
    ]
    if ranked.model is not None:
        parts.append(tr(N_("model {value}")).format(value=f"{ranked.model:.2f}"))
    return tr(N_("Signals: {signals}")).format(signals=" · ".join(parts))


class FaqCommands:
    """Handlers bound to the FAQ feature."""

    def __init__(self, feature: FaqFeature) -> None:
        self.feature = feature
        self.services = feature.services

    async def _entry(self, call: CommandCall) -> Entry:
        await self.services.writer.flush()  # the answers still queued count
        async with self.services.database.session() as session:
            entry = await get_entry(
                session, community_id=call.community.id, entry_id=call.args["id"]
            )
        if entry is None:
            raise NotFound(call.tr(N_("There is no FAQ entry #{id}.")).format(id=call.args["id"]))
        return entry

    async def _change(self, call: CommandCall, **changes: Any) -> None:
        async with self.services.database.session() as session, session.begin():
            found = await update_entry(
                session,
                community_id=call.community.id,
                entry_id=call.args["id"],
                now=call.event.sent_at,
                **changes,
            )
        if not found:
            raise NotFound(call.tr(N_("There is no FAQ entry #{id}.")).format(id=call.args["id"]))
        self.feature.library.changed(call.community.id)

    async def _owner(self, call: CommandCall, question: str) -> int | None:
        """The entry that already has `question` (the same words, whatever the case, width
        and punctuation): two entries with one phrasing tie, and neither would answer."""
        wanted = question_key(question)
        async with self.services.database.session() as session:
            entries = await list_entries(session, community_id=call.community.id)
        for entry in entries:
            if any(question_key(q) == wanted for q in entry.questions):
                return entry.id
        return None

    @staticmethod
    def _blank(call: CommandCall, *names: str) -> str | None:
        """A refusal if a question or answer shows nothing (zero-width characters only)."""
        if "question" in names and not question_key(call.args["question"]):
            return call.tr(N_("The question has no words: write it in letters or characters."))
        if "answer" in names and is_blank(call.args["answer"]):
            return call.tr(N_("The answer is empty: invisible characters show nothing."))
        return None

    async def add(self, call: CommandCall) -> str:
        """Create an entry from one phrasing and its answer."""
        if refused := self._blank(call, "question", "answer"):
            return refused
        owner = await self._owner(call, call.args["question"])
        if owner is not None:
            return call.tr(
                N_("Entry #{id} already has that question; change its answer with /faq edit {id}.")
            ).format(id=owner)
        async with self.services.database.session() as session, session.begin():
            entry_id = await add_entry(
                session,
                community_id=call.community.id,
                questions=[call.args["question"]],
                answer=call.args["answer"],
                now=call.event.sent_at,
                author_member_id=call.member_id,
            )
        self.feature.library.changed(call.community.id)
        return call.tr(
            N_("Added FAQ entry #{id}. Add other ways to ask it with /faq alias {id} <question>.")
        ).format(id=entry_id)

    async def alias(self, call: CommandCall) -> str:
        """Add another phrasing to an entry."""
        if refused := self._blank(call, "question"):
            return refused
        owner = await self._owner(call, call.args["question"])
        if owner is not None:
            return call.tr(N_("Entry #{id} already has that question.")).format(id=owner)
        await self._change(call, add_question=call.args["question"])
        return call.tr(N_("Entry #{id} now also answers: {question}")).format(
            id=call.args["id"], question=call.args["question"]
        )

    async def edit(self, call: CommandCall) -> str:
        """Replace an entry's answer."""
        if refused := self._blank(call, "answer"):
            return refused
        await self._change(call, answer=call.args["answer"])
        return call.tr(N_("Updated the answer of entry #{id}.")).format(id=call.args["id"])

    async def tag(self, call: CommandCall) -> str:
        """Replace an entry's tags."""
        tags = clean_tags(call.args["tags"])
        if len(",".join(tags)) > MAX_TAGS:
            return call.tr(N_("Tags can be at most {limit} characters together.")).format(
                limit=MAX_TAGS
            )
        await self._change(call, tags=tags)
        return call.tr(N_("Entry #{id} is tagged: {tags}")).format(
            id=call.args["id"], tags=", ".join(tags)
        )

    async def enable(self, call: CommandCall) -> str:
        """Let an entry answer again."""
        await self._change(call, enabled=True)
        return call.tr(N_("Entry #{id} answers again.")).format(id=call.args["id"])

    async def disable(self, call: CommandCall) -> str:
        """Keep an entry but stop it answering."""
        await self._change(call, enabled=False)
        return call.tr(
            N_("Entry #{id} no longer answers (enable it again with /faq enable).")
        ).format(id=call.args["id"])

    async def remove(self, call: CommandCall) -> str:
        """Delete an entry."""
        await self.services.writer.flush()  # its queued answers join the history first
        async with self.services.database.session() as session, session.begin():
            removed = await delete_entry(
                session, community_id=call.community.id, entry_id=call.args["id"]
            )
        if not removed:
            raise NotFound(call.tr(N_("There is no FAQ entry #{id}.")).format(id=call.args["id"]))
        self.feature.library.changed(call.community.id)
        return call.tr(N_("Removed FAQ entry #{id}.")).format(id=call.args["id"])

    async def list(self, call: CommandCall) -> str:
        """Entries (optionally with one tag), one line each, `LIST_PAGE` to a page."""
        tag, page = call.args["tag"], call.args["page"] or 1
        if tag is not None and tag.isdigit() and call.args["page"] is None:
            page, tag = int(tag), None  # "/faq list 2": the second page
        async with self.services.database.session() as session:
            entries = await list_entries(
                session, community_id=call.community.id, tag=tag.lower() if tag else None
            )
        tr = call.tr
        if not entries and tag:
            return tr(N_("No FAQ entry is tagged {tag}.")).format(tag=tag)
        if not entries:
            return tr(N_("The FAQ is empty. Add an entry with /faq add <question> | <answer>."))
        pages = -(-len(entries) // LIST_PAGE)
        if page < 1:
            return tr(N_("The page must be 1 or more: /faq list [tag] [page]"))
        if page > pages:
            return tr(
                N_("There is no page {page}: the last page is {pages} (/faq list {tag}{pages}).")
            ).format(page=page, pages=pages, tag=f"{tag} " if tag else "")
        off = tr(N_("(off)"))
        lines = [
            f"#{e.id} {e.questions[0] if e.questions else '-'}"
            + (f" [{', '.join(e.tags)}]" if e.tags else "")
            + ("" if e.enabled else f" {off}")
            for e in entries[(page - 1) * LIST_PAGE : page * LIST_PAGE]
        ]
        if pages > 1:
            more = f"/faq list {tag + ' ' if tag else ''}{page % pages + 1}"
            lines.append(
                tr(N_("Page {page} of {pages} ({count} entries); next: {command}")).format(
                    page=page, pages=pages, count=len(entries), command=more
                )
            )
        return "\n".join(lines)

    async def show(self, call: CommandCall) -> str:
        """One entry in full, with its counters."""
        entry, tr = await self._entry(call), call.tr
        lines = [f"#{entry.id} ({entry.key})" + ("" if entry.enabled else f" {tr(N_('(off)'))}")]
        lines += [f"Q: {question}" for question in entry.questions]
        lines.append(f"A: {entry.answer}")
        if entry.tags:
            lines.append(tr(N_("Tags: {tags}")).format(tags=", ".join(entry.tags)))
        lines.append(
            tr(N_("Answered {times} times · helpful {up} · not helpful {down}")).format(
                times=entry.times_answered, up=entry.helpful, down=entry.not_helpful
            )
        )
        return "\n".join(lines)

    async def ask(self, call: CommandCall) -> str:
        """The best match and its score, even below the threshold, to tune the FAQ."""
        question, tr = call.args["question"], call.tr
        match, ranked = await self.feature.best(call.community.id, question)
        if not ranked:
            return tr(N_("No entry is close to that in words or meaning."))
        shelf = await self.feature.library.shelf(call.community.id)
        best = ranked[0]
        entry = shelf.entries[int(str(best.key))]
        policy = self.feature.policy()
        if match is not None:
            verdict = tr(N_("Would answer."))
        elif policy.only_questions and not is_question(question):
            verdict = tr(N_("Would stay silent: this does not read as a question."))
        elif best.small_talk:
            verdict = tr(
                N_("Would stay silent: this reads as small talk, not a question for the FAQ.")
            )
        else:
            verdict = tr(N_("Would stay silent (threshold {threshold}, margin {margin}).")).format(
                threshold=policy.threshold, margin=policy.margin
            )
        lines = [
            tr(N_("Best: #{id} {question} — score {score}")).format(
                id=entry.id, question=entry.questions[0], score=f"{best.score:.2f}"
            ),
            _signals(best, tr),
        ]
        if len(ranked) > 1:
            second = shelf.entries[int(str(ranked[1].key))]
            lines.append(
                tr(N_("Next: #{id} {question} — score {score}")).format(
                    id=second.id, question=second.questions[0], score=f"{ranked[1].score:.2f}"
                )
            )
        return "\n".join([*lines, verdict])

    async def gaps(self, call: CommandCall) -> str:
        """The most frequent unanswered questions of the last 7 days."""
        since = call.event.sent_at - timedelta(days=GAP_DAYS)
        await self.services.writer.flush()  # the questions still queued are gaps too
        async with self.services.database.session() as session:
            missed = await recent_unanswered(session, community_id=call.community.id, since=since)
        tr = call.tr
        if not missed:
            return tr(N_("No unanswered questions in the last 7 days."))
        lines = [tr(N_("Unanswered questions, last 7 days ({count}):")).format(count=len(missed))]
        hidden = tr(N_("(text not kept)"))
        for count, example in group_questions(missed)[:10]:
            lines.append(f"{count}× {example.text or hidden}")
        return "\n".join(lines)

    async def feedback(self, call: CommandCall) -> str:
        """A member says whether an entry's answer helped."""
        entry = await self._entry(call)
        helpful = call.args["helpful"] == "yes"
        async with self.services.database.session() as session, session.begin():
            counted = await record_vote(
                session,
                entry_id=entry.id,
                member_id=call.member_id,
                helpful=helpful,
                at=call.event.sent_at,
            )
        if not counted:
            return call.tr(N_("You already said that about entry #{id}.")).format(id=entry.id)
        return call.tr(N_("Thanks for the feedback on entry #{id}.")).format(id=entry.id)


def faq_commands(feature: FaqFeature) -> Sequence[Command]:
    """Every /faq command, declared once."""
    h = FaqCommands(feature)
    entry = Param("id", ParamKind.INTEGER, minimum=1)
    text = ParamKind.TEXT

    def sub(
        name: str,
        handler: Handler,
        help_text: str,
        role: Role,
        *params: Param,
        separator: str | None = None,
    ) -> Command:
        return Command(
            name,
            handler,
            help_text,
            role,
            params,
            group="faq",
            separator=separator,
        )

    return (
        sub(
            "add",
            h.add,
            N_("Add an FAQ entry: a question and its answer."),
            Role.MODERATOR,
            Param("question", text),
            Param("answer", text),
            separator="|",
        ),
        sub(
            "alias",
            h.alias,
            N_("Add another way to ask an entry's question."),
            Role.MODERATOR,
            entry,
            Param("question", text),
        ),
        sub(
            "edit",
            h.edit,
            N_("Replace an entry's answer."),
            Role.MODERATOR,
            entry,
            Param("answer", text),
        ),
        sub(
            "tag",
            h.tag,
            N_("Set an entry's tags."),
            Role.MODERATOR,
            entry,
            Param("tags", variadic=True),
        ),
        sub("enable", h.enable, N_("Let an entry answer again."), Role.MODERATOR, entry),
        sub(
            "disable", h.disable, N_("Stop an entry answering (it is kept)."), Role.MODERATOR, entry
        ),
        sub("remove", h.remove, N_("Delete an FAQ entry."), Role.ADMIN, entry),
        sub(
            "list",
            h.list,
            N_("List the FAQ entries, optionally with one tag, 30 to a page."),
            Role.MEMBER,
            Param("tag", required=False),
            Param("page", ParamKind.INTEGER, required=False, minimum=1),
        ),
        sub(
            "show", h.show, N_("Show an entry with its phrasings and counters."), Role.MEMBER, entry
        ),
        sub(
            "ask",
            h.ask,
            N_("Show the best match for a question and its score."),
            Role.MEMBER,
            Param("question", text),
        ),
        sub(
            "gaps",
            h.gaps,
            N_("The most frequent unanswered questions of the last 7 days."),
            Role.MODERATOR,
        ),
        sub(
            "feedback",
            h.feedback,
            N_("Say whether an entry's answer helped."),
            Role.MEMBER,
            entry,
            Param("helpful", choices=("yes", "no")),
        ),
    )
