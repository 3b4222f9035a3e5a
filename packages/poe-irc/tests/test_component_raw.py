"""The component against a scripted raw peer: CAP and SASL exchanges, malformed input.

The peer (the ``raw_peer`` fixture, ``support.RawPeer``) is a real TCP server in the same kernel
(``poe.tcp.TCPServer``) that answers the component's lines with bytes a test chooses, including
ones no real server would send.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from poe.irc import IRC, parse

if TYPE_CHECKING:
    from collections.abc import Callable

    from poe.kernel import Kernel
    from poe.session import Context
    from poe.testing.watchdog import Watchdog
    from support import RawPeer, Recorder

    MakeRecorder = Callable[..., Recorder]
    MakePeer = Callable[[Callable[[RawPeer, Context, str], None]], RawPeer]


def test_cap_negotiation_requests_only_what_is_offered(
    kernel: Kernel, watchdog: Watchdog, recorder: MakeRecorder, raw_peer: MakePeer
) -> None:
    def script(peer: RawPeer, ctx: Context, line: str) -> None:
        msg = parse(line)
        if line == "CAP LS 302":
            # A multi-line LS: "*" before the list means more follows.
            peer.send(ctx, ":raw.test CAP * LS * :multi-prefix sasl=PLAIN,EXTERNAL")
            peer.send(ctx, ":raw.test CAP * LS :server-time away-notify unknown-cap")
        elif msg.command == "CAP" and msg.params[0] == "REQ":
            peer.send(ctx, f":raw.test CAP * ACK :{msg.params[1]}")
        elif line == "CAP END":
            peer.welcome(ctx, "bot")
        elif msg.command == "QUIT":
            peer.send(ctx, "ERROR :Closing link")
            ctx.heap["client"].close()

    peer = raw_peer(script)
    irc = IRC(kernel, nick="bot", port=peer.port, flood=None)
    rec = recorder(irc)
    rec.reactions["irc_001"] = lambda *a: irc.yield_("shutdown", "done")
    rec.reactions["irc_shutdown"] = peer.finisher(watchdog)
    watchdog.run()

    assert peer.received[:4] == [
        "CAP LS 302",
        "NICK bot",
        "USER bot 0 * bot",
        "CAP REQ :away-notify multi-prefix server-time",
    ]
    assert peer.received[4] == "CAP END"
    assert "irc_001" in rec.names()
    assert "irc_disconnected" in rec.names()
    cap_events = rec.args("irc_cap")
    assert [args[2] for args in cap_events] == ["LS", "LS", "ACK"]


def _sasl_script(expect_password: str) -> Callable[[RawPeer, Context, str], None]:
    def script(peer: RawPeer, ctx: Context, line: str) -> None:
        msg = parse(line)
        if line == "CAP LS 302":
            peer.send(ctx, ":raw.test CAP * LS :sasl multi-prefix")
        elif msg.command == "CAP" and msg.params[0] == "REQ":
            peer.send(ctx, f":raw.test CAP * ACK :{msg.params[1]}")
        elif line == "AUTHENTICATE PLAIN":
            peer.send(ctx, "AUTHENTICATE +")
        elif msg.command == "AUTHENTICATE":
            _, account, password = base64.b64decode(msg.params[0]).decode().split("\0")
            if password == expect_password:
                peer.send(ctx, f":raw.test 900 bot bot!u@h {account} :You are now logged in")
                peer.send(ctx, ":raw.test 903 bot :SASL authentication successful")
            else:
                peer.send(ctx, ":raw.test 904 bot :SASL authentication failed")
        elif line == "CAP END":
            peer.welcome(ctx, "bot")
        elif msg.command == "QUIT":
            ctx.heap["client"].close()

    return script


def test_sasl_plain_logs_in_before_registration(
    kernel: Kernel, watchdog: Watchdog, recorder: MakeRecorder, raw_peer: MakePeer
) -> None:
    peer = raw_peer(_sasl_script("s3cret"))
    irc = IRC(kernel, nick="bot", port=peer.port, flood=None, sasl=("acct", "s3cret"))
    rec = recorder(irc)
    caps: list[set[str]] = []

    def welcomed(*args: Any) -> None:
        caps.append(set(irc.caps))
        irc.yield_("shutdown")

    rec.reactions["irc_001"] = welcomed
    rec.reactions["irc_shutdown"] = peer.finisher(watchdog)
    watchdog.run()

    payload = base64.b64encode(b"acct\0acct\0s3cret").decode()
    assert peer.received[3:7] == [
        "CAP REQ :multi-prefix sasl",
        "AUTHENTICATE PLAIN",
        f"AUTHENTICATE {payload}",
        "CAP END",
    ]
    assert caps == [{"multi-prefix", "sasl"}]
    assert "irc_903" in rec.names()
    assert "irc_sasl_failed" not in rec.names()


def test_sasl_failure_registers_anyway_unless_required(
    kernel: Kernel, watchdog: Watchdog, recorder: MakeRecorder, raw_peer: MakePeer
) -> None:
    peer = raw_peer(_sasl_script("right"))
    lenient = IRC(kernel, nick="bot", port=peer.port, flood=None, sasl=("acct", "wrong"))
    rec = recorder(lenient)
    rec.reactions["irc_001"] = lambda *a: lenient.yield_("shutdown")
    rec.reactions["irc_shutdown"] = peer.finisher(watchdog)
    watchdog.run()
    assert rec.args("irc_sasl_failed")[0][0] == "SASL authentication failed (904)"
    assert "irc_001" in rec.names()


def test_sasl_required_quits_on_failure(
    kernel: Kernel, watchdog: Watchdog, recorder: MakeRecorder, raw_peer: MakePeer
) -> None:
    peer = raw_peer(_sasl_script("right"))
    strict = IRC(
        kernel, nick="bot", port=peer.port, flood=None, sasl=("acct", "wrong"), sasl_required=True
    )
    rec = recorder(strict)
    rec.reactions["irc_disconnected"] = lambda *a: strict.yield_("shutdown")
    rec.reactions["irc_shutdown"] = peer.finisher(watchdog)
    watchdog.run()
    assert "irc_001" not in rec.names()
    assert "QUIT :SASL required" in peer.received
    assert "CAP END" not in peer.received


def test_malformed_and_non_utf8_lines_do_not_break_the_connection(
    kernel: Kernel, watchdog: Watchdog, recorder: MakeRecorder, raw_peer: MakePeer
) -> None:
    garbage: list[str | bytes] = [
        ":only-a-prefix",
        "@tag=only",
        b":n!u@h PRIVMSG #c :\xff\xfe latin \xe9t\xe9",
        b"\x00\x01\x02",
        ":n!u@h PRIVMSG #c :" + "x" * 20000,
        ":n!u@h PRIVMSG",
        ":n!u@h KICK",
        ":srv 353",
        "\x01\x01\x01",
        ":n!u@h PRIVMSG #c :\x01\x01",
        ":n!u@h MODE #c +oooooo",
        ":n!u@h PRIVMSG #c :still here",
    ]

    def script(peer: RawPeer, ctx: Context, line: str) -> None:
        if line.startswith("USER"):
            peer.welcome(ctx, "bot")
            peer.send(ctx, *garbage)
        elif line.startswith("QUIT"):
            ctx.heap["client"].close()

    peer = raw_peer(script)
    irc = IRC(kernel, nick="bot", port=peer.port, flood=None, caps=())
    rec = recorder(irc)

    peer.run_until_public(rec, watchdog, "still here")

    malformed = [args[0] for args in rec.args("irc_malformed")]
    # The prefix-only, tags-only, control-character and NUL lines, and the 20 kB one; the
    # PRIVMSG and KICK without their parameters.
    assert len(malformed) == 7
    assert sum("parameter(s), got 0" in m for m in malformed) == 2
    assert sum("not an IRC message" in m for m in malformed) == 3
    assert sum("NUL inside an IRC line" in m for m in malformed) == 1
    assert sum("exceeds maximum line length" in m for m in malformed) == 1
    texts = [args[2] for args in rec.args("irc_public")]
    assert " latin été" in texts[0]
    assert texts[-1] == "still here"
    assert rec.names().count("irc_disconnected") == 1  # only at the end
