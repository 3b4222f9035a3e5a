"""BotCommand against a real ngIRCd: a component with the plugin in the kernel, a user in a thread.

The user is a blocking :class:`ircd.RawClient` running a script in a thread: it registers,
creates ``#test``, lets the bot connect and waits for the bot's JOIN, then says things and
checks the answers. The bot's session answers every ``irc_botcmd_*`` event with a PRIVMSG that
shows the event's arguments, so the user sees what the plugin sent. Lines that must get no
answer are followed by one that must: the next answer the user sees is that one's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from poe.errors import InvalidArgument
from poe.irc import IRC
from poe.irc.plugins.botcommand import BotCommand, CommandSpec, split_words
from poe.session import Context, Session

if TYPE_CHECKING:
    from collections.abc import Callable

    from ircd import NgIRCd, RawClient

    Converse = Callable[..., Any]
    from poe.irc.message import Message
    from poe.kernel import Kernel

T = TypeVar("T")
TIMEOUT = 10.0
CHANNEL = "#test"


class EchoBot:
    """A component with ``plugin``, joining ``#test``, echoing every botcmd event it gets."""

    def __init__(self, kernel: Kernel, server: NgIRCd, plugin: BotCommand) -> None:
        self.irc = IRC(kernel, nick="bot", port=server.port, flood=None)
        self.irc.plugin_add("BotCommand", plugin)
        self.events: list[tuple[str, str, str, Any]] = []
        Session.create(
            kernel,
            inline_states={
                "_start": self._start,
                "_default": self._default,
            },
        )

    def _start(self, ctx: Context) -> None:
        ctx.kernel.post(self.irc.session_id, "register", "001", "msg", "all")

    def _default(self, ctx: Context, event: str, args: tuple[Any, ...]) -> None:
        if event == "irc_001":
            self.irc.yield_("join", CHANNEL)
        elif event == "irc_msg" and args[2] == "sync":
            self.irc.yield_("privmsg", args[0].partition("!")[0], "synced")
        elif event.startswith("irc_botcmd_"):
            who, where, arguments, msg = args
            assert msg.command == "PRIVMSG"
            name = event[len("irc_botcmd_") :]
            self.events.append((name, who, where, arguments))
            self.irc.yield_("privmsg", where, f"{name}={arguments!r}")

    def start(self) -> None:
        self.irc.yield_("connect")

    def stop(self) -> None:
        self.irc.yield_("shutdown")


def said(user: RawClient, line: str, target: str = CHANNEL) -> Message:
    """Send ``PRIVMSG target :line`` and return the bot's next PRIVMSG or NOTICE."""
    user.send(f"PRIVMSG {target} :{line}")
    return user.expect(lambda m: m.command in ("PRIVMSG", "NOTICE") and m.nick == "bot")


def answers(user: RawClient, line: str, count: int, target: str = CHANNEL) -> list[str]:
    """Send a line and return the texts of the bot's next ``count`` messages."""
    user.send(f"PRIVMSG {target} :{line}")
    return [
        user.expect(lambda m: m.command in ("PRIVMSG", "NOTICE") and m.nick == "bot").params[1]
        for _ in range(count)
    ]


def talk(
    converse: Converse,
    kernel: Kernel,
    server: NgIRCd,
    plugin: BotCommand,
    script: Callable[[RawClient], T],
) -> tuple[T, EchoBot]:
    bot = EchoBot(kernel, server, plugin)
    return converse(server, bot.start, bot.stop, script), bot


COMMANDS: dict[str, CommandSpec] = {
    "echo": "echo TEXT: says TEXT back",
    "slap": {
        "info": "Slap someone\nwith a trout",
        "args": ["nick", "fish"],
        "nick": "who to slap",
        "fish": ["the fish", "trout", "cod"],
        "aliases": ["hit", "smack"],
        "variable": True,
    },
}


# -- in channels ---------------------------------------------------------------------------------


def test_addressed_commands_in_a_channel(
    kernel: Kernel, ngircd: NgIRCd, converse: Converse
) -> None:
    def script(user: RawClient) -> list[str]:
        texts = [said(user, "bot: echo hello  world").params[1]]
        texts.append(said(user, "BOT, Echo x").params[1])  # case-insensitive nick and command
        texts.append(said(user, "  \x02bot\x02:echo bold").params[1])  # formatting stripped
        texts.append(said(user, "bot echo spaced").params[1])
        # Not for the bot: another nick, a prefix (addressed mode), plain talk.
        for line in ("botty: echo no", "!echo no", "echo no", "bot:"):
            user.send(f"PRIVMSG {CHANNEL} :{line}")
        texts.append(said(user, "bot; echo last").params[1])
        return texts

    texts, bot = talk(converse, kernel, ngircd, BotCommand(COMMANDS), script)
    assert texts == [
        "echo='hello  world'",
        "echo='x'",
        "echo='bold'",
        "echo='spaced'",
        "echo='last'",
    ]
    assert [(w.partition("!")[0], where) for _, w, where, _ in bot.events] == [
        ("user", CHANNEL)
    ] * 5


def test_prefixed_commands_in_a_channel(kernel: Kernel, ngircd: NgIRCd, converse: Converse) -> None:
    def script(user: RawClient) -> list[str]:
        texts = [said(user, "!echo hi").params[1]]
        user.send(f"PRIVMSG {CHANNEL} :bot: echo not addressed")  # addressed=False: ignored
        user.send(f"PRIVMSG {CHANNEL} :!")  # a prefix alone is no command
        texts.append(said(user, "!echo").params[1])  # no arguments: ""
        return texts

    texts, _ = talk(converse, kernel, ngircd, BotCommand(COMMANDS, addressed=False), script)
    assert texts == ["echo='hi'", "echo=''"]


def test_both_forms_with_prefix_in_channels(
    kernel: Kernel, ngircd: NgIRCd, converse: Converse
) -> None:
    def script(user: RawClient) -> list[str]:
        return [said(user, "!echo a").params[1], said(user, "bot: echo b").params[1]]

    plugin = BotCommand(COMMANDS, prefix_in_channels=True, method="privmsg")
    texts, _ = talk(converse, kernel, ngircd, plugin, script)
    assert texts == ["echo='a'", "echo='b'"]


# -- in private ----------------------------------------------------------------------------------


def test_private_commands_need_the_prefix(
    kernel: Kernel, ngircd: NgIRCd, converse: Converse
) -> None:
    def script(user: RawClient) -> list[Message]:
        user.send("PRIVMSG bot :echo bare")  # no prefix, no bare_private: ignored
        return [said(user, "!echo private", "bot")]

    (reply,), bot = talk(converse, kernel, ngircd, BotCommand(COMMANDS), script)
    assert reply.params == ("user", "echo='private'")
    assert bot.events[0][2] == "user"  # where: the sender's nick


def test_bare_private_commands(kernel: Kernel, ngircd: NgIRCd, converse: Converse) -> None:
    def script(user: RawClient) -> list[str]:
        return [said(user, "echo bare", "bot").params[1], said(user, "!echo too", "bot").params[1]]

    texts, _ = talk(converse, kernel, ngircd, BotCommand(COMMANDS, bare_private=True), script)
    assert texts == ["echo='bare'", "echo='too'"]


def test_channels_and_private_can_be_turned_off(
    kernel: Kernel, ngircd: NgIRCd, converse: Converse
) -> None:
    def script(user: RawClient) -> str:
        user.send("PRIVMSG bot :!echo private")  # in_private=False: ignored
        user.send("PRIVMSG bot :sync")
        return user.expect(lambda m: m.nick == "bot" and m.command == "PRIVMSG").params[1]

    text, bot = talk(converse, kernel, ngircd, BotCommand(COMMANDS, in_private=False), script)
    assert text == "synced"
    assert bot.events == []


# -- help and unknown commands -------------------------------------------------------------------


def test_help(kernel: Kernel, ngircd: NgIRCd, converse: Converse) -> None:
    def script(user: RawClient) -> list[list[str]]:
        return [
            answers(user, "bot: help", 2),
            answers(user, "bot: help echo", 1),
            answers(user, "bot: help slap", 7),
            answers(user, "bot: help hit", 8)[-2:],
            answers(user, "!help nope", 2, "bot"),
        ]

    replies, _ = talk(converse, kernel, ngircd, BotCommand(COMMANDS), script)
    assert replies == [
        ["Commands: echo, slap", "For more details, use: bot: help <command>"],
        ["echo TEXT: says TEXT back"],
        [
            "Syntax: bot: slap nick fish ...",
            "Description: Slap someone",
            "with a trout",
            "Arguments:",
            "    nick: who to slap",
            "    fish: the fish (trout|cod)",
            "Aliases: hit smack",
        ],
        ["Alias of: bot: slap", "Aliases: slap smack"],
        ["Unknown command: nope", "To get a list of commands, use: !help"],
    ]


def test_help_is_sent_as_notices(kernel: Kernel, ngircd: NgIRCd, converse: Converse) -> None:
    def script(user: RawClient) -> Message:
        return said(user, "bot: help")

    (reply, _) = talk(converse, kernel, ngircd, BotCommand(COMMANDS), script)
    assert reply.command == "NOTICE"
    assert reply.params[0] == CHANNEL


def test_unknown_commands(kernel: Kernel, ngircd: NgIRCd, converse: Converse) -> None:
    def script(user: RawClient) -> list[str]:
        return [said(user, "bot: frobnicate now").params[1], said(user, "!Frob", "bot").params[1]]

    texts, bot = talk(converse, kernel, ngircd, BotCommand(COMMANDS), script)
    assert texts == [
        "Unknown command: frobnicate; try bot: help",
        "Unknown command: frob; try !help",
    ]
    assert bot.events == []


def test_unknown_commands_can_be_ignored(
    kernel: Kernel, ngircd: NgIRCd, converse: Converse
) -> None:
    def script(user: RawClient) -> str:
        user.send(f"PRIVMSG {CHANNEL} :bot: frobnicate")
        return said(user, "bot: echo next").params[1]

    text, _ = talk(converse, kernel, ngircd, BotCommand(COMMANDS, ignore_unknown=True), script)
    assert text == "echo='next'"


# -- authorization -------------------------------------------------------------------------------


def test_auth_refusal(kernel: Kernel, ngircd: NgIRCd, converse: Converse) -> None:
    calls: list[tuple[str, str, str, str]] = []

    def auth(
        irc: IRC, who: str, where: str, command: str, text: str
    ) -> bool | tuple[bool, list[str]]:
        calls.append((who.partition("!")[0], where, command, text))
        if command == "slap":
            return False, ["No slapping.", "Really."]
        return command != "echo" or text != "secret"

    def script(user: RawClient) -> list[str]:
        return [
            *answers(user, "bot: hit someone trout", 2),  # an alias: auth sees "slap"
            said(user, "bot: echo secret").params[1],
            said(user, "bot: echo public").params[1],
        ]

    texts, bot = talk(converse, kernel, ngircd, BotCommand(COMMANDS, auth=auth), script)
    assert texts == [
        "No slapping.",
        "Really.",
        "You are not authorized to use this command.",
        "echo='public'",
    ]
    assert calls == [
        ("user", CHANNEL, "slap", "someone trout"),
        ("user", CHANNEL, "echo", "secret"),
        ("user", CHANNEL, "echo", "public"),
    ]
    assert [name for name, *_ in bot.events] == ["echo"]


def test_unauthorized_can_be_ignored(kernel: Kernel, ngircd: NgIRCd, converse: Converse) -> None:
    def script(user: RawClient) -> str:
        user.send(f"PRIVMSG {CHANNEL} :bot: slap x trout")
        return said(user, "bot: echo ok").params[1]

    plugin = BotCommand(
        COMMANDS, auth=lambda irc, who, where, cmd, text: cmd != "slap", ignore_unauthorized=True
    )
    text, _ = talk(converse, kernel, ngircd, plugin, script)
    assert text == "echo='ok'"


# -- arguments -----------------------------------------------------------------------------------


def test_declared_arguments(kernel: Kernel, ngircd: NgIRCd, converse: Converse) -> None:
    def script(user: RawClient) -> list[str]:
        return [
            said(user, "bot: slap alice trout").params[1],
            said(user, "bot: smack bob cod extra words").params[1],
            said(user, "bot: slap carol").params[1],
            said(user, "bot: slap carol salmon").params[1],
        ]

    texts, bot = talk(converse, kernel, ngircd, BotCommand(COMMANDS), script)
    assert texts == [
        "slap={'nick': 'alice', 'fish': 'trout'}",
        "slap={'nick': 'bob', 'fish': 'cod', 'opt0': 'extra', 'opt1': 'words'}",
        "Not enough or too many arguments. See help for slap",
        "fish can be one of trout|cod",
    ]
    assert len(bot.events) == 2


def test_parse_args_gives_words(kernel: Kernel, ngircd: NgIRCd, converse: Converse) -> None:
    def script(user: RawClient) -> str:
        return said(user, "bot: echo \"two words\" it's 'quoted one'").params[1]

    text, _ = talk(converse, kernel, ngircd, BotCommand(COMMANDS, parse_args=True), script)
    assert text == "echo=['two words', \"it's\", 'quoted one']"


def test_commands_added_and_removed_later(
    kernel: Kernel, ngircd: NgIRCd, converse: Converse
) -> None:
    plugin = BotCommand()

    def script(user: RawClient) -> list[str]:
        first = said(user, "bot: help").params[1]
        assert plugin.add("Ping", "ping: pong")
        second = said(user, "bot: ping").params[1]
        assert plugin.remove("ping")
        third = said(user, "bot: ping").params[1]
        return [first, second, third]

    texts, _ = talk(converse, kernel, ngircd, plugin, script)
    assert texts == ["No commands are defined", "ping=''", "Unknown command: ping; try bot: help"]


# -- without a server ----------------------------------------------------------------------------


def test_command_table() -> None:
    plugin = BotCommand({"Echo": "echo"})
    assert plugin.list() == {"echo": "echo"}
    assert not plugin.add("echo", "again")
    assert not plugin.add("bad", {"args": []})  # no info
    assert plugin.add("slap", {"info": "slap", "aliases": ["hit"]})
    assert plugin.resolve_alias("HIT") == "slap"
    assert plugin.resolve_alias("echo") is None
    assert not plugin.remove("nope")
    with pytest.raises(InvalidArgument):
        BotCommand({"x": {"args": ["a"]}})
    with pytest.raises(InvalidArgument):
        BotCommand({"two words": "x"})
    with pytest.raises(InvalidArgument):
        BotCommand(method="say")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", []),
        ("  a  b ", [("a", 3), ("b", 6)]),
        ('"a b" c', [("a b", 5), ("c", 7)]),
        ("'x y'", [("x y", 5)]),
        ("it's fine", [("it's", 4), ("fine", 9)]),
        ('"unclosed rest', [('"unclosed', 9), ("rest", 14)]),
        ('"a"b c', [('"a"b', 4), ("c", 6)]),
        ('""', [("", 2)]),
        ("tab\tsep", [("tab", 3), ("sep", 7)]),
    ],
)
def test_split_words(text: str, words: list[tuple[str, int]]) -> None:
    assert split_words(text) == words
