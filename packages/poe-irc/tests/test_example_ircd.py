"""The example IRC server (``examples/irc_server.py``), driven by raw blocking sockets.

The server runs in the test's kernel, in the main thread; each scenario runs in a worker thread
with plain sockets (:class:`Raw`), so what is checked is what goes over the wire. When the
scenario ends, a small session notices and shuts the server down, and ``kernel.run()`` returns.
The example is loaded by path: it lives in ``examples/``, not in the package.

``Raw.sync()`` sends ``PING`` and returns everything received before the ``PONG``: the server
handles a connection's lines in order, so that is exactly what the earlier lines caused for this
connection (and an empty list proves that nothing was sent, e.g. no echo of one's own message).
"""

from __future__ import annotations

import importlib.util
import socket
import struct
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poe.irc.message import Message, decode, parse
from poe.session import Context, Session

if TYPE_CHECKING:
    from collections.abc import Callable

    from poe.kernel import Kernel

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "irc_server.py"
TIMEOUT = 5.0


def _load_example() -> Any:
    if not EXAMPLE.is_file():
        pytest.skip(f"{EXAMPLE} is not here (tests run outside the repository)")
    name = "_poe_example_irc_server"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before running it: its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


class Raw:
    """A blocking IRC connection: ``send`` lines (str or raw bytes), read parsed messages."""

    #: Every connection of the running scenario, closed when it ends (even when it fails).
    opened: ClassVar[list[Raw]] = []

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.opened.append(self)
        self.buffer = b""
        self.pings = 0
        self.lines: list[bytes] = []  # every line read, as it came (without CR LF)

    def send(self, *lines: str | bytes) -> None:
        data = b"".join(
            (line if isinstance(line, bytes) else line.encode()) + b"\r\n" for line in lines
        )
        self.sock.sendall(data)

    def read(self) -> Message | None:
        """The next message, or None when the server has closed the connection."""
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk
        raw, _, self.buffer = self.buffer.partition(b"\n")
        self.lines.append(raw.rstrip(b"\r"))
        return parse(decode(raw.rstrip(b"\r")))

    def until(self, command: str) -> list[Message]:
        """Read up to the first ``command``; return the messages read, that one last."""
        seen: list[Message] = []
        while True:
            message = self.read()
            assert message is not None, f"closed before {command}; got {[str(m) for m in seen]}"
            seen.append(message)
            if message.command == command:
                return seen

    def expect(self, command: str) -> Message:
        return self.until(command)[-1]

    def sync(self) -> list[Message]:
        """PING, and return what came before the PONG."""
        self.pings += 1
        token = f"sync{self.pings}"
        self.send(f"PING :{token}")
        *before, pong = self.until("PONG")
        assert pong.params[-1] == token
        return before

    def register(self, nick: str, user: str | None = None) -> list[Message]:
        self.send(f"NICK {nick}", f"USER {user or nick} 0 * :{nick} the tester")
        return self.until("376")

    def eof(self) -> list[Message]:
        """Read until the server closes the connection; return what came first."""
        seen = []
        while (message := self.read()) is not None:
            seen.append(message)
        return seen

    def close(self) -> None:
        self.sock.close()

    def reset(self) -> None:
        """Close with a TCP reset (SO_LINGER 0) instead of an end of file."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


def commands(messages: list[Message]) -> list[str]:
    return [message.command for message in messages]


def run(kernel: Kernel, scenario: Callable[[int], None]) -> tuple[Any, list[tuple[str, ...]]]:
    """Start the example server, run ``scenario(port)`` in a thread, then stop the server.

    Returns the server and the ``on_event`` calls it made. Re-raises the scenario's failure.
    """
    example = _load_example()
    events: list[tuple[str, ...]] = []
    server = example.start_server(kernel, on_event=lambda *args: events.append(args))
    port = server.port
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            scenario(port)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            failures.append(exc)
        finally:
            while Raw.opened:
                Raw.opened.pop().close()

    thread = threading.Thread(target=worker, daemon=True)

    def poll(ctx: Context) -> None:
        if thread.is_alive():
            ctx.kernel.delay("poll", 0.01)
        else:
            server.shutdown()

    def start(ctx: Context) -> None:
        thread.start()
        poll(ctx)

    Session.create(kernel, inline_states={"_start": start, "poll": poll})
    kernel.run()
    thread.join(TIMEOUT)
    if failures:
        raise failures[0]
    return server, events


def test_registration(kernel: Kernel) -> None:
    def scenario(port: int) -> None:
        alice = Raw(port)
        alice.send("JOIN #poe", "PASS secret", "CAP LS 302", "NICK 1bad", "NICK", "CAP END")
        early = alice.sync()
        assert [(m.command, m.params[0]) for m in early] == [
            ("451", "*"),
            ("CAP", "*"),
            ("432", "*"),
            ("431", "*"),
        ]
        assert early[2].params[1] == "1bad"
        welcome = alice.register("alice")
        assert commands(welcome) == ["001", "002", "003", "004", "005", "375", "372", "372", "376"]
        assert all(m.source == "irc.poe.test" and m.params[0] == "alice" for m in welcome)
        assert welcome[0].params[-1].endswith(" alice!alice@localhost")
        isupport = welcome[4].params[1:-1]
        for token in (
            "PREFIX=(ov)@+",
            "CHANTYPES=#",
            "CHANMODES=b,k,l,imnst",
            "CASEMAPPING=rfc1459",
            "NICKLEN=30",
            "NETWORK=PoeNet",
        ):
            assert token in isupport
        alice.send("FROB x", "JOIN", "USER again 0 * :x", "MODE alice", "MODE alice +i")
        later = alice.sync()
        assert [(m.command, *m.params[:2]) for m in later] == [
            ("421", "alice", "FROB"),
            ("461", "alice", "JOIN"),
            ("462", "alice", "You may not reregister"),
            ("221", "alice", "+"),
            ("MODE", "alice", "+i"),
        ]

        # 433, with RFC 1459 case folding: ALICE is alice, {x} is [X].
        bob = Raw(port)
        bob.send("NICK ALICE", "USER bob 0 * :Bob")
        assert commands(bob.sync()) == ["433"]
        bob.send("NICK [X]")
        assert bob.until("376")[0].params[0] == "[X]"
        alice.send("NICK {x}")
        refused = alice.sync()
        assert [(m.command, m.params[1]) for m in refused] == [("433", "{x}")]
        bob.send("NICK {x}")  # a change of case of one's own nick is fine
        assert [str(m) for m in bob.sync()] == [":[X]!bob@localhost NICK {x}"]
        alice.close()
        bob.close()

    _, events = run(kernel, scenario)
    assert ("register", "alice") in events
    assert ("register", "[X]") in events


def test_channel_messages(kernel: Kernel) -> None:
    def scenario(port: int) -> None:
        alice, bob, carol = Raw(port), Raw(port), Raw(port)
        for raw, nick in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
            raw.register(nick)
        alice.send("JOIN #poe")
        joined = alice.sync()
        assert [str(m) for m in joined] == [
            ":alice!alice@localhost JOIN #poe",
            ":irc.poe.test 353 alice = #poe @alice",
            ":irc.poe.test 366 alice #poe :End of /NAMES list.",
        ]
        bob.send("JOIN #POE")
        assert [m.params[-1] for m in bob.sync() if m.command == "353"] == ["@alice bob"]
        assert str(alice.expect("JOIN")) == ":bob!bob@localhost JOIN #poe"

        alice.send("PRIVMSG #poe :hello, channel", "NOTICE #poe :a notice")
        assert alice.sync() == []  # not echoed to the sender
        heard = bob.sync()
        assert [str(m) for m in heard] == [
            ":alice!alice@localhost PRIVMSG #poe :hello, channel",
            ":alice!alice@localhost NOTICE #poe :a notice",
        ]
        assert carol.sync() == []  # not on the channel

        alice.send("PRIVMSG BOB :psst", "PRIVMSG nobody :hi", "NOTICE nobody :hi")
        assert [(m.command, *m.params[:2]) for m in alice.sync()] == [
            ("401", "alice", "nobody")  # a NOTICE gets no error back
        ]
        assert [str(m) for m in bob.sync()] == [":alice!alice@localhost PRIVMSG bob psst"]

        carol.send("PRIVMSG #poe :let me in", "PRIVMSG #nowhere :x", "PRIVMSG bob", "PRIVMSG")
        assert [(m.command, m.params[1]) for m in carol.sync()] == [
            ("404", "#poe"),
            ("401", "#nowhere"),
            ("412", "No text to send"),
            ("411", "No recipient given (PRIVMSG)"),
        ]

        bob.send("PART #poe :bye now")
        assert str(alice.expect("PART")) == ":bob!bob@localhost PART #poe :bye now"
        bob.send("PRIVMSG #poe :still there?")
        assert commands(bob.sync()) == ["PART", "404"]
        for raw in (alice, bob, carol):
            raw.close()

    _, events = run(kernel, scenario)
    assert ("privmsg", "alice", "#poe", "hello, channel") in events
    assert ("join", "bob", "#poe") in events


def test_kick_nick_and_whois(kernel: Kernel) -> None:
    def scenario(port: int) -> None:
        alice, bob, carol = Raw(port), Raw(port), Raw(port)
        for raw, nick in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
            raw.register(nick)
        alice.send("JOIN #poe")
        alice.sync()
        bob.send("JOIN #poe")
        bob.sync()
        alice.sync()

        bob.send("KICK #poe alice :my channel now")
        assert [(m.command, m.params[1]) for m in bob.sync()] == [("482", "#poe")]
        carol.send("KICK #poe bob")
        assert [(m.command, m.params[1]) for m in carol.sync()] == [("442", "#poe")]
        assert alice.sync() == []

        bob.send("NICK robert")
        nick = ":bob!bob@localhost NICK robert"
        assert [str(m) for m in bob.sync()] == [nick]
        assert [str(m) for m in alice.sync()] == [nick]
        assert carol.sync() == []  # shares no channel with bob

        carol.send("WHOIS ROBERT", "WHOIS bob")
        whois = carol.sync()
        assert [str(m) for m in whois] == [
            ":irc.poe.test 311 carol robert bob localhost * :bob the tester",
            ":irc.poe.test 319 carol robert #poe",
            ":irc.poe.test 312 carol robert irc.poe.test :a poe.tcp example",
            ":irc.poe.test 318 carol ROBERT :End of /WHOIS list.",
            ":irc.poe.test 401 carol bob :No such nick/channel",
            ":irc.poe.test 318 carol bob :End of /WHOIS list.",
        ]

        alice.send("KICK #poe robert :out")
        kick = ":alice!alice@localhost KICK #poe robert out"
        assert [str(m) for m in alice.sync()] == [kick]
        assert [str(m) for m in bob.sync()] == [kick]
        alice.send("NAMES #poe")
        assert [m.params[-1] for m in alice.sync() if m.command == "353"] == ["@alice"]
        for raw in (alice, bob, carol):
            raw.close()

    _, events = run(kernel, scenario)
    assert ("nick", "bob", "robert") in events
    assert ("kick", "alice", "#poe", "robert", "out") in events


def test_quit_and_abrupt_disconnect(kernel: Kernel) -> None:
    def scenario(port: int) -> None:
        alice, bob, carol = Raw(port), Raw(port), Raw(port)
        for raw, nick in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
            raw.register(nick)
            raw.send("JOIN #poe")
            raw.sync()
        alice.sync()
        bob.sync()

        bob.send("QUIT :see you")
        assert [str(m) for m in bob.eof()] == ["ERROR :Closing Link: localhost (Quit: see you)"]
        assert str(alice.expect("QUIT")) == ":bob!bob@localhost QUIT :Quit: see you"

        assert commands(carol.sync()) == ["QUIT"]  # bob's
        carol.close()  # no QUIT: the server reads an end of file
        assert str(alice.expect("QUIT")) == ":carol!carol@localhost QUIT :Connection closed"
        erin = Raw(port)
        erin.register("erin")
        erin.send("JOIN #poe")
        erin.sync()
        assert str(alice.expect("JOIN")) == ":erin!erin@localhost JOIN #poe"
        erin.reset()  # no QUIT either: the server gets ECONNRESET
        assert str(alice.expect("QUIT")) == ":erin!erin@localhost QUIT :Connection closed"
        alice.send("NAMES #poe")
        assert [m.params[-1] for m in alice.sync() if m.command == "353"] == ["@alice"]

        dave = Raw(port)  # the nicks are free again
        assert dave.register("carol")[0].command == "001"
        dave.close()
        alice.send("QUIT")
        assert commands(alice.eof()) == ["ERROR"]

    server, events = run(kernel, scenario)
    assert ("quit", "carol", "Connection closed") in events
    assert ("quit", "bob", "Quit: see you") in events
    assert ("quit", "erin", "Connection closed") in events
    assert server.clients == {}


def test_bad_input_keeps_the_connection(kernel: Kernel) -> None:
    def scenario(port: int) -> None:
        alice, bob = Raw(port), Raw(port)
        for raw, nick in ((alice, "alice"), (bob, "bob")):
            raw.register(nick)
            raw.send("JOIN #poe")
            raw.sync()
        alice.sync()

        alice.send(
            b"PRIVMSG #poe :caf\xe9 cr\xe8me",  # Latin-1, not UTF-8
            b":only-a-prefix",  # no command: the filter refuses it (EINVAL)
            b"123abc garbage",  # not a command either
            b"\xff\xfe\xfd",
            b"PRIVMSG #poe :nul\x00here",  # NUL: the filter refuses the whole line (EINVAL)
            b"   ",
            b"PRIVMSG #poe :still fine",
        )
        assert alice.sync() == []
        assert [m.params[-1] for m in bob.sync()] == ["café crème", "still fine"]

        # A line longer than the filter allows: ERROR, and only that connection is closed.
        alice.send(b"PRIVMSG #poe :" + b"x" * 10_000)
        assert [str(m) for m in alice.eof()] == ["ERROR :Closing Link: localhost (Line too long)"]
        assert str(bob.expect("QUIT")) == ":alice!alice@localhost QUIT :Line too long"
        assert bob.sync() == []
        carol = Raw(port)  # the server goes on
        assert carol.register("carol")[0].command == "001"
        carol.close()
        bob.close()

    run(kernel, scenario)


def test_channel_modes(kernel: Kernel) -> None:
    def scenario(port: int) -> None:
        alice, bob = Raw(port), Raw(port)
        alice.register("alice")
        bob.register("bob")
        alice.send("JOIN #poe", "MODE #poe +kl sesame 5")
        assert str(alice.sync()[-1]) == ":alice!alice@localhost MODE #poe +kl sesame 5"
        alice.send("MODE #poe")
        assert alice.sync()[0].params[1:] == ("#poe", "+ntkl", "sesame", "5")

        bob.send("JOIN #poe", "JOIN #poe wrong", "JOIN #poe sesame")
        replies = bob.sync()
        assert [(m.command, m.params[1]) for m in replies[:2]] == [("475", "#poe"), ("475", "#poe")]
        assert str(replies[2]) == ":bob!bob@localhost JOIN #poe"
        bob.send("TOPIC #poe :mine", "MODE #poe -k sesame")
        assert [(m.command, m.params[1]) for m in bob.sync()] == [("482", "#poe"), ("482", "#poe")]

        alice.sync()
        alice.send("MODE #poe +m-k+v sesame bob", "MODE #poe +o nobody", "MODE #poe +z")
        assert [str(m) for m in alice.sync()] == [
            ":alice!alice@localhost MODE #poe +m-k+v sesame bob",
            ":irc.poe.test 441 alice nobody #poe :They aren't on that channel",
            ":irc.poe.test 472 alice z :is unknown mode char to me",
        ]
        bob.send("PRIVMSG #poe :voiced, so I may speak")
        assert commands(bob.sync()) == ["MODE"]
        assert alice.sync()[0].params[-1] == "voiced, so I may speak"
        alice.send("MODE #poe -v bob")
        alice.sync()
        bob.send("PRIVMSG #poe :and now?")
        assert commands(bob.sync()) == ["MODE", "404"]

        alice.send("MODE #poe +b bob", "KICK #poe bob")
        alice.sync()
        bob.send("JOIN #poe")
        assert [(m.command, m.params[-2]) for m in bob.sync()][-1] == ("474", "#poe")
        alice.send("MODE #poe b")
        assert [m.params[2] for m in alice.sync() if m.command == "367"] == ["bob!*@*"]
        alice.close()
        bob.close()

    run(kernel, scenario)


def test_queries(kernel: Kernel) -> None:
    def scenario(port: int) -> None:
        alice, bob = Raw(port), Raw(port)
        alice.register("alice")
        bob.register("bob")
        alice.send("JOIN #poe", "TOPIC #poe :the topic", "JOIN #other")
        alice.sync()
        bob.send("AWAY :lunch", "ISON alice nobody bob", "USERHOST alice bob")
        assert [(m.command, m.params[-1]) for m in bob.sync()] == [
            ("306", "You have been marked as being away"),
            ("303", "alice bob"),
            ("302", "alice=+alice@localhost bob=-bob@localhost"),
        ]
        alice.send("PRIVMSG bob :are you there?", "LIST", "WHO #poe", "TOPIC #poe")
        assert [str(m) for m in alice.sync()] == [
            ":irc.poe.test 301 alice bob lunch",
            ":irc.poe.test 322 alice #poe 1 :the topic",
            ":irc.poe.test 322 alice #other 1 :",
            ":irc.poe.test 323 alice :End of /LIST",
            ":irc.poe.test 352 alice #poe alice localhost irc.poe.test alice H@ :0 alice the tester",
            ":irc.poe.test 315 alice #poe :End of /WHO list.",
            ":irc.poe.test 332 alice #poe :the topic",
        ]
        bob.send("AWAY")
        assert [m.command for m in bob.sync()] == ["PRIVMSG", "305"]
        alice.close()
        bob.close()

    run(kernel, scenario)


# -- safe by default under attack (issue #11) ------------------------------------------------


def test_cap_negotiation_offers_nothing_and_holds_registration(kernel: Kernel) -> None:
    def scenario(port: int) -> None:
        alice = Raw(port)
        # What irssi sends: it waits for the answer to CAP LS before it ends the negotiation.
        alice.send("CAP LS 302", "NICK alice", "USER alice 0 * :Alice")
        assert [str(m) for m in alice.sync()] == [":irc.poe.test CAP * LS :"]
        alice.send("CAP LIST", "CAP REQ :multi-prefix sasl", "CAP FROB", "CAP")
        assert [str(m) for m in alice.sync()] == [
            ":irc.poe.test CAP * LIST :",
            ":irc.poe.test CAP * NAK :multi-prefix sasl",
            ":irc.poe.test 410 alice FROB :Invalid CAP command",
            ":irc.poe.test 461 alice CAP :Not enough parameters",
        ]  # NICK and USER are in, but no 001 until CAP END
        alice.send("CAP END")
        assert commands(alice.until("376"))[0] == "001"
        alice.send("CAP LS", "CAP END", "CAP REQ :x")
        assert [str(m) for m in alice.sync()] == [
            ":irc.poe.test CAP alice LS :",
            ":irc.poe.test CAP alice NAK x",
        ]

        # CAP END alone (or before NICK and USER) holds nothing up.
        bob = Raw(port)
        bob.send("CAP END", "NICK bob", "USER bob 0 * :Bob")
        assert commands(bob.until("376"))[0] == "001"

    _, events = run(kernel, scenario)
    assert [e for e in events if e[0] == "register"] == [("register", "alice"), ("register", "bob")]


def test_numbers_are_ascii_digits(kernel: Kernel) -> None:
    def scenario(port: int) -> None:
        alice = Raw(port)
        alice.register("alice")
        alice.send("JOIN #poe")
        alice.sync()
        # "²".isdigit() is True but int("²") fails; int("٣") is 3: neither is a limit here.
        for junk in ("²", "٣", "¹²", "-1", "+5", " 5", "0", "5x", "1234567890", "\uff11\uff12"):
            alice.send(f"MODE #poe +l :{junk}")
        assert alice.sync() == []
        alice.send("MODE #poe +l 0007", "MODE #poe")
        assert [str(m) for m in alice.sync()] == [
            ":alice!alice@localhost MODE #poe +l 7",
            ":irc.poe.test 324 alice #poe +ntl 7",
        ]
        alice.send("MODE #poe -l", "MODE #poe +k :" + "k" * 24, "MODE #poe +k " + "k" * 23)
        assert [str(m) for m in alice.sync()] == [
            ":alice!alice@localhost MODE #poe -l",
            ":alice!alice@localhost MODE #poe +k " + "k" * 23,
        ]

    run(kernel, scenario)


def test_no_line_over_512_bytes(kernel: Kernel) -> None:
    def scenario(port: int) -> None:
        alice, bob = Raw(port), Raw(port)
        nick = "a" * 30  # the longest nick, for the longest prefix
        alice.register(nick, "u" * 10)
        bob.register("bob")
        for raw in (alice, bob):
            raw.send("JOIN #poe")
            raw.sync()
        alice.sync()

        # 512 bytes with CR LF is the most a client may send; relayed with alice's prefix it
        # would be 553. The text is cut, on a character boundary (each "é" is two bytes).
        text = "é" * 247 + "xx"
        line = f"PRIVMSG #poe :{text}"
        assert len(line.encode()) + 2 == 512
        kick = f"KICK #poe bob :{text[:-1]}"  # KICK is one byte longer
        alice.send(line, f"PRIVMSG bob :{text}", f"TOPIC #poe :{text}", kick)
        alice.sync()
        heard = bob.until("KICK")
        bob.send("JOIN #poe")
        bob.sync()
        alice.send(f"PART #poe :{text}")
        alice.sync()
        heard.append(bob.expect("PART"))
        assert [m.command for m in heard] == ["PRIVMSG", "PRIVMSG", "TOPIC", "KICK", "PART"]
        for message in heard:
            assert text.startswith(message.params[-1])
            assert len(message.params[-1]) < len(text)

        # One byte more is refused (417); the connection goes on.
        alice.send(line + "x", "PRIVMSG #poe :" + "x" * 5000, f"WHOIS {'n' * 480}")
        replies = alice.sync()
        assert [(m.command, m.params[-1]) for m in replies[:2]] == [
            ("417", "Input line was too long"),
            ("417", "Input line was too long"),
        ]
        assert [str(m) for m in replies[2:]] == [
            f":irc.poe.test 401 {nick} * :No such nick/channel",  # the 480 bytes are not echoed
            f":irc.poe.test 318 {nick} * :End of /WHOIS list.",
        ]
        alice.send("JOIN #poe", f"QUIT :{'q' * 490}")
        assert commands(alice.eof())[-1] == "ERROR"  # "Closing Link: ... (Quit: qqq", cut
        assert len(bob.expect("QUIT").params[-1]) < len("Quit: ") + 490
        bob.sync()
        for raw in (alice, bob):
            for received in raw.lines:
                received.decode("utf-8")  # strict: no cut went through a character
                assert len(received) + 2 <= 512, received[:60]

    run(kernel, scenario)


_FUZZ_COMMANDS = [
    *("CAP", "NICK", "USER", "PING", "PONG", "JOIN", "PART", "PRIVMSG", "NOTICE", "TOPIC"),
    *("NAMES", "MODE", "KICK", "INVITE", "WHOIS", "WHO", "LIST", "ISON", "USERHOST", "AWAY"),
    *("MOTD", "FROB", "001"),
]
_FUZZ_WORDS = st.one_of(
    st.sampled_from(
        [
            *("#poe", "#p", "alice", "fuzz", "*", "0", "+l", "+k", "+b", "-l", "+ov", "-k+l"),
            *("+imnst", "²", "٣", "5", "LS", "302", "REQ", "END", "LIST", "#poe,#x", ","),
        ]
    ),
    st.text(
        st.characters(min_codepoint=33, max_codepoint=0x10FFFF, codec="utf-8"),
        min_size=1,
        max_size=8,
    ).filter(lambda word: not word.startswith(":")),
)
_FUZZ_TEXT = st.one_of(
    st.sampled_from(["", " ", "x" * 500, "é" * 300, "\x01ACTION waves\x01"]),
    st.text(
        st.characters(
            min_codepoint=1,
            max_codepoint=0x10FFFF,
            codec="utf-8",
            exclude_characters="\r\n",
        ),
        max_size=40,
    ),
)


@st.composite
def _client_lines(draw: st.DrawFn) -> str:
    words = " ".join(draw(st.lists(_FUZZ_WORDS, max_size=4)))
    trailing = draw(st.none() | _FUZZ_TEXT)
    line = f"{draw(st.sampled_from(_FUZZ_COMMANDS))} {words}"
    return line if trailing is None else f"{line} :{trailing}"


def test_any_client_lines_get_short_valid_answers(kernel: Kernel) -> None:
    def scenario(port: int) -> None:
        alice = Raw(port)
        alice.register("alice")
        alice.send("JOIN #poe")
        alice.sync()

        @settings(max_examples=60, deadline=None, database=None)
        @given(st.lists(_client_lines(), min_size=1, max_size=12))
        def example(lines: list[str]) -> None:
            fuzz = Raw(port)
            try:
                fuzz.send("NICK fuzz", "USER fuzz 0 * :Fuzz", "JOIN #poe", *lines, "QUIT")
                fuzz.eof()  # the server handled every line and closed the connection
                for received in fuzz.lines:
                    received.decode("utf-8")
                    assert len(received) + 2 <= 512, received[:60]
            finally:
                fuzz.close()
                Raw.opened.remove(fuzz)

        example()
        # The server lived through it all, and what alice was sent is as valid.
        assert commands(alice.sync()).count("PONG") == 0
        for received in alice.lines:
            received.decode("utf-8")
            assert len(received) + 2 <= 512, received[:60]

    run(kernel, scenario)


def test_sendq_exceeded_drops_a_member_that_stops_reading(kernel: Kernel) -> None:
    def scenario(port: int) -> None:
        alice, bob = Raw(port), Raw(port)
        bob.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        alice.register("alice")
        bob.register("bob")
        alice.send("JOIN #c")
        alice.sync()
        bob.send("JOIN #c")
        bob.sync()
        alice.expect("JOIN")  # bob's
        # bob reads no more: 4 MB for him, four times the example's SendQ.
        line = "PRIVMSG #c :" + "x" * 400
        for _ in range(100):
            alice.send(*[line] * 100)
        quit_ = alice.expect("QUIT")
        assert (quit_.source or "").startswith("bob!")
        assert quit_.params == ("SendQ exceeded",)
        assert [str(m) for m in alice.sync()] == []  # alice is still served
        alice.close()
        bob.close()

    run(kernel, scenario)
