"""Bot: a callback facade for IRC bots, built on the IRC component and its plugins.

A :class:`Bot` owns one :class:`~poe.irc.component.IRC` component with the plugins a bot
needs (:class:`~poe.irc.plugins.botcommand.BotCommand`, AutoJoin, NickReclaim, CTCP and,
with ``reconnect=True``, Connector) and one session of its own that registers for the events
its handlers need. Handlers are plain functions::

    bot = Bot(kernel, nick="poebot", server="irc.example.org", channels=["#poe"])


    @bot.command("add", help="add A B: the sum of two numbers")
    def add(ctx: BotContext, a: int, b: int) -> str:
        return str(a + b)


    @bot.on("join")
    def greet(ctx: BotContext, who: str, channel: str, msg: Message) -> None:
        if ctx.who is not None and ctx.who.nick != ctx.irc.nick_name():
            ctx.reply(f"hello {ctx.who.nick}")


    kernel.run()  # connects, joins, answers; bot.shutdown() quits

The contract:

* A command runs for ``!add 1 2`` (the prefix) and ``poebot: add 1 2`` in a channel, and
  ``!add 1 2`` in private (see BotCommand's rules). Its words are converted after the
  function's annotations (:class:`CommandSignature`): a wrong argument is answered with a
  usage line, the function is not called.
* What a command or an event handler returns is the reply: a ``str`` (one message; line
  breaks make more), an iterable of ``str`` (one message each) or None (no reply). It goes to
  where the command came from (the channel, or the user in private).
* An exception in a handler is logged (``poe.irc.bot``); a command's user is told it failed.
  The bot goes on.
* Everything runs in the kernel's thread, inside the bot's session: handlers must not block.
"""

from __future__ import annotations

import enum
import inspect
import logging
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar, Union

from poe.errors import InvalidArgument, SessionNotFound
from poe.irc.component import IRC
from poe.irc.message import Message
from poe.irc.plugins.autojoin import AutoJoin
from poe.irc.plugins.botcommand import AuthCallback, BotCommand, CommandSpec, split_words
from poe.irc.plugins.connector import Connector
from poe.irc.plugins.ctcp import CTCP
from poe.irc.plugins.nickreclaim import NickReclaim
from poe.session import Session

if TYPE_CHECKING:
    from poe.irc.flood import FloodControl
    from poe.kernel import Kernel
    from poe.session import Context

__all__ = ["Bot", "BotContext", "CommandSignature", "Mask", "UsageError"]

log = logging.getLogger("poe.irc.bot")

F = TypeVar("F", bound=Callable[..., Any])

_UNSET: Final[Any] = object()
_TRUE: Final = frozenset({"1", "true", "yes", "on", "y"})
_FALSE: Final = frozenset({"0", "false", "no", "off", "n"})
_KINDS: Final[Mapping[type, str]] = {
    int: "a whole number",
    float: "a number",
    bool: "yes or no",
}


class Mask(str):
    """A ``nick!user@host`` source, as a ``str``, with its parts (``irc.client.NickMask``)."""

    __slots__ = ()

    @property
    def nick(self) -> str:
        """The nick (the whole mask when it has no ``!``: a server name)."""
        return self.partition("!")[0]

    @property
    def userhost(self) -> str:
        """``user@host`` ("" when unknown)."""
        return self.partition("!")[2]

    @property
    def user(self) -> str:
        """The user name ("" when unknown)."""
        return self.userhost.partition("@")[0]

    @property
    def host(self) -> str:
        """The host ("" when unknown)."""
        return self.userhost.partition("@")[2]


class BotContext:
    """What a handler knows: who, where, the message, and ways to answer.

    Attributes:
        bot: the :class:`Bot`.
        event: the event being handled (``irc_botcmd_add``, ``irc_join``, ...).
        who: the user who caused the event, or None (a server, the component's own events).
        where: the channel it happened in, or the user's nick when it was private; None when
            neither applies (then :meth:`reply` cannot answer).
        msg: the :class:`~poe.irc.message.Message` it came from, or None.
    """

    __slots__ = ("bot", "event", "msg", "where", "who")

    def __init__(
        self, bot: Bot, event: str, who: Mask | None, where: str | None, msg: Message | None
    ) -> None:
        self.bot = bot
        self.event = event
        self.who = who
        self.where = where
        self.msg = msg

    @property
    def irc(self) -> IRC:
        """The IRC component."""
        return self.bot.irc

    @property
    def kernel(self) -> Kernel:
        """The kernel."""
        return self.bot.kernel

    def reply(self, text: str) -> None:
        """Answer where the event came from (with the bot's ``method``, PRIVMSG by default).

        Raises:
            ValueError: the event has no ``where`` (no channel, no user).
        """
        if self.where is None:
            msg = f"{self.event} came from nowhere a reply could go to"
            raise ValueError(msg)
        self.irc.yield_(self.bot.method, self.where, text)

    def say(self, target: str, text: str) -> None:
        """Send a PRIVMSG to ``target`` (a channel or a nick)."""
        self.irc.yield_("privmsg", target, text)

    def notice(self, target: str, text: str) -> None:
        """Send a NOTICE to ``target``."""
        self.irc.yield_("notice", target, text)

    def action(self, target: str, text: str) -> None:
        """Send a CTCP ACTION (``/me text``) to ``target``."""
        self.irc.yield_("ctcp", target, "ACTION " + text)

    def __repr__(self) -> str:
        return f"<BotContext {self.event} who={self.who!r} where={self.where!r}>"


class UsageError(ValueError):
    """The words given to a command do not fit its parameters; the message says why."""


class _Param:
    __slots__ = ("convert", "default", "is_text", "kind", "name", "required")

    def __init__(self, name: str, annotation: object, default: object) -> None:
        self.name = name
        self.required = default is inspect.Parameter.empty
        self.default = None if self.required else default
        target = _unwrap_optional(annotation)
        self.convert, self.kind = _converter(name, target)
        self.is_text = self.convert is str


class CommandSignature:
    """How a command's words become its function's arguments (from its annotations).

    The function is ``f(ctx, p1, p2, ..., *rest)``. Each parameter after ``ctx`` takes one
    word, converted by its annotation: ``str`` (or none), ``int``, ``float``, ``bool``
    (yes/no, true/false, on/off, 1/0), an :class:`enum.Enum` (a member's name, any case), or
    any class called with the word. ``X | None`` is ``X``. A parameter with a default is
    optional. A last ``*rest`` takes the remaining words (each converted). Otherwise, when
    the last parameter is a ``str``, it takes the rest of the line as it was typed (``echo``
    gets ``hello   world`` whole), or the one word unquoted when only one is left. Words are
    split by :func:`~poe.irc.plugins.botcommand.split_words` (``"two words"`` is one word).

    Args:
        name: the command's name (for the usage line).
        function: the handler.
        usage: the usage line, without the prefix; default: built from the parameters
            (``add A B [C] [REST...]``).

    Raises:
        InvalidArgument: a parameter this cannot fill (keyword-only, ``**kwargs``), an
            annotation it cannot resolve, or a function without a ``ctx`` parameter.
    """

    def __init__(self, name: str, function: Callable[..., Any], usage: str | None = None) -> None:
        self.name = name
        try:
            signature = inspect.signature(function)
        except (TypeError, ValueError) as exc:
            msg = f"command {name!r}: cannot read the signature of {function!r}: {exc}"
            raise InvalidArgument(msg) from exc
        hints = _hints(name, function)
        params = list(signature.parameters.values())
        if not params or params[0].kind not in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            msg = f"command {name!r}: the handler's first parameter must be the context"
            raise InvalidArgument(msg)
        self.params: list[_Param] = []
        self.rest: _Param | None = None
        for param in params[1:]:
            annotation = hints.get(param.name, str)
            if param.kind is inspect.Parameter.VAR_POSITIONAL:
                self.rest = _Param(param.name, annotation, None)
            elif param.kind in (
                inspect.Parameter.POSITIONAL_ONLY,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
            ):
                self.params.append(_Param(param.name, annotation, param.default))
            else:
                msg = f"command {name!r}: parameter {param.name!r} cannot be given by words"
                raise InvalidArgument(msg)
        self.rest_of_line = self.rest is None and bool(self.params) and self.params[-1].is_text
        self.usage = usage or self.synopsis()

    def synopsis(self) -> str:
        """``name A B [C] [REST...]``: the parameters, upper-cased, optional ones bracketed."""
        words = [self.name]
        words.extend(p.name.upper() if p.required else f"[{p.name.upper()}]" for p in self.params)
        if self.rest is not None:
            words.append(f"[{self.rest.name.upper()}...]")
        return " ".join(words)

    def bind(self, text: str) -> list[Any]:
        """Return the arguments for ``text`` (the words after the command), ``ctx`` excluded.

        Raises:
            UsageError: a missing or extra word, or one its parameter cannot convert.
        """
        words = split_words(text)
        values: list[Any] = []
        for index, param in enumerate(self.params):
            if index >= len(words):
                if param.required:
                    raise UsageError(f"missing {param.name.upper()}")
                values.append(param.default)
                continue
            last = index == len(self.params) - 1
            if last and self.rest_of_line and len(words) > index + 1:
                start = words[index - 1][1] if index else 0
                values.append(text[start:].strip())
                return values
            values.append(self._convert(param, words[index][0]))
        extra = [word for word, _ in words[len(self.params) :]]
        if self.rest is not None:
            values.extend(self._convert(self.rest, word) for word in extra)
        elif extra:
            raise UsageError("too many arguments")
        return values

    @staticmethod
    def _convert(param: _Param, word: str) -> Any:
        try:
            return param.convert(word)
        except (ValueError, TypeError, KeyError) as exc:
            raise UsageError(f"{param.name.upper()} must be {param.kind}, not {word!r}") from exc


class _Command:
    __slots__ = ("function", "help", "name", "signature")

    def __init__(self, name: str, function: Callable[..., Any], help_text: str | None) -> None:
        self.name = name
        self.function = function
        first = (help_text or "").strip().splitlines()[0] if (help_text or "").strip() else ""
        # "add A B: the sum" -> usage "add A B"; a help that does not start with the name is
        # only a description, and the usage comes from the parameters.
        usage = None
        if first.split(None, 1)[:1] == [name]:
            usage = first.split(":", 1)[0].strip() if ": " in first else first
        self.signature = CommandSignature(name, function, usage)
        self.help = help_text or self.signature.usage


class Bot:
    """An IRC bot: a component, the bot plugins, a session, and your handlers.

    Args:
        kernel: the kernel to run in.
        nick: the bot's nick.
        server: the server's address.
        port: the server's port.
        channels: channels to join on every connection (names, or ``{name: key}``).
        prefix: the command prefix (``!help``); commands addressed by nick work too.
        addressed: accept ``ournick: command`` in channels.
        method: how replies and help are sent: ``"privmsg"`` or ``"notice"``.
        auth: BotCommand's ``auth(irc, who, where, command, text)`` check (see
            :data:`~poe.irc.plugins.botcommand.AuthCallback`).
        ignore_unknown: say nothing about unknown commands.
        reconnect: add a :class:`~poe.irc.plugins.connector.Connector` (reconnect when the
            link is lost; PoCo's Connector also reconnects after a ``quit``).
        version: the CTCP VERSION answer (default: the CTCP plugin's).
        flood: the component's flood control (default: the component's; None for none).
        plugins: more plugins, ``{name: plugin}``, added after the bot's own.
        autostart: connect when the kernel runs; with False, call :meth:`start`.
        **options: more :class:`~poe.irc.component.IRC` options (``username``, ``password``,
            ``tls``, ``sasl``, ...).

    The bot's plugins are named ``BotCommand``, ``AutoJoin``, ``NickReclaim``, ``CTCP`` and
    ``Connector``. The bot's session ends after :meth:`shutdown` (the component's
    ``shutdown``), once the component lets it go.
    """

    def __init__(
        self,
        kernel: Kernel,
        *,
        nick: str,
        server: str = "127.0.0.1",
        port: int = 6667,
        channels: Iterable[str] | Mapping[str, str | None] = (),
        prefix: str = "!",
        addressed: bool = True,
        method: str = "privmsg",
        auth: AuthCallback | None = None,
        ignore_unknown: bool = False,
        reconnect: bool = False,
        version: str | None = None,
        flood: FloodControl | None = _UNSET,
        plugins: Mapping[str, Any] | None = None,
        autostart: bool = True,
        **options: Any,
    ) -> None:
        if method not in ("privmsg", "notice"):
            msg = f"Bot: method must be 'privmsg' or 'notice', not {method!r}"
            raise InvalidArgument(msg)
        self.kernel = kernel
        self.method = method
        self.prefix = prefix
        if flood is not _UNSET:
            options["flood"] = flood
        self.irc = IRC(kernel, nick=nick, server=server, port=port, **options)
        self.botcommand = BotCommand(
            addressed=addressed,
            prefix=prefix,
            prefix_in_channels=bool(prefix),
            auth=auth,
            ignore_unknown=ignore_unknown,
            method=method,
        )
        self.irc.plugin_add("BotCommand", self.botcommand)
        self.irc.plugin_add("AutoJoin", AutoJoin(channels, rejoin_on_kick=True))
        self.irc.plugin_add("NickReclaim", NickReclaim())
        self.irc.plugin_add("CTCP", CTCP(version=version))
        if reconnect:
            self.irc.plugin_add("Connector", Connector())
        for name, plugin in (plugins or {}).items():
            self.irc.plugin_add(name, plugin)
        self._commands: dict[str, _Command] = {}
        self._handlers: dict[str, list[Callable[..., Any]]] = {}
        self._started = False
        self._closing = False
        self._session: Session = Session.create(
            kernel,
            inline_states={
                "_start": self._on_start,
                "_default": self._on_event,
                "bot_register": self._on_bot_register,
                "irc_registered": _ignore,
            },
        )
        if autostart:
            self.start()

    # -- registration --------------------------------------------------------------------------

    def command(
        self,
        name: str,
        *,
        help: str | None = None,  # noqa: A002 - the word users type
        aliases: Sequence[str] = (),
    ) -> Callable[[F], F]:
        """Decorate ``f(ctx, ...)`` as the handler of command ``name`` (see the module doc).

        Args:
            name: the command (one word, case-insensitive).
            help: its ``help`` text; when it starts with the name (``"add A B: ..."``), the
                part before ``": "`` is also the usage line shown after a wrong argument.
            aliases: other names for it.

        Raises:
            InvalidArgument: the name is taken or not one word, or the function's parameters
                cannot be filled from words (see :class:`CommandSignature`).
        """
        key = name.lower()

        def decorate(function: F) -> F:
            if key in self._commands:
                msg = f"Bot: command {key!r} is defined already"
                raise InvalidArgument(msg)
            command = _Command(key, function, help)
            spec: CommandSpec = command.help
            if aliases:
                spec = {"info": command.help, "aliases": [a.lower() for a in aliases]}
            if not self.botcommand.add(key, spec):
                msg = f"Bot: command {key!r} cannot be added (taken, or not one word)"
                raise InvalidArgument(msg)
            self._commands[key] = command
            self._register(f"irc_botcmd_{key}")
            return function

        if not key or key.split() != [key]:
            msg = f"Bot: a command name must be one word, not {name!r}"
            raise InvalidArgument(msg)
        return decorate

    def on(self, event: str) -> Callable[[F], F]:
        """Decorate ``f(ctx, *args)`` as a handler of ``event`` (``"join"`` or ``"irc_join"``).

        ``args`` are the event's arguments as :mod:`poe.irc.events` lists them, the Message
        last. Several handlers of one event run in the order they were added.
        """
        full = event if event.startswith("irc_") else f"irc_{event}"

        def decorate(function: F) -> F:
            first = full not in self._handlers
            self._handlers.setdefault(full, []).append(function)
            if first:
                self._register(full)
            return function

        return decorate

    def _register(self, event: str) -> None:
        if self._session.alive:
            self.kernel.post(self._session.ID, "bot_register", event)

    # -- life ----------------------------------------------------------------------------------

    @property
    def nick(self) -> str:
        """The bot's current nick."""
        return self.irc.nick_name()

    def start(self) -> None:
        """Connect (once; the Connector, if any, reconnects after that)."""
        if not self._started:
            self._started = True
            self.irc.yield_("connect")

    def shutdown(self, message: str = "") -> None:
        """Quit with ``message`` and shut the component down; the bot's session ends then."""
        self._closing = True
        self.irc.yield_("shutdown", message)

    # -- the session ---------------------------------------------------------------------------

    def _on_start(self, ctx: Context) -> None:
        events = [*self._handlers, *(f"irc_botcmd_{name}" for name in self._commands)]
        ctx.kernel.post(self.irc.session_id, "register", *events)

    def _on_bot_register(self, ctx: Context, *events: str) -> None:
        if self._closing:
            return  # a registration after the component's shutdown would keep us alive
        try:
            ctx.kernel.post(self.irc.session_id, "register", *events)
        except SessionNotFound:
            log.warning("Bot: the component is gone; %s not registered", events)

    def _on_event(self, ctx: Context, event: str, args: tuple[Any, ...]) -> None:
        if event.startswith("irc_botcmd_") and event[11:] in self._commands:
            self._run_command(self._commands[event[11:]], event, args)
            return
        handlers = self._handlers.get(event)
        if not handlers:
            return
        context = _context_of(self, event, args)
        for handler in list(handlers):
            try:
                result = handler(context, *args)
            except Exception:  # a handler's bug must not stop the bot
                log.exception("Bot: handler %s for %s failed", _name_of(handler), event)
                continue
            self._reply(context, result)

    def _run_command(self, command: _Command, event: str, args: tuple[Any, ...]) -> None:
        # irc_botcmd_<name>: who, where, argument text, message
        who, where, text = str(args[0]), str(args[1]), args[2]
        msg = args[-1] if len(args) > 3 else None
        context = BotContext(self, event, Mask(who), where, msg)
        try:
            values = command.signature.bind(text if isinstance(text, str) else "")
        except UsageError as exc:
            context.reply(f"{exc}. Usage: {self.prefix}{command.signature.usage}")
            return
        try:
            result = command.function(context, *values)
        except Exception as exc:  # a command's bug must not stop the bot
            log.exception("Bot: command %s failed (%s)", command.name, _name_of(command.function))
            context.reply(f"{command.name}: sorry, that failed ({type(exc).__name__})")
            return
        self._reply(context, result)

    @staticmethod
    def _reply(context: BotContext, result: object) -> None:
        if result is None:
            return
        lines = [result] if isinstance(result, str) else result
        if not isinstance(lines, Iterable):
            lines = [str(lines)]
        if context.where is None:
            log.warning("Bot: %s returned a reply but has nowhere to send it", context.event)
            return
        for line in lines:
            context.reply(str(line))


def _context_of(bot: Bot, event: str, args: tuple[Any, ...]) -> BotContext:
    """who: the message's user source; where: its first parameter if a channel, else the user."""
    msg = args[-1] if args and isinstance(args[-1], Message) else None
    if msg is None:
        return BotContext(bot, event, None, None, None)
    source = msg.source
    who = Mask(source) if source and "!" in source else None
    where: str | None = None
    if msg.params and bot.irc.is_channel(msg.params[0]):
        where = msg.params[0]
    elif who is not None:
        where = who.nick
    return BotContext(bot, event, who, where, msg)


def _ignore(ctx: Context, *args: Any) -> None:
    """For events the bot's session does not use."""


def _name_of(function: Callable[..., Any]) -> str:
    return getattr(function, "__qualname__", None) or repr(function)


# -- annotations -----------------------------------------------------------------------------

_BUILTIN_NAMES: Final[Mapping[str, type]] = {"str": str, "int": int, "float": float, "bool": bool}


def _hints(name: str, function: Callable[..., Any]) -> dict[str, object]:
    try:
        return dict(typing.get_type_hints(function))
    except Exception as exc:  # any error evaluating an annotation
        raw = dict(getattr(function, "__annotations__", {}))
        hints: dict[str, object] = {}
        for key, value in raw.items():
            if isinstance(value, str):
                if value not in _BUILTIN_NAMES:
                    msg = f"command {name!r}: cannot resolve the annotation {value!r}: {exc}"
                    raise InvalidArgument(msg) from exc
                hints[key] = _BUILTIN_NAMES[value]
            else:
                hints[key] = value
        return hints


def _unwrap_optional(annotation: object) -> object:
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _converter(name: str, target: object) -> tuple[Callable[[str], Any], str]:
    """The function that converts one word for a parameter, and what it expects (for errors)."""
    if target is str or target is inspect.Parameter.empty or target is Any:
        return str, ""
    if target is bool:
        return _to_bool, _KINDS[bool]
    if isinstance(target, type) and issubclass(target, enum.Enum):
        members = {member.name.lower(): member for member in target}
        choices = "|".join(member.name.lower() for member in target)
        return (lambda word: members[word.lower()]), f"one of {choices}"
    # A parametrized generic (dict[str, int]) passes isinstance(..., type) on Python 3.10.
    generic = typing.get_origin(target) is not None
    if isinstance(target, type) and not generic:
        kind = _KINDS.get(target, f"a {target.__name__}")
        return target, kind
    msg = f"parameter {name!r}: cannot convert words to {target!r}"
    raise InvalidArgument(msg)


def _to_bool(word: str) -> bool:
    lowered = word.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(word)
