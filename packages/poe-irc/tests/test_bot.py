"""The Bot facade: command handlers from annotations, replies, errors, events; real ngIRCd.

The bot runs in the kernel; the user is a blocking :class:`ircd.RawClient` in a thread that
creates ``#test``, waits for the bot to join (AutoJoin) and checks the bot's answers. The
argument parser (:class:`CommandSignature`) is also tested without a server.
"""

from __future__ import annotations

import enum
import logging
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from poe.errors import InvalidArgument
from poe.irc.bot import Bot, BotContext, CommandSignature, Mask, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable

    from ircd import NgIRCd, RawClient
    from poe.irc.message import Message
    from poe.kernel import Kernel

T = TypeVar("T")
TIMEOUT = 10.0
CHANNEL = "#test"


def reply(user: RawClient, line: str, target: str = CHANNEL) -> str:
    """Send ``PRIVMSG target :line``; return the text of the bot's next message."""
    (text,) = replies(user, line, 1, target)
    return text


def replies(user: RawClient, line: str, count: int, target: str = CHANNEL) -> list[str]:
    user.send(f"PRIVMSG {target} :{line}")
    return [
        str(user.expect(lambda m: m.command in ("PRIVMSG", "NOTICE") and m.nick == "bot").params[1])
        for _ in range(count)
    ]


@pytest.fixture
def bot(kernel: Kernel, ngircd: NgIRCd) -> Bot:
    """A bot with a few commands, in ``#test`` once started."""
    bot = Bot(
        kernel,
        nick="bot",
        port=ngircd.port,
        channels=[CHANNEL],
        flood=None,
        autostart=False,
    )

    @bot.command("echo", help="echo TEXT: say TEXT back")
    def echo(ctx: BotContext, text: str) -> str:
        return text

    @bot.command("add", help="add A B: the sum of A and B", aliases=["plus"])
    def add(ctx: BotContext, a: int, b: int) -> str:
        return str(a + b)

    @bot.command("boom")
    def boom(ctx: BotContext) -> str:
        return str(1 // 0)

    @bot.command("whoami")
    def whoami(ctx: BotContext) -> list[str]:
        assert ctx.who is not None
        assert ctx.msg is not None
        assert ctx.irc is bot.irc
        assert ctx.kernel is kernel
        return [f"you are {ctx.who.nick} ({ctx.who.userhost})", f"here is {ctx.where}"]

    @bot.command("shout")
    def shout(ctx: BotContext, *words: str) -> None:
        ctx.say(CHANNEL, " ".join(w.upper() for w in words))

    return bot


def test_commands_and_replies(kernel: Kernel, ngircd: NgIRCd, converse: Any, bot: Bot) -> None:
    def script(user: RawClient) -> list[str]:
        return [
            reply(user, "!echo hello   world"),
            reply(user, "bot: add 2 3"),
            reply(user, "!PLUS 40 2"),
            *replies(user, "!whoami", 2),
            reply(user, "!shout a b"),
            reply(user, "!add 1 1", "bot"),  # private: the answer comes in private
        ]

    texts = converse(ngircd, bot.start, bot.shutdown, script)
    assert texts[:3] == ["hello   world", "5", "42"]
    assert texts[3].startswith("you are user (")
    assert texts[4:] == [f"here is {CHANNEL}", "A B", "2"]


def test_usage_errors(kernel: Kernel, ngircd: NgIRCd, converse: Any, bot: Bot) -> None:
    def script(user: RawClient) -> list[str]:
        return [
            reply(user, "!add 2 x"),
            reply(user, "!add 2"),
            reply(user, "!add 1 2 3"),
            reply(user, "!echo"),
            reply(user, "!boom now"),
        ]

    assert converse(ngircd, bot.start, bot.shutdown, script) == [
        "B must be a whole number, not 'x'. Usage: !add A B",
        "missing B. Usage: !add A B",
        "too many arguments. Usage: !add A B",
        "missing TEXT. Usage: !echo TEXT",
        "too many arguments. Usage: !boom",
    ]


def test_a_failing_handler_is_answered_and_the_bot_goes_on(
    kernel: Kernel,
    ngircd: NgIRCd,
    converse: Any,
    bot: Bot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def script(user: RawClient) -> list[str]:
        return [reply(user, "!boom"), reply(user, "!echo still here")]

    with caplog.at_level(logging.ERROR, logger="poe.irc.bot"):
        texts = converse(ngircd, bot.start, bot.shutdown, script)
    assert texts == ["boom: sorry, that failed (ZeroDivisionError)", "still here"]
    assert any("ZeroDivisionError" in (r.exc_text or "") for r in caplog.records)


def test_help_and_unknown_commands(kernel: Kernel, ngircd: NgIRCd, converse: Any, bot: Bot) -> None:
    def script(user: RawClient) -> list[str]:
        return [
            *replies(user, "!help", 2),
            reply(user, "!help echo"),
            *replies(user, "bot: help plus", 3),
            reply(user, "!nope"),
        ]

    assert converse(ngircd, bot.start, bot.shutdown, script) == [
        "Commands: add, boom, echo, shout, whoami",
        "For more details, use: !help <command>",
        "echo TEXT: say TEXT back",
        "Description: add A B: the sum of A and B",
        "Alias of: !add",
        "Aliases: add",
        "Unknown command: nope; try !help",
    ]


def test_events_and_auth(kernel: Kernel, ngircd: NgIRCd, converse: Any) -> None:
    refused: list[str] = []

    def auth(irc: Any, who: str, where: str, command: str, text: str) -> bool:
        if command == "secret":
            refused.append(who.partition("!")[0])
            return False
        return True

    bot = Bot(
        kernel,
        nick="bot",
        port=ngircd.port,
        channels=[CHANNEL],
        flood=None,
        autostart=False,
        auth=auth,
    )
    seen: list[tuple[str, str | None, str | None]] = []

    @bot.on("join")
    def greet(ctx: BotContext, who: str, channel: str, msg: Message) -> str | None:
        seen.append((ctx.event, ctx.who.nick if ctx.who else None, ctx.where))
        if ctx.who is not None and ctx.who.nick != ctx.irc.nick_name():
            return f"hello {ctx.who.nick}"
        return None

    @bot.on("irc_part")
    def broken(ctx: BotContext, *args: Any) -> None:
        raise RuntimeError("a bug in an event handler")

    @bot.command("secret")
    def secret(ctx: BotContext) -> str:
        return "the secret"

    def script(user: RawClient) -> list[str]:
        user.send(f"PART {CHANNEL}")
        user.send(f"JOIN {CHANNEL}")
        greeting = user.expect(lambda m: m.command == "PRIVMSG" and m.nick == "bot").params[1]
        return [greeting, reply(user, "!secret")]

    texts = converse(ngircd, bot.start, bot.shutdown, script)
    assert texts == ["hello user", "You are not authorized to use this command."]
    assert refused == ["user"]
    assert seen == [("irc_join", "bot", CHANNEL), ("irc_join", "user", CHANNEL)]


def test_commands_added_while_running(
    kernel: Kernel, ngircd: NgIRCd, converse: Any, bot: Bot
) -> None:
    @bot.command("teach")
    def teach(ctx: BotContext) -> str:
        @bot.command("late")
        def late(ctx: BotContext) -> str:
            return "made it"

        return "learnt"

    def script(user: RawClient) -> list[str]:
        return [reply(user, "!late"), reply(user, "!teach"), reply(user, "!late")]

    assert converse(ngircd, bot.start, bot.shutdown, script) == [
        "Unknown command: late; try !help",
        "learnt",
        "made it",
    ]


# -- without a server ----------------------------------------------------------------------------


class Colour(enum.Enum):
    RED = 1
    GREEN = 2


def _signature(function: Callable[..., Any]) -> CommandSignature:
    return CommandSignature(function.__name__, function)


def test_signature_converts_words() -> None:
    def add(ctx: BotContext, a: int, b: float, loud: bool, colour: Colour) -> None: ...

    sig = _signature(add)
    assert sig.usage == "add A B LOUD COLOUR"
    assert sig.bind("1 2.5 yes green") == [1, 2.5, True, Colour.GREEN]
    assert sig.bind('"3" 4 off RED') == [3, 4.0, False, Colour.RED]
    with pytest.raises(UsageError, match=r"^A must be a whole number, not 'x'$"):
        sig.bind("x 1 yes red")
    with pytest.raises(UsageError, match="B must be a number"):
        sig.bind("1 y yes red")
    with pytest.raises(UsageError, match="LOUD must be yes or no"):
        sig.bind("1 2 maybe red")
    with pytest.raises(UsageError, match=r"COLOUR must be one of red\|green"):
        sig.bind("1 2 no blue")
    with pytest.raises(UsageError, match="missing COLOUR"):
        sig.bind("1 2 no")


def test_signature_optional_and_rest() -> None:
    def tell(ctx: BotContext, who: str, times: int = 1, *words: str) -> None: ...

    sig = _signature(tell)
    assert sig.usage == "tell WHO [TIMES] [WORDS...]"
    assert sig.bind("bob") == ["bob", 1]
    assert sig.bind("bob 3 a 'b c'") == ["bob", 3, "a", "b c"]

    def count(ctx: BotContext, *numbers: int) -> None: ...

    assert _signature(count).bind("1 2 3") == [1, 2, 3]
    with pytest.raises(UsageError, match="NUMBERS must be a whole number"):
        _signature(count).bind("1 two")


def test_signature_last_str_takes_the_rest_of_the_line() -> None:
    def say(ctx: BotContext, where: str, text: str) -> None: ...

    sig = _signature(say)
    assert sig.bind("#poe hello   there 'friend") == ["#poe", "hello   there 'friend"]
    assert sig.bind('#poe "one word"') == ["#poe", "one word"]
    assert sig.bind('"#a b" c') == ["#a b", "c"]

    def optional(ctx: BotContext, text: str | None = None) -> None: ...

    assert _signature(optional).bind("") == [None]
    assert _signature(optional).bind("a b") == ["a b"]

    def no_args(ctx: BotContext) -> None: ...

    assert _signature(no_args).bind("  ") == []
    with pytest.raises(UsageError, match="too many arguments"):
        _signature(no_args).bind("x")


def test_signature_refuses_what_words_cannot_fill() -> None:
    def keyword(ctx: BotContext, *, key: str) -> None: ...

    def nothing() -> None: ...

    def unknown(ctx: BotContext, thing: dict[str, int]) -> None: ...

    for function in (keyword, nothing, unknown):
        with pytest.raises(InvalidArgument):
            _signature(function)


def test_mask() -> None:
    mask = Mask("nick!user@host.example")
    assert (mask.nick, mask.user, mask.host, mask.userhost) == (
        "nick",
        "user",
        "host.example",
        "user@host.example",
    )
    assert mask == "nick!user@host.example"
    assert Mask("irc.server").nick == "irc.server"
    assert Mask("irc.server").host == ""


def test_bot_refuses_bad_commands(kernel: Kernel) -> None:
    bot = Bot(kernel, nick="bot", flood=None, autostart=False)

    @bot.command("x")
    def x(ctx: BotContext) -> None: ...

    with pytest.raises(InvalidArgument):
        bot.command("x")(x)
    with pytest.raises(InvalidArgument):
        bot.command("two words")
    with pytest.raises(InvalidArgument):
        Bot(kernel, nick="bot2", method="shout")
    bot.shutdown()
    kernel.run()
