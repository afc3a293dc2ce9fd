"""Events with text no database refuses: NUL characters and lone surrogates cleaned from
whatever any adapter delivered, before a feature sees it."""

from __future__ import annotations

from dataclasses import replace

from bot.events import (
    Author,
    CommandInvoked,
    Event,
    MemberJoined,
    MemberLeft,
    Message,
    Place,
)
from storage.text import clean_text, needs_cleaning

__all__ = ["cleaned"]


def _clean_author(author: Author) -> Author:
    return replace(author, name=clean_text(author.name)) if needs_cleaning(author.name) else author


def _clean_place(place: Place) -> Place:
    name = place.group_name
    return replace(place, group_name=clean_text(name)) if name and needs_cleaning(name) else place


def _texts(event: Event) -> tuple[str | None, ...]:
    if isinstance(event, MemberJoined | MemberLeft):
        return (event.member.name,)
    if isinstance(event, Message):
        return event.text, event.author.name, event.place.group_name
    if isinstance(event, CommandInvoked):
        return event.args, event.invoker.name, event.place.group_name
    return event.emoji, event.reactor.name, event.place.group_name


def cleaned(event: Event) -> Event:
    """`event` with text no database refuses (no NUL, no lone surrogate), from any adapter:
    what members wrote, their names, the group's title and a reaction's emoji."""
    if not any(text and needs_cleaning(text) for text in _texts(event)):
        return event
    if isinstance(event, MemberJoined | MemberLeft):
        return replace(event, member=_clean_author(event.member))
    place = _clean_place(event.place)
    if isinstance(event, Message):
        author = _clean_author(event.author)
        return replace(event, place=place, text=clean_text(event.text), author=author)
    if isinstance(event, CommandInvoked):
        invoker = _clean_author(event.invoker)
        return replace(event, place=place, args=clean_text(event.args), invoker=invoker)
    return replace(
        event, place=place, emoji=clean_text(event.emoji), reactor=_clean_author(event.reactor)
    )
