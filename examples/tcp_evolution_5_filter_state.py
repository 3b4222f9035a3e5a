"""Evolution of a server, step 5: a custom filter, and state kept per connection.

Two things a real protocol soon needs:

* **Parsing belongs in a filter.** ``CommandFilter`` turns each input line into a ``Command``
  record (a verb and the rest of the line), so ``client_input`` receives parsed commands and
  never splits strings. It wraps a :class:`~poe.filter.LineFilter` for the framing and follows
  the filter contract (``get_one_start``/``get_one``/``put``/``get_pending``/``clone``), so it
  works in any wheel. Input and output may use different filters: here commands come in
  (``client_input_filter``) and plain lines go out (``client_output_filter``). The server gives
  each connection its own *clone* of each filter, so buffers are never shared.
* **State per connection lives in the connection's heap.** ``client_connected`` starts a line
  counter in ``ctx.heap``; each connection counts its own lines, whoever else is connected.

The protocol grows two commands, ``shout TEXT`` and ``stats``, and the visitors use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from _tcp_script import run_with_visitors
from poe.filter import FilterBase, LineFilter
from poe.kernel import Kernel
from poe.session import Context
from poe.tcp import TCPServer

if TYPE_CHECKING:
    from collections.abc import Iterable

VISITORS = 2  # stop listening after this many, so the example ends
served: list[int] = []


# -- the filter: bytes in, Command records out (and back) -------------------------------------
@dataclass(frozen=True)
class Command:
    verb: str
    text: str = ""


class CommandFilter(FilterBase[bytes, Command]):
    """Lines of ``VERB [TEXT]`` <-> :class:`Command` records."""

    def __init__(self) -> None:
        self.lines = LineFilter(max_length=1024)  # the framing; a longer line is refused

    def clone(self) -> CommandFilter:
        return CommandFilter()  # same configuration, empty buffer

    def get_one_start(self, chunks: Iterable[bytes]) -> None:
        self.lines.get_one_start(chunks)

    def get_one(self) -> list[Command]:
        for line in self.lines.get_one():  # zero or one line
            verb, _, text = line.strip().partition(" ")
            return [Command(verb.lower(), text)]
        return []

    def put(self, records: Iterable[Command]) -> list[bytes]:
        return self.lines.put(f"{c.verb} {c.text}".rstrip() for c in records)

    def get_pending(self) -> list[bytes] | None:
        return self.lines.get_pending()


# -- the server --------------------------------------------------------------------------------
def client_connected(ctx: Context) -> None:
    ctx.heap["lines"] = 0  # this connection's own counter


def client_input(ctx: Context, command: Command) -> None:
    ctx.heap["lines"] += 1
    client = ctx.heap["client"]
    if command.verb == "quit":
        client.put(f"bye, after {ctx.heap['lines']} lines")
        ctx.kernel.yield_("shutdown")
    elif command.verb == "shout":
        client.put(command.text.upper() + "!")
    elif command.verb == "stats":
        client.put(f"you have sent {ctx.heap['lines']} lines")
    else:
        client.put(f"you said: {command.verb} {command.text}".rstrip())


def client_disconnected(ctx: Context) -> None:
    served.append(ctx.heap["remote_port"])
    if len(served) == VISITORS:
        ctx.kernel.post("echo", "shutdown")


def main() -> None:
    kernel = Kernel()
    server = TCPServer(
        kernel,
        address="127.0.0.1",
        alias="echo",
        client_input_filter=CommandFilter(),  # cloned for each connection
        client_output_filter=LineFilter(),
        client_connected=client_connected,
        client_input=client_input,
        client_disconnected=client_disconnected,
    )
    assert server.port is not None
    more = ["shout hello bob", "stats"]  # alice tries the new commands before she quits
    run_with_visitors(kernel, server.port, more)
    print(f"server: served {len(served)} clients at the same time")


if __name__ == "__main__":
    main()
