"""A terminal chat client: ReadLineWheel for the keyboard, TCPClient for the network.

The client is one session, the :class:`~poe.tcp.TCPClient`'s: its ``started`` callback creates
a :class:`~poe.wheel.ReadLineWheel` in that same session, and the wheel's ``input_event``
(``typed``) is an extra state given with ``inline_states``. So a line typed goes out with
``ctx.heap["server"].put(line)``, and a line from the server is shown with
``ctx.heap["console"].put(line)``: the wheel prints it *above* the prompt, without disturbing
what is being typed, while the kernel keeps serving the network. Ctrl-D (or ``/quit``) leaves.

Three ways to run it:

``tcp_chat_client_readline.py HOST PORT``
    chat with a real line-based server (``tcp_chat_server.py``'s room, or any other).
``tcp_chat_client_readline.py --demo``
    on a terminal: a demo room in the same program, with a bot called bob to talk to.
``tcp_chat_client_readline.py`` (without a terminal, as the test suite runs it)
    a terminal is still needed, so the program starts *itself* with ``--demo`` on a
    pseudo-terminal (:class:`poe.testing.pty.PtyChild`), types a conversation into it like a
    user at the keyboard, and prints what appeared on that screen.

ReadLineWheel runs prompt_toolkit on asyncio: the kernel uses the ``asyncio`` (or ``uvloop``)
backend here, whatever ``POE_EVENT_LOOP`` says.
"""

from __future__ import annotations

import os
import socket
import sys

from poe.kernel import Kernel
from poe.session import Context
from poe.tcp import TCPClient, TCPServer

PROMPT = "chat> "


# -- the client -------------------------------------------------------------------------------
def started(ctx: Context) -> None:
    from poe.wheel.readline import ReadLineWheel  # needs prompt_toolkit: poe-core[readline]

    # put_mode="immediate": a line from the server shows up at once, even mid-typing.
    ctx.heap["console"] = ReadLineWheel(ctx.kernel, input_event="typed", put_mode="immediate")
    ctx.heap["console"].put("* connecting...")


def connected(ctx: Context, sock: socket.socket, address: str, port: int) -> None:
    ctx.heap["console"].put("* connected. Type a line to talk; /quit or Ctrl-D to leave.")
    ctx.heap["console"].get(PROMPT)


def connect_error(ctx: Context, operation: str, errnum: int, errstr: str) -> None:
    ctx.heap["console"].put(f"* cannot connect: {errstr}")
    ctx.heap.pop("console").close()


def server_input(ctx: Context, line: str, wheel_id: int) -> None:
    ctx.heap["console"].put(line)


def typed(ctx: Context, line: str | None, exception: str | None, wheel_id: int) -> None:
    console = ctx.heap["console"]
    if line is None:  # Ctrl-D, Ctrl-C or Ctrl-G: leave politely
        line = "/quit"
    if line:
        console.add_history(line)  # up-arrow recalls it: history is explicit, as in POE
        ctx.heap["server"].put(line)
    console.get(PROMPT)


def disconnected(ctx: Context) -> None:
    console = ctx.heap.pop("console")
    console.put("* disconnected.")
    console.close()  # the prompt goes; nothing is left to run


def chat(kernel: Kernel, host: str, port: int) -> TCPClient:
    return TCPClient(
        kernel,
        remote_address=host,
        remote_port=port,
        started=started,
        connected=connected,
        connect_error=connect_error,
        server_input=server_input,
        disconnected=disconnected,
        inline_states={"typed": typed},
    )


# -- the demo room: a server with a bot ---------------------------------------------------------
def room_connected(ctx: Context) -> None:
    ctx.heap["client"].put("* Welcome to the demo room. bob is here.")
    ctx.kernel.delay("bob_speaks", 0.2, "anyone here?")  # bob talks unprompted, later


def bob_speaks(ctx: Context, line: str) -> None:
    if not ctx.heap["shutdown"]:
        ctx.heap["client"].put(f"<bob> {line}")


def room_input(ctx: Context, line: str) -> None:
    if line == "/quit":
        ctx.heap["client"].put("* Goodbye.")
        ctx.kernel.yield_("shutdown")
        ctx.kernel.post("room", "shutdown")  # the demo room closes with its only guest
    elif "?" in line:
        bob_speaks(ctx, f"good question. {len(line)} characters of it.")
    else:
        bob_speaks(ctx, f"hi! you said {line!r}")


def demo(kernel: Kernel) -> None:
    room = TCPServer(
        kernel,
        address="127.0.0.1",
        alias="room",
        client_connected=room_connected,
        client_input=room_input,
        inline_states={"bob_speaks": bob_speaks},
    )
    assert room.port is not None
    chat(kernel, "127.0.0.1", room.port)


# -- no terminal: play a user at a pseudo-terminal -------------------------------------------
SELF = "import runpy, sys; sys.argv = [sys.argv[1], '--demo']; runpy.run_path(sys.argv[0], run_name='__main__')"

# (what to type, what to wait for on the screen afterwards)
CONVERSATION: list[tuple[bytes, bytes]] = [
    (b"", rb"\* Welcome to the demo room\. bob is here\."),
    (b"", rb"<bob> anyone here\?"),
    (b"hello bob\r", rb"<bob> hi! you said 'hello bob'"),
    (b"is this thing on?\r", rb"<bob> good question\. 17 characters of it\."),
    (b"\x1b[A\x1b[A\r", rb"<bob> hi! you said 'hello bob'"),  # up, up, enter: history
    (b"\x04", rb"\* Goodbye\."),  # Ctrl-D on an empty line
    (b"", rb"\* disconnected\."),
]


def play_a_user() -> None:
    from poe.testing.pty import PtyChild

    names = {b"\r": "Enter", b"\x04": "Ctrl-D", b"\x1b[A": "Up"}
    child = PtyChild(SELF, os.path.abspath(__file__), env={"PROMPT_TOOLKIT_NO_CPR": "1"})
    try:
        for keys, screen in CONVERSATION:
            if keys:
                # Type only at a live prompt: between two prompts the terminal is back in cooked
                # mode, where Ctrl-D would be taken by the terminal itself.
                child.expect(rb"chat>")
                shown = keys
                for raw, name in names.items():
                    shown = shown.replace(raw, f" <{name}>".encode())
                print(f"typed:  {shown.decode().strip()}")
                child.send(keys)
            print(f"screen: {child.expect(screen).group(0).decode()}")
    finally:
        child.close()
    print(f"the client exited with status {child.proc.returncode}")


def main() -> None:
    args = sys.argv[1:]
    interactive = os.isatty(sys.stdin.fileno()) and os.isatty(sys.stdout.fileno())
    if not args and not interactive:
        play_a_user()
        return
    kernel = Kernel(loop="uvloop" if os.environ.get("POE_EVENT_LOOP") == "uvloop" else "asyncio")
    if args in ([], ["--demo"]):
        demo(kernel)
    elif len(args) == 2:
        chat(kernel, args[0], int(args[1]))
    else:
        sys.exit(f"usage: {sys.argv[0]} [--demo | HOST PORT]")
    kernel.run()


if __name__ == "__main__":
    main()
