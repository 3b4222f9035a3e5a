"""BotCommand: commands addressed to the bot become ``irc_botcmd_<name>`` events.

The port of POE::Component::IRC::Plugin::BotCommand (PoCo-IRC 6.93). The plugin watches
``irc_public`` and ``irc_msg``, recognises a command, checks it (known, allowed, the right
number of arguments) and sends ``irc_botcmd_<name>(who, where, arguments, msg)`` through the
component, to plugins and registered sessions. It answers ``help`` by itself and, unless told
otherwise, tells users about unknown commands. It owns no connection state and sends nothing
but those answers.

Rules (how a line becomes a command):

1. Colours and formatting codes are stripped first (:func:`~poe.irc.formatting.strip_color`).
2. In a channel (``in_channels``): with ``addressed``, the line must start with our nick and
   a separator, ``poebot: cmd args``, ``poebot, cmd args`` (also ``;.!?~`` or a space); the
   nick is compared with the server's case mapping. The ``prefix`` form (``!cmd args``) is
   accepted when ``addressed`` is False (PoCo) or ``prefix_in_channels`` is True.
3. In private (``in_private``): ``!cmd args`` (the prefix is stripped); without the prefix
   only with ``bare_private``.
4. The first word is the command (lower-cased), the rest the argument text (stripped; ``""``
   when there is none). Aliases resolve to their command.
5. ``auth(irc, who, where, command, text)``, when given, decides; a refusal is answered with
   its messages (or a default one) unless ``ignore_unauthorized``.
6. A registered command gives its event; ``help`` (unless registered) answers with the list
   of commands or one command's help; an unknown command gets ``Unknown command: X; try
   !help`` unless ``ignore_unknown``.

The event's ``arguments`` are the argument text (PoCo's string), a list of words when the
plugin has ``parse_args`` (see :func:`split_words`), or, for a command declared with an
``args`` list, a dict ``{arg_name: word, ..., "opt0": extra, ...}`` (PoCo's hash). Answers are
sent with ``irc.yield_(method, where, line)``; the event is sent with the component's
``send_event`` state, so it follows the ``irc_public``/``irc_msg`` it came from (PoCo's
``send_event_next``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from poe.errors import InvalidArgument
from poe.irc.formatting import strip_color, strip_formatting
from poe.irc.plugin import Eat

if TYPE_CHECKING:
    import builtins

    from poe.irc.component import IRC
    from poe.irc.message import Message

__all__ = ["AuthCallback", "BotCommand", "CommandSpec", "split_words"]

CommandSpec: TypeAlias = "str | Mapping[str, Any]"
"""A command's help: a text, or ``{"info": text, "args": [...], "variable": bool,
"aliases": [...], "handler": event, <arg name>: text | [text, choice, ...]}``."""

AuthCallback: TypeAlias = "Callable[[IRC, str, str, str, str], bool | tuple[bool, Sequence[str]]]"
"""``auth(irc, who, where, command, text)``: True to allow; False or ``(False, [messages])``
to refuse (the messages are sent instead of the default one)."""

DEFAULT_REFUSAL: Final = "You are not authorized to use this command."
_SEPARATORS: Final = ":,;.!?~"
_QUOTES: Final = "\"'"


def split_words(text: str) -> list[tuple[str, int]]:
    """Split ``text`` into words, with shell-like quoting that never fails.

    A word is a run of non-blank characters, or a quoted string: a word that *starts* with
    ``"`` or ``'`` runs to the matching quote, spaces included, and the quotes are removed
    (``"a b" c`` gives ``a b`` and ``c``). Quotes inside a word are ordinary characters
    (``it's``), and an opening quote that is never closed is one too, so any text splits.
    Unlike :func:`shlex.split` there are no backslash escapes: users type apostrophes.

    Returns:
        ``(word, end)`` pairs, ``end`` being the index in ``text`` just after the word (its
        closing quote included), so a caller can take the rest of the line as it was typed.
    """
    words: list[tuple[str, int]] = []
    i = 0
    n = len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        quote = text[i]
        if quote in _QUOTES:
            close = text.find(quote, i + 1)
            if close != -1 and (close + 1 == n or text[close + 1].isspace()):
                words.append((text[i + 1 : close], close + 1))
                i = close + 1
                continue
        end = i
        while end < n and not text[end].isspace():
            end += 1
        words.append((text[i:end], end))
        i = end
    return words


class BotCommand:
    """Turn commands addressed to the bot into ``irc_botcmd_<name>`` events (PoCo's BotCommand).

    Args:
        commands: ``{name: help text}`` or ``{name: {"info": text, ...}}`` (see
            :data:`CommandSpec`); names are case-insensitive.
        in_channels: accept commands said in channels.
        in_private: accept commands sent in private messages.
        addressed: in channels, accept ``ournick: cmd args``.
        prefix: the prefix of ``!cmd args`` (private messages, and channels when not
            ``addressed`` or with ``prefix_in_channels``); ``""`` for bare commands.
        prefix_in_channels: also accept prefixed commands in channels when ``addressed``
            (PoCo accepts only one form there); default: ``not addressed``.
        bare_private: accept commands without the prefix in private messages.
        auth: decides whether a command may run (see :data:`AuthCallback`); called for every
            command, ``help`` and unknown ones included.
        ignore_unauthorized: refuse silently.
        ignore_unknown: say nothing about unknown commands.
        method: how answers are sent: ``"notice"`` (PoCo's default) or ``"privmsg"``.
        parse_args: give the argument text to events as a list of words (:func:`split_words`).
        eat: return :attr:`Eat.PLUGIN` for lines that were commands, so later plugins do not
            see them (sessions still do).

    Raises:
        InvalidArgument: a command spec without ``info``, or a bad ``method``.
    """

    def __init__(
        self,
        commands: Mapping[str, CommandSpec] | None = None,
        *,
        in_channels: bool = True,
        in_private: bool = True,
        addressed: bool = True,
        prefix: str = "!",
        prefix_in_channels: bool | None = None,
        bare_private: bool = False,
        auth: AuthCallback | None = None,
        ignore_unauthorized: bool = False,
        ignore_unknown: bool = False,
        method: str = "notice",
        parse_args: bool = False,
        eat: bool = False,
    ) -> None:
        if method not in ("notice", "privmsg"):
            msg = f"BotCommand: method must be 'notice' or 'privmsg', not {method!r}"
            raise InvalidArgument(msg)
        self.in_channels = in_channels
        self.in_private = in_private
        self.addressed = addressed
        self.prefix = prefix
        self.prefix_in_channels = (
            (not addressed) if prefix_in_channels is None else prefix_in_channels
        )
        self.bare_private = bare_private
        self.auth = auth
        self.ignore_unauthorized = ignore_unauthorized
        self.ignore_unknown = ignore_unknown
        self.method = method
        self.parse_args = parse_args
        self.eat = eat
        self._commands: dict[str, CommandSpec] = {}
        for name, spec in (commands or {}).items():
            _check_spec(name, spec)
            self._commands[name.lower()] = spec

    # -- the command table (PoCo's add, remove, list, resolve_alias) ---------------------------

    def add(self, name: str, spec: CommandSpec) -> bool:
        """Add command ``name``; False if it exists already or ``spec`` has no ``info``."""
        name = name.lower()
        if name in self._commands:
            return False
        try:
            _check_spec(name, spec)
        except InvalidArgument:
            return False
        self._commands[name] = spec
        return True

    def remove(self, name: str) -> bool:
        """Remove command ``name``; False if there was no such command."""
        return self._commands.pop(name.lower(), None) is not None

    def list(self) -> dict[str, CommandSpec]:
        """The commands, ``{name: spec}`` (a copy)."""
        return dict(self._commands)

    def resolve_alias(self, alias: str) -> str | None:
        """The command that has ``alias`` among its ``aliases``, or None."""
        alias = alias.lower()
        for name, spec in self._commands.items():
            if isinstance(spec, Mapping) and alias in (a.lower() for a in spec.get("aliases", ())):
                return name
        return None

    # -- hooks ---------------------------------------------------------------------------------

    def plugin_register(self, irc: IRC) -> None:
        """Nothing to set up: the hooks are found by name."""

    def plugin_unregister(self, irc: IRC) -> None:
        """Nothing to release."""

    def irc_public(
        self, irc: IRC, who: str, targets: builtins.list[str], text: str, msg: Message | None = None
    ) -> Eat:
        """A channel message: a command if addressed to us or prefixed (see the rules)."""
        if not self.in_channels or not targets:
            return Eat.NONE
        line = _normalize(text)
        rest: str | None = None
        if self.addressed:
            rest = self._strip_nick(irc, line)
        if rest is None and self.prefix_in_channels:
            rest = _strip_prefix(line, self.prefix)
        if rest is None:
            return Eat.NONE
        return self._command(irc, who, targets[0], rest, msg, public=True)

    def irc_msg(
        self, irc: IRC, who: str, targets: builtins.list[str], text: str, msg: Message | None = None
    ) -> Eat:
        """A private message: a command if prefixed, or bare with ``bare_private``."""
        if not self.in_private:
            return Eat.NONE
        line = _normalize(text)
        rest = _strip_prefix(line, self.prefix)
        if rest is None and self.bare_private:
            rest = line
        if rest is None:
            return Eat.NONE
        return self._command(irc, who, who.partition("!")[0], rest, msg, public=False)

    # -- the work ------------------------------------------------------------------------------

    def _strip_nick(self, irc: IRC, line: str) -> str | None:
        me = irc.nick_name()
        line = line.lstrip()
        head = line[: len(me)]
        if len(head) < len(me) or irc.isupport.fold(head) != irc.isupport.fold(me):
            return None
        rest = line[len(me) :]
        first = rest[:1]
        if first and first in _SEPARATORS:
            rest = rest[1:]
        elif first and not first.isspace():
            return None  # "poebotx: ..." is for someone else
        return rest.strip()

    def _command(
        self, irc: IRC, who: str, where: str, line: str, msg: Message | None, *, public: bool
    ) -> Eat:
        parts = line.split(None, 1)
        if not parts:
            return Eat.NONE
        typed = parts[0].lower()
        text = parts[1].strip() if len(parts) > 1 else ""
        name = typed if typed in self._commands else (self.resolve_alias(typed) or typed)
        if self.auth is not None and not self._authorized(irc, who, where, name, text):
            return self._eaten()
        spec = self._commands.get(name)
        if spec is not None:
            arguments = self._arguments(irc, name, spec, where, text)
            if arguments is not None:
                event = f"irc_botcmd_{name}"
                if isinstance(spec, Mapping) and spec.get("handler"):
                    event = str(spec["handler"])
                irc.send_event_next(event, who, where, arguments, msg)
        elif name == "help":
            self._answer(irc, where, self.help_lines(irc, text, public=public))
        elif not self.ignore_unknown:
            prefix = self._shown_prefix(irc, public=public)
            self._answer(irc, where, [f"Unknown command: {typed}; try {prefix}help"])
        return self._eaten()

    def _eaten(self) -> Eat:
        return Eat.PLUGIN if self.eat else Eat.NONE

    def _authorized(self, irc: IRC, who: str, where: str, name: str, text: str) -> bool:
        assert self.auth is not None
        verdict = self.auth(irc, who, where, name, text)
        if isinstance(verdict, tuple):
            allowed, messages = bool(verdict[0]), list(verdict[1])
        else:
            allowed, messages = bool(verdict), [DEFAULT_REFUSAL]
        if not allowed and not self.ignore_unauthorized:
            self._answer(irc, where, messages)
        return allowed

    def _arguments(
        self, irc: IRC, name: str, spec: CommandSpec, where: str, text: str
    ) -> str | builtins.list[str] | dict[str, str] | None:
        """The event's argument, or None after answering that the arguments are wrong."""
        if not isinstance(spec, Mapping) or "args" not in spec:
            return [w for w, _ in split_words(text)] if self.parse_args else text
        names = [str(a) for a in spec.get("args") or ()]
        words = [w for w, _ in split_words(text)]
        if len(words) < len(names) or (not spec.get("variable") and len(words) > len(names)):
            self._answer(irc, where, [f"Not enough or too many arguments. See help for {name}"])
            return None
        arguments: dict[str, str] = {}
        for arg, word in zip(names, words, strict=False):
            described = spec.get(arg)
            if isinstance(described, Sequence) and not isinstance(described, str):
                choices = [str(c) for c in list(described)[1:]]
                if word not in choices:
                    self._answer(irc, where, [f"{arg} can be one of {'|'.join(choices)}"])
                    return None
            arguments[arg] = word
        for index, word in enumerate(words[len(names) :]):
            arguments[f"opt{index}"] = word
        return arguments

    def _answer(self, irc: IRC, where: str, lines: Sequence[str]) -> None:
        for line in lines:
            irc.yield_(self.method, where, line)

    def _shown_prefix(self, irc: IRC, *, public: bool) -> str:
        if public and not self.prefix_in_channels:
            return irc.nick_name() + ": "
        return self.prefix

    def help_lines(self, irc: IRC, text: str = "", *, public: bool = False) -> builtins.list[str]:
        """The answer to ``help`` (no ``text``) or ``help <command>`` (PoCo's ``_get_help``)."""
        p = self._shown_prefix(irc, public=public)
        typed = text.split()[0].lower() if text.split() else ""
        if not typed:
            if not self._commands:
                return ["No commands are defined"]
            return [
                "Commands: " + ", ".join(sorted(self._commands)),
                f"For more details, use: {p}help <command>",
            ]
        name = typed if typed in self._commands else (self.resolve_alias(typed) or typed)
        spec = self._commands.get(name)
        if spec is None:
            return [f"Unknown command: {typed}", f"To get a list of commands, use: {p}help"]
        if isinstance(spec, str):
            return spec.splitlines() or [spec]
        lines: builtins.list[str] = []
        names = [str(a) for a in spec.get("args") or ()]
        if "args" in spec:
            synopsis = " ".join([f"{p}{name}", *names]) + (" ..." if spec.get("variable") else "")
            lines.append("Syntax: " + synopsis)
        lines.extend(f"Description: {spec['info']}".splitlines())
        described = [(a, spec[a]) for a in names if spec.get(a) is not None]
        if described:
            lines.append("Arguments:")
            for arg, about in described:
                if isinstance(about, Sequence) and not isinstance(about, str):
                    head, *choices = [str(x) for x in about]
                    lines.append(f"    {arg}: {head} ({'|'.join(choices)})")
                else:
                    lines.append(f"    {arg}: {about}")
        others = sorted({str(a).lower() for a in spec.get("aliases", ())} - {typed})
        if name != typed:
            lines.append(f"Alias of: {p}{name}")
            others = sorted({*others, name} - {typed})
        if others:
            lines.append("Aliases: " + " ".join(others))
        return lines


def _check_spec(name: object, spec: object) -> None:
    if not isinstance(name, str) or not name or name.split() != [name]:
        msg = f"BotCommand: a command name must be one word, not {name!r}"
        raise InvalidArgument(msg)
    if isinstance(spec, str):
        return
    if not isinstance(spec, Mapping) or "info" not in spec:
        msg = f"BotCommand: {name}: give a help text or a dict with an 'info' key"
        raise InvalidArgument(msg)
    aliases = spec.get("aliases", ())
    if isinstance(aliases, str) or not all(isinstance(a, str) for a in aliases):
        msg = f"BotCommand: {name}: 'aliases' must be a list of names"
        raise InvalidArgument(msg)


def _strip_prefix(line: str, prefix: str) -> str | None:
    if not prefix:
        return line
    return line[len(prefix) :] if line.startswith(prefix) and len(line) > len(prefix) else None


def _normalize(text: str) -> str:
    return strip_formatting(strip_color(text))
