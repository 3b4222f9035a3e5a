"""Bot debugging techniques: raw lines, a session that sees every event, the log, plugin errors.

``POE_TRACE_EVENTS=1`` shows every event the kernel dispatches: the wheels' too, far more than
a bot's author wants. Four narrower tools:

* ``IRC(..., raw=True)`` adds ``irc_raw(line)`` for each line received and ``irc_raw_out(line)``
  for each line sent: the conversation with the server, as it is on the wire.
* A tracer session registered for ``"all"`` whose only handler is ``_default``: it sees every
  ``irc_*`` event, with its arguments, in the order sessions get them. (Each event's last
  argument is the Message it came from, left out here.)
* The ``poe.irc`` logger: the component logs what it refuses or drops (a command with too few
  arguments, a line sent while offline) and the tracebacks of failing plugins. Here it logs
  into a StringIO at ``DEBUG``, printed at the end without the tracebacks' file paths.
* ``irc_plugin_error(message, plugin, hook)``: a plugin hook that raises does not stop the
  component. The others still run, and the command (or event) goes on as if not eaten.

poebot registers quietly (the tracer counts the lines), joins ``#poe``, adds a buggy plugin,
says hello, posts a ``privmsg`` without its text, and shuts down.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import irc_server
from poe.irc import IRC, Message
from poe.kernel import Kernel
from poe.session import Context, Session

log_text = io.StringIO()
handler = logging.StreamHandler(log_text)
handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
irc_log = logging.getLogger("poe.irc")
irc_log.addHandler(handler)
irc_log.setLevel(logging.DEBUG)
irc_log.propagate = False  # only into log_text, not on stderr

kernel = Kernel()
server = irc_server.start(kernel)
bot = IRC(kernel, nick="poebot", port=server.port, flood=None, raw=True)


# -- the tracer: registered for everything, handles it all in _default -----------------------
def brief(arg: Any) -> str:
    return repr(arg) if isinstance(arg, (str, int, list)) else f"<{type(arg).__name__}>"


def trace(ctx: Context, event: str, args: tuple[Any, ...]) -> None:
    heap = ctx.heap
    if not event.startswith("irc_"):
        return  # _default also gets the session's own _stop
    if not heap.get("on"):  # registration: only count the lines
        heap["lines"] = heap.get("lines", 0) + (event in ("irc_raw", "irc_raw_out"))
        if event == "irc_376":  # the end of the MOTD: registered
            print(f"(registration: {heap['lines']} raw lines, not shown)")
            heap["on"] = True
    elif event == "irc_raw":
        print(f"  <<< {args[0]}")
    elif event == "irc_raw_out":
        print(f"  >>> {args[0]}")
    else:
        shown = [brief(a) for a in args if not isinstance(a, Message) and a is not None]
        print(f"{event}({', '.join(shown)})")


Session.create(
    kernel,
    inline_states={
        "_start": lambda ctx: ctx.kernel.post(bot.session_id, "register", "all"),
        "_default": trace,
    },
)


# -- the bot ---------------------------------------------------------------------------------
class Buggy:
    def cmd_privmsg(self, irc: IRC, target: str, text: str) -> None:
        print(f"Buggy: about to send {text!r} to {target}")
        _ = 1 / 0


def bot_start(ctx: Context) -> None:
    ctx.kernel.post(bot.session_id, "register", "376", "366", "shutdown")
    bot.yield_("connect")


def in_channel(ctx: Context, *args: Any) -> None:
    bot.plugin_add("Buggy", Buggy())
    bot.yield_("privmsg", "#poe", "hello")
    bot.yield_("privmsg", "#poe")  # a bug of ours: no text (logged, not sent)
    bot.yield_("shutdown", "debugged")


Session.create(
    kernel,
    inline_states={
        "_start": bot_start,
        "irc_376": lambda ctx, *args: bot.yield_("join", "#poe"),
        "irc_366": in_channel,
        "irc_shutdown": lambda ctx, component_id, msg: server.shutdown(),
    },
)
kernel.run()

print("The poe.irc log (tracebacks left out):")
for line in log_text.getvalue().splitlines():
    if not line.startswith((" ", "Traceback")):  # a traceback's lines start so
        print(f"  {line}")
