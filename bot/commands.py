"""The command registry: every command declared once, parsed and permission-checked here.

Adapters render the registry natively (Discord slash commands, Telegram `setMyCommands`,
console `/cmd`); the engine re-checks the invoker's role on every call.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from bot.errors import InvalidArguments
from bot.events import Action, CommandInvoked, Role
from bot.i18n import N_, Translator
from storage.identity import CommunityInfo

__all__ = [
    "Command",
    "CommandCall",
    "CommandRegistry",
    "Handler",
    "Param",
    "ParamKind",
    "parse_arguments",
]


class ParamKind(Enum):
    """How a parameter's text is read (and how adapters render its type)."""

    WORD = "word"
    TEXT = "text"
    INTEGER = "integer"
    MEMBER = "member"
    CHANNEL = "channel"
    ROLE = "role"


@dataclass(frozen=True, slots=True)
class Param:
    """One command parameter. A `TEXT` parameter takes the rest of the line."""

    name: str
    kind: ParamKind = ParamKind.WORD
    help: str = ""
    required: bool = True
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    variadic: bool = False


@dataclass(frozen=True, slots=True)
class CommandCall:
    """What a command handler receives."""

    event: CommandInvoked
    community: CommunityInfo
    member_id: int
    role: Role
    args: Mapping[str, Any]
    tr: Translator


Handler = Callable[[CommandCall], Awaitable[str | Sequence[Action]]]


@dataclass(frozen=True, slots=True)
class Command:
    """A command: `/name` or, with a `group`, `/group name` (e.g. `/faq add`)."""

    name: str
    handler: Handler
    help: str
    role: Role = Role.MEMBER
    params: tuple[Param, ...] = ()
    group: str | None = None
    separator: str | None = None
    feature: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        for index, param in enumerate(self.params):
            last = index == len(self.params) - 1
            takes_rest = param.variadic or (param.kind is ParamKind.TEXT and not self.separator)
            if takes_rest and not last:
                raise ValueError(f"/{self.path}: only the last parameter may take the rest")

    @property
    def path(self) -> str:
        """The command as typed, without the slash: ``faq add`` or ``help``."""
        return f"{self.group} {self.name}" if self.group else self.name

    def usage(self, tr: Translator | None = None) -> str:
        """One line of usage: ``/faq add <question> | <answer>`` (with `tr`, parameter
        names in the community's language: ``/faq add <问题> | <答案>``)."""
        parts = []
        for param in self.params:
            named = tr(param.name) if tr else param.name
            label = "|".join(param.choices) if param.choices else named
            label = f"{label}…" if param.variadic else label
            parts.append(f"<{label}>" if param.required else f"[{label}]")
        joiner = f" {self.separator} " if self.separator else " "
        tail = joiner.join(parts)
        return f"/{self.path} {tail}".rstrip()


class CommandRegistry:
    """All commands, by path; knows which ones a role may see."""

    def __init__(self, commands: Iterable[Command] = ()) -> None:
        self._commands: dict[str, Command] = {}
        for command in commands:
            self.register(command)

    def register(self, command: Command) -> None:
        """Add a command; two commands with one path is a programming error."""
        if command.path in self._commands:
            raise ValueError(f"/{command.path} is registered twice")
        if command.name in self._commands and command.group is None:
            raise ValueError(f"/{command.name} clashes with a command group")
        self._commands[command.path] = command

    def __iter__(self) -> Any:
        return iter(self._commands.values())

    def __len__(self) -> int:
        return len(self._commands)

    def groups(self) -> set[str]:
        """Names of command groups (`faq` for `/faq add`)."""
        return {command.group for command in self._commands.values() if command.group}

    def resolve(self, name: str, args: str) -> tuple[Command, str] | None:
        """Find the command for `/name args`; for a group, the first word of `args` picks it.

        A name can be both a command and a group (`/levels` and `/levels role`): a matching
        subcommand wins. Returns the command and the arguments left for it, or None.
        """
        name = name.lower()
        sub, _, rest = args.strip().partition(" ")
        command = self._commands.get(f"{name} {sub.lower()}")
        if command is not None:
            return command, rest.strip()
        command = self._commands.get(name)
        return (command, args) if command else None

    def in_group(self, group: str) -> list[Command]:
        """Every subcommand of `group`."""
        return [command for command in self._commands.values() if command.group == group]

    def visible_to(self, role: Role) -> list[Command]:
        """Commands `role` may run, sorted by path."""
        allowed = (command for command in self._commands.values() if command.role <= role)
        return sorted(allowed, key=lambda command: command.path)


#: The largest whole number a parameter takes unless it says otherwise: ids and counts fit
#: the databases' INTEGER columns (a bigger one used to fail inside the query).
MAX_INTEGER = 2**31 - 1
#: Parameter names as members read them in usage and errors (tests/test_i18n.py checks
#: that every registered parameter is here).
PARAM_NAMES = (
    N_("action"),
    N_("amount"),
    N_("answer"),
    N_("command"),
    N_("confirm"),
    N_("count"),
    N_("digest"),
    N_("helpful"),
    N_("id"),
    N_("image"),
    N_("items"),
    N_("language"),
    N_("level"),
    N_("member"),
    N_("options"),
    N_("page"),
    N_("period"),
    N_("phrase"),
    N_("promo"),
    N_("question"),
    N_("reason"),
    N_("role"),
    N_("state"),
    N_("tag"),
    N_("tags"),
    N_("text"),
    N_("timezone"),
    N_("when"),
)
#: Words members type for a choice, in Chinese or in other English: each stands for the first
#: of its choices that a parameter offers (是 is "yes" for /faq feedback, "confirm" for
#: /forgetme).
CHOICE_ALIASES: Mapping[str, tuple[str, ...]] = {
    "是": ("yes", "confirm", "on"),
    "是的": ("yes", "confirm"),
    "对": ("yes",),
    "有用": ("yes",),
    "确认": ("confirm", "yes"),
    "确定": ("confirm", "yes"),
    "否": ("no", "off"),
    "不": ("no",),
    "没用": ("no",),
    "开": ("on",),
    "开启": ("on",),
    "打开": ("on",),
    "关": ("off",),
    "关闭": ("off",),
    "日": ("day", "daily"),
    "天": ("day", "daily"),
    "每天": ("daily", "day"),
    "每日": ("daily", "day"),
    "周": ("week", "weekly"),
    "星期": ("week", "weekly"),
    "每周": ("weekly", "week"),
    "本周": ("week",),
    "月": ("month",),
    "本月": ("month",),
    "全部": ("all",),
    "总": ("all",),
    "总榜": ("all",),
    "添加": ("add",),
    "删除": ("remove",),
    "移除": ("remove",),
    "列表": ("list",),
    "y": ("yes",),
    "n": ("no",),
}
#: Full-width forms of separators, as Chinese and Japanese keyboards type them.
_WIDE = {"|": ("｜",)}
_QUOTES = {'"': '"', "'": "'", "“": "”", "「": "」", "‘": "’"}
_TOKEN = re.compile(r"\S+")
_MENTION = re.compile(r"^<@!?(\d+)>$")
_CHANNEL = re.compile(r"^<#(\d+)>$")
_ROLE_MENTION = re.compile(r"^<@&(\d+)>$")


def _tokens(raw: str) -> list[tuple[str, int]]:
    """Split on whitespace, honouring quotes; returns (token, end offset) pairs."""
    tokens: list[tuple[str, int]] = []
    position = 0
    while True:
        match = _TOKEN.search(raw, position)
        if match is None:
            return tokens
        start = match.start()
        closing = _QUOTES.get(raw[start])
        end = raw.find(closing, start + 1) if closing else -1
        if closing and end != -1:
            tokens.append((raw[start + 1 : end], end + 1))
            position = end + 1
        else:
            tokens.append((match.group(), match.end()))
            position = match.end()


def _convert(param: Param, value: str, tr: Translator) -> Any:
    value = value.strip()
    if param.kind is ParamKind.INTEGER:
        try:
            number = int(unicodedata.normalize("NFKC", value))
        except ValueError:
            raise _problem(tr(N_("{name} must be a whole number")), param, tr) from None
        if param.minimum is not None and number < param.minimum:
            raise _problem(tr(N_("{name} must be at least {minimum}")), param, tr)
        maximum = MAX_INTEGER if param.maximum is None else param.maximum
        if number > maximum:
            bounded = dataclasses.replace(param, maximum=maximum)
            raise _problem(tr(N_("{name} must be at most {maximum}")), bounded, tr)
        return number
    if param.kind is ParamKind.MEMBER:
        mention = _MENTION.match(value)
        return mention.group(1) if mention else value.removeprefix("@")
    if param.kind is ParamKind.CHANNEL:
        mention = _CHANNEL.match(value)
        return mention.group(1) if mention else value.removeprefix("#")
    if param.kind is ParamKind.ROLE:
        mention = _ROLE_MENTION.match(value)
        return mention.group(1) if mention else value.removeprefix("@")
    if param.choices:
        folded = unicodedata.normalize("NFKC", value).casefold()
        for choice in param.choices:
            if choice.casefold() == folded:
                return choice
        for choice in CHOICE_ALIASES.get(folded, ()):
            if choice in param.choices:
                return choice
        raise _problem(tr(N_("{name} must be one of: {choices}")), param, tr)
    return value


class _Problem(Exception):
    pass


def _problem(template: str, param: Param, tr: Translator) -> _Problem:
    return _Problem(
        template.format(
            name=tr(param.name),
            minimum=param.minimum,
            maximum=param.maximum,
            choices=", ".join(param.choices),
        )
    )


def _split(command: Command, raw: str) -> list[str]:
    """Cut `raw` into one string per parameter (the last may hold the rest)."""
    params = command.params
    if command.separator:
        if not raw.strip():
            return []
        limit = 0 if params and params[-1].variadic else max(len(params) - 1, 0)
        marks = (command.separator, *_WIDE.get(command.separator, ()))
        pattern = "|".join(map(re.escape, marks))
        return [part.strip() for part in re.split(pattern, raw, maxsplit=limit)]
    values: list[str] = []
    tokens = _tokens(raw)
    consumed = 0
    for index, param in enumerate(params):
        if index >= len(tokens):
            break
        if param.kind is ParamKind.TEXT:
            start = tokens[index - 1][1] if index else 0
            values.append(raw[start:].strip())
            consumed = len(tokens)
            break
        if param.variadic:
            values.extend(token for token, _ in tokens[index:])
            consumed = len(tokens)
            break
        values.append(tokens[index][0])
        consumed = index + 1
    if consumed < len(tokens):
        raise _Problem("")  # too many; the caller words it
    return values


def parse_arguments(command: Command, raw: str, tr: Translator) -> dict[str, Any]:
    """Parse the text after the command into typed values by parameter name.

    Raises:
        InvalidArguments: a value is missing, extra, or of the wrong type; the message says
            which and shows the command's usage.
    """
    try:
        try:
            parts = _split(command, raw)
        except _Problem:
            raise _Problem(tr(N_("too many arguments"))) from None
        values: dict[str, Any] = {}
        for index, param in enumerate(command.params):
            if param.variadic:
                rest = [_convert(param, part, tr) for part in parts[index:] if part.strip()]
                if param.required and not rest:
                    raise _problem(tr(N_("missing {name}")), param, tr)
                values[param.name] = tuple(rest)
                continue
            if index >= len(parts) or not parts[index].strip():
                if param.required:
                    raise _problem(tr(N_("missing {name}")), param, tr)
                values[param.name] = None
                continue
            values[param.name] = _convert(param, parts[index], tr)
        return values
    except _Problem as problem:
        usage = tr(N_("Usage: {usage}")).format(usage=command.usage(tr))
        raise InvalidArguments(f"{problem}\n{usage}\n{tr(command.help)}") from None
