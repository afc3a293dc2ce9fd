"""Argument parsing and the registry: usage on bad input, never a crash."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.commands import Command, CommandCall, CommandRegistry, Param, ParamKind, parse_arguments
from bot.errors import InvalidArguments
from bot.events import Action, Role
from bot.i18n import translator

EN = translator("en")
ZH = translator("zh_Hans")


async def _noop(call: CommandCall) -> str | Sequence[Action]:
    return ""


GIVE = Command(
    name="give",
    group="points",
    handler=_noop,
    help="Give points.",
    role=Role.ADMIN,
    params=(
        Param("member", ParamKind.MEMBER),
        Param("amount", ParamKind.INTEGER, minimum=1, maximum=1000),
        Param("reason", ParamKind.TEXT, required=False),
    ),
)
FAQ_ADD = Command(
    name="add",
    group="faq",
    handler=_noop,
    help="Add an FAQ entry.",
    separator="|",
    params=(Param("question", ParamKind.TEXT), Param("answer", ParamKind.TEXT)),
)
POLL = Command(
    name="poll",
    handler=_noop,
    help="Post a poll.",
    separator="|",
    params=(Param("question"), Param("options", variadic=True)),
)


def test_usage_lines() -> None:
    assert GIVE.usage() == "/points give <member> <amount> [reason]"
    assert FAQ_ADD.usage() == "/faq add <question> | <answer>"
    assert POLL.usage() == "/poll <question> | <options…>"


def test_typed_arguments_and_rest_of_line() -> None:
    args = parse_arguments(GIVE, "<@123> 50 for  helping   everyone", EN)
    assert args == {"member": "123", "amount": 50, "reason": "for  helping   everyone"}
    assert parse_arguments(GIVE, "@alice ５", EN)["amount"] == 5  # full-width digits
    assert parse_arguments(GIVE, "@alice 5", EN)["reason"] is None


def test_quotes_group_words() -> None:
    command = Command(name="x", handler=_noop, help="x", params=(Param("a"), Param("b")))
    assert parse_arguments(command, '"two words" “中文 引号”', EN) == {
        "a": "two words",
        "b": "中文 引号",
    }


def test_separator_and_variadic() -> None:
    assert parse_arguments(FAQ_ADD, "How do I join? | Click *Join* | then wait", EN) == {
        "question": "How do I join?",
        "answer": "Click *Join* | then wait",
    }
    assert parse_arguments(POLL, "Lunch? | noodles | rice |  dumplings ", EN) == {
        "question": "Lunch?",
        "options": ("noodles", "rice", "dumplings"),
    }


@pytest.mark.parametrize(
    ("command", "raw", "problem"),
    [
        (GIVE, "", "missing member"),
        (GIVE, "@alice", "missing amount"),
        (GIVE, "@alice lots", "amount must be a whole number"),
        (GIVE, "@alice 0", "amount must be at least 1"),
        (GIVE, "@alice 1001", "amount must be at most 1000"),
        (FAQ_ADD, "only a question", "missing answer"),
        (POLL, "Lunch?", "missing options"),
    ],
)
def test_bad_arguments_explain_and_show_usage(command: Command, raw: str, problem: str) -> None:
    with pytest.raises(InvalidArguments) as caught:
        parse_arguments(command, raw, EN)
    lines = str(caught.value).splitlines()
    assert lines[0] == problem
    assert lines[1] == f"Usage: {command.usage()}"


def test_too_many_arguments_and_choices() -> None:
    command = Command(
        name="mode", handler=_noop, help="m", params=(Param("mode", choices=("on", "off")),)
    )
    assert parse_arguments(command, "ON", EN) == {"mode": "on"}
    with pytest.raises(InvalidArguments, match="mode must be one of: on, off"):
        parse_arguments(command, "maybe", EN)
    with pytest.raises(InvalidArguments, match="too many arguments"):
        parse_arguments(command, "on off", EN)


def test_errors_are_translated() -> None:
    with pytest.raises(InvalidArguments) as caught:
        parse_arguments(GIVE, "@alice", ZH)
    assert str(caught.value).splitlines()[:2] == [
        "缺少 数量",
        "用法：/points give <成员> <数量> [原因]",
    ]


def test_chinese_choice_words_stand_for_the_choices() -> None:
    feedback = Command(
        name="feedback",
        handler=_noop,
        help="",
        params=(Param("helpful", choices=("yes", "no")),),
    )
    forget = Command(
        name="forgetme", handler=_noop, help="", params=(Param("confirm", choices=("confirm",)),)
    )
    assert parse_arguments(feedback, "是", ZH) == {"helpful": "yes"}
    assert parse_arguments(feedback, "否", ZH) == {"helpful": "no"}
    assert parse_arguments(forget, "是", ZH) == {"confirm": "confirm"}
    assert parse_arguments(forget, "ＣＯＮＦＩＲＭ", ZH) == {"confirm": "confirm"}
    with pytest.raises(InvalidArguments, match="确认 必须是以下之一：confirm"):
        parse_arguments(forget, "否", ZH)


@given(st.text(max_size=200))
def test_parsing_never_fails_unexpectedly(raw: str) -> None:
    for command in (GIVE, FAQ_ADD, POLL):
        outcome: object
        try:
            outcome = parse_arguments(command, raw, EN)
        except InvalidArguments as error:
            outcome = str(error)
        if isinstance(outcome, str):
            assert f"Usage: {command.usage()}" in outcome
        else:
            assert isinstance(outcome, dict)
            assert set(outcome) == {param.name for param in command.params}


def test_registry_resolves_groups_and_rejects_duplicates() -> None:
    registry = CommandRegistry([GIVE, FAQ_ADD, POLL])
    assert registry.resolve("points", "give @a 5") == (GIVE, "@a 5")
    assert registry.resolve("FAQ", "ADD q | a") == (FAQ_ADD, "q | a")
    assert registry.resolve("points", "take @a 5") is None
    assert registry.groups() == {"points", "faq"}
    assert [c.path for c in registry.visible_to(Role.MEMBER)] == ["faq add", "poll"]
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(POLL)


def test_only_the_last_parameter_may_take_the_rest() -> None:
    with pytest.raises(ValueError, match="only the last parameter"):
        Command(
            name="bad",
            handler=_noop,
            help="b",
            params=(Param("text", ParamKind.TEXT), Param("after")),
        )


def test_the_full_width_bar_separates_too() -> None:
    args = parse_arguments(FAQ_ADD, "怎么加入？｜在官网注册 | 然后登录", ZH)
    assert args == {"question": "怎么加入？", "answer": "在官网注册 | 然后登录"}
    assert parse_arguments(POLL, "午饭？｜面｜饭 | 粥", ZH)["options"] == ("面", "饭", "粥")


UNDO = Command(
    name="undo", handler=_noop, help="Undo.", params=(Param("id", ParamKind.INTEGER, minimum=1),)
)


def test_a_number_too_big_for_the_database_gets_usage() -> None:
    assert parse_arguments(UNDO, "2147483647", EN) == {"id": 2147483647}
    with pytest.raises(InvalidArguments) as error:
        parse_arguments(UNDO, "99999999999999999999999", EN)
    assert "id must be at most 2147483647" in str(error.value)
    assert "Usage: /undo <id>" in str(error.value)
    with pytest.raises(InvalidArguments) as error:
        parse_arguments(GIVE, "<@1> 5000", EN)
    assert "amount must be at most 1000" in str(error.value)
