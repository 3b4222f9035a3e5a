"""A multi-user chat server on TCPServer, and three scripted users on TCPClient.

The server is one :class:`~poe.tcp.TCPServer`: every connection gets its own session, and the
``ChatRoom`` object's methods are the callbacks all of them share. A connection never touches
another connection's wheel ("sessions must not expose their wheels to other sessions"): to
broadcast, the room *posts* a ``send`` event to every other connection session, and each one
writes to its own client. ``send`` is an extra state, given with ``inline_states``. Commands:
``/nick NAME`` changes your name, ``/who`` lists who is here, ``/quit`` says goodbye and hangs up.

The users are :class:`~poe.tcp.TCPClient` sessions, driven by a ``director`` session that
plays a script: each step makes one user connect, say a line or hang up, then waits until
everyone concerned has heard the consequences before printing them (sorted by user, since
several sockets become readable at once and the order the kernel reads them in is nobody's
business) and taking the next step. So the transcript is the same on every run.
"""

from __future__ import annotations

from typing import Any

from poe.kernel import Kernel
from poe.session import Context, Session
from poe.tcp import TCPClient, TCPServer


# -- the chat server ----------------------------------------------------------------------------
class ChatRoom:
    """The callbacks of every connection session, and who is in the room."""

    def __init__(self) -> None:
        self.nicks: dict[int, str] = {}  # connection session id -> nickname
        self.guests = 0

    def client_connected(self, ctx: Context) -> None:
        self.guests += 1
        nick = f"guest{self.guests}"
        self.broadcast(ctx, f"* {nick} joined.")
        self.nicks[ctx.session.ID] = nick
        ctx.heap["client"].put(
            f"* Welcome, {nick}! /nick NAME picks a name, /who lists us, /quit leaves.",
        )

    def client_input(self, ctx: Context, line: str) -> None:
        me = ctx.session.ID
        nick = self.nicks[me]
        client = ctx.heap["client"]
        if line.startswith("/nick "):
            new = line.split(maxsplit=1)[1]
            if new in self.nicks.values():
                client.put(f"* {new} is taken.")
                return
            self.nicks[me] = new
            client.put(f"* You are now {new}.")
            self.broadcast(ctx, f"* {nick} is now {new}.")
        elif line == "/who":
            client.put(f"* Here: {', '.join(sorted(self.nicks.values()))}.")
        elif line == "/quit":
            client.put(f"* Goodbye, {nick}.")
            ctx.kernel.yield_("shutdown")  # TCPServer's own event: flush, then hang up
        elif line.startswith("/"):
            client.put(f"* Unknown command {line.split()[0]}.")
        else:
            self.broadcast(ctx, f"<{nick}> {line}")

    def client_disconnected(self, ctx: Context) -> None:
        # Called however the connection ends: /quit, the user hanging up, an error.
        nick = self.nicks.pop(ctx.session.ID)
        print(f"server: {nick} left")
        self.broadcast(ctx, f"* {nick} left.")

    def broadcast(self, ctx: Context, line: str) -> None:
        """Post ``send`` to every other connection session: each puts to its own wheel."""
        for session_id in self.nicks:
            if session_id != ctx.session.ID:
                ctx.kernel.post(session_id, "send", line)


def send(ctx: Context, line: str) -> None:
    """The ``send`` state of every connection session: write one line to this client."""
    client = ctx.heap.get("client")
    if client is not None and not ctx.heap["shutdown"]:
        client.put(line)


# -- the scripted users -------------------------------------------------------------------------
# (who, what, how many things must be heard before the next step). "what" is a line to say,
# CONNECT or HANG_UP. A user hanging up hears its own disconnection: that counts as one thing.
CONNECT = "<connect>"
HANG_UP = "<hang up>"
SCRIPT: list[tuple[str, str, int]] = [
    ("alice", CONNECT, 1),
    ("alice", "/nick alice", 1),
    ("bob", CONNECT, 2),
    ("bob", "/nick bob", 2),
    ("bob", "hi alice!", 1),
    ("carol", CONNECT, 3),
    ("carol", "/nick bob", 1),
    ("carol", "/nick carol", 3),
    ("carol", "/who", 1),
    ("alice", "welcome, carol", 2),
    ("carol", "/quit", 4),
    ("bob", HANG_UP, 2),
    ("alice", "/quit", 2),
]


def user_input(ctx: Context, line: str, wheel_id: int) -> None:
    ctx.kernel.post("director", "heard", ctx.heap["name"], line)


def user_disconnected(ctx: Context) -> None:
    ctx.kernel.post("director", "heard", ctx.heap["name"], "(disconnected)")


def user_started(ctx: Context, name: str) -> None:
    ctx.heap["name"] = name


def director_start(ctx: Context, server: TCPServer) -> None:
    ctx.kernel.alias_set("director")
    ctx.heap.update(server=server, users={}, step=0, heard=[], expected=0)
    ctx.kernel.yield_("next_step")


def next_step(ctx: Context) -> None:
    heap = ctx.heap
    if heap["step"] == len(SCRIPT):
        print("director: the script is over; shutting the server down")
        ctx.kernel.alias_remove("director")
        heap["server"].shutdown()
        return
    name, what, expected = SCRIPT[heap["step"]]
    heap["step"] += 1
    heap["expected"] = expected
    users: dict[str, TCPClient] = heap["users"]
    if what == CONNECT:
        print(f"{name} connects")
        users[name] = TCPClient(
            ctx.kernel,
            remote_address="127.0.0.1",
            remote_port=heap["server"].port,
            started=user_started,
            args=(name,),
            server_input=user_input,
            disconnected=user_disconnected,
        )
    elif what == HANG_UP:
        print(f"{name} hangs up")
        users.pop(name).shutdown()
    else:
        print(f"{name} says: {what}")
        users[name].put(what)


def heard(ctx: Context, name: str, line: str) -> None:
    heap = ctx.heap
    heap["heard"].append((name, line))
    if len(heap["heard"]) < heap["expected"]:
        return
    # sorted() is stable: each user's lines stay in the order that user heard them.
    for who, what in sorted(heap["heard"], key=lambda item: item[0]):
        print(f"    {who} hears: {what}")
    heap["heard"] = []
    ctx.kernel.yield_("next_step")


def main() -> None:
    kernel = Kernel()
    room = ChatRoom()
    server = TCPServer(
        kernel,
        address="127.0.0.1",
        port=0,  # the system picks a free port: read server.port
        client_connected=room.client_connected,
        client_input=room.client_input,
        client_disconnected=room.client_disconnected,
        inline_states={"send": send},
        stopped=lambda ctx: print("server: stopped"),
    )
    states: dict[str, Any] = {"_start": director_start, "next_step": next_step, "heard": heard}
    Session.create(kernel, inline_states=states, args=(server,))
    kernel.run()


if __name__ == "__main__":
    main()
