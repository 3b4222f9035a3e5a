"""The IRC component against real servers: ngIRCd, InspIRCd (IRCv3), InspIRCd + Atheme (SASL)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from poe.irc import IRC, FloodControl, Message
from poe.testing.watchdog import Watchdog

if TYPE_CHECKING:
    import ssl
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from ircd import InspIRCd, InspIRCdServices, IRCServer, NgIRCd, RawClient
    from poe.kernel import Kernel
    from support import Recorder

    MakeRecorder = Callable[..., Recorder]
    MakeRaw = Callable[..., AbstractContextManager[RawClient]]


def _irc(kernel: Kernel, server: IRCServer, nick: str, **options: Any) -> IRC:
    options.setdefault("flood", None)  # the suite's servers do not throttle (penalties off)
    return IRC(kernel, nick=nick, server=server.host, port=server.port, **options)


def test_two_bots_talk_through_the_server(
    kernel: Kernel, ngircd: NgIRCd, recorder: MakeRecorder
) -> None:
    watchdog = Watchdog(kernel)
    alice = _irc(kernel, ngircd, "alice")
    bob = _irc(kernel, ngircd, "bob")
    a = recorder(alice)
    b = recorder(bob)
    a.reactions["irc_001"] = lambda *args: alice.yield_("join", "#poe")

    @a.on("irc_join")
    def alice_sees_join(who: str, channel: str, msg: Message) -> None:
        if msg.nick == "alice":
            bob.yield_("join", "#poe")
        elif msg.nick == "bob":
            alice.yield_("privmsg", "#poe", "hello bob")

    @b.on("irc_public")
    def bob_hears(who: str, where: list[str], text: str, msg: Message) -> None:
        bob.yield_("privmsg", "alice", "hi alice, in private")

    @a.on("irc_msg")
    def alice_gets_private(who: str, to: list[str], text: str, msg: Message) -> None:
        alice.yield_("notice", "bob", "noted")

    @b.on("irc_notice")
    def bob_gets_notice(who: str, to: list[str], text: str, msg: Message) -> None:
        bob.yield_("ctcp", "#poe", "ACTION waves")

    @a.on("irc_ctcp_action")
    def alice_sees_action(who: str, where: list[str], text: str, msg: Message) -> None:
        bob.yield_("nick", "bobby")

    @a.on("irc_nick")
    def alice_sees_nick(who: str, new: str, msg: Message) -> None:
        bob.yield_("part", "#poe", "see you")

    @a.on("irc_part")
    def alice_sees_part(who: str, channel: str, reason: str, msg: Message) -> None:
        bob.yield_("shutdown", "bye now")

    @a.on("irc_disconnected")
    def alice_quit(server: str, msg: None) -> None:
        alice.yield_("shutdown")  # after a plain quit, the component could connect again

    b.reactions["irc_shutdown"] = lambda *args: alice.yield_("quit", "last one out")
    a.reactions["irc_shutdown"] = lambda *args: watchdog.done()
    watchdog.run()

    assert a.args("irc_public") == []  # a channel message is not echoed to its sender
    (public,) = b.args("irc_public")
    assert public[0].startswith("alice!")
    assert public[1:3] == (["#poe"], "hello bob")
    assert isinstance(public[3], Message)
    (private,) = a.args("irc_msg")
    assert private[1:3] == (["alice"], "hi alice, in private")
    assert b.args("irc_notice")[0][1:3] == (["bob"], "noted")
    assert a.args("irc_ctcp_action")[0][1:3] == (["#poe"], "waves")
    assert a.args("irc_nick")[0][1] == "bobby"
    assert bob.nick_name() == "bobby"
    assert a.args("irc_part")[0][1:3] == ("#poe", "see you")
    assert b.args("irc_error")[0][0].endswith('"bye now"')  # ngIRCd quotes the reason
    # Registration, then the component's own lifecycle events, in order.
    names = a.names()
    assert names[:3] == ["irc_registered", "irc_connected", "irc_cap"]
    assert names.index("irc_001") < names.index("irc_005") < names.index("irc_376")
    assert names[-3:] == ["irc_disconnected", "irc_shutdown", "_stop"]
    assert alice.caps == set()  # reset on disconnect
    assert not alice.connected


def test_isupport_and_multi_prefix_from_ngircd(
    kernel: Kernel, ngircd: NgIRCd, recorder: MakeRecorder
) -> None:
    watchdog = Watchdog(kernel)
    bot = _irc(kernel, ngircd, "bot")
    rec = recorder(bot)
    seen: dict[str, Any] = {}

    @rec.on("irc_376")
    def registered(*args: Any) -> None:
        seen["caps"] = set(bot.caps)
        seen["casemapping"] = bot.isupport.casemapping
        seen["network_chantypes"] = bot.isupport.chantypes
        bot.yield_("shutdown")

    rec.reactions["irc_shutdown"] = lambda *args: watchdog.done()
    watchdog.run()
    assert seen["caps"] == {"multi-prefix"}  # all ngIRCd 26 offers of what we ask for
    assert seen["casemapping"] == "ascii"
    assert seen["network_chantypes"] == "#&+"


def test_a_burst_of_500_lines_arrives_whole_and_in_order(
    kernel: Kernel, ngircd: NgIRCd, recorder: MakeRecorder
) -> None:
    watchdog = Watchdog(kernel, 30)
    lines = [f"line {i:03} " + "é" * (i % 50 + 1) for i in range(500)]
    alice = _irc(kernel, ngircd, "alice")
    bob = _irc(kernel, ngircd, "bob")
    a = recorder(alice)
    b = recorder(bob)
    received: list[str] = []
    a.reactions["irc_001"] = lambda *args: alice.yield_("join", "#burst")
    b.reactions["irc_001"] = lambda *args: bob.yield_("join", "#burst")

    @a.on("irc_join")
    def go(who: str, channel: str, msg: Message) -> None:
        if msg.nick == "bob":
            for line in lines:
                bob.yield_("privmsg", "#burst", line)

    @a.on("irc_public")
    def got(who: str, where: list[str], text: str, msg: Message) -> None:
        received.append(text)
        if len(received) == len(lines):
            alice.yield_("shutdown")
            bob.yield_("shutdown")

    a.reactions["irc_shutdown"] = lambda *args: watchdog.done()
    try:
        watchdog.run()
    finally:
        print(
            "RECEIVED",
            len(received),
            [(n, str(x[:2])[:200]) for n, x in a.events if n[4:5].isalpha() and n != "irc_public"][
                -8:
            ],
        )
    assert received == lines


def test_flood_control_paces_what_is_sent(
    kernel: Kernel, ngircd_penalties: NgIRCd, recorder: MakeRecorder
) -> None:
    """The bucket lets the first lines go, queues the rest, and loses none of them."""
    watchdog = Watchdog(kernel, 30)
    # Small numbers keep the test short: 0.25 s a line, 0.5 s of burst.
    flood = FloodControl(burst=0.5, penalty=0.25, bytes_per_second=1e9)
    alice = _irc(kernel, ngircd_penalties, "alice")
    bob = _irc(kernel, ngircd_penalties, "bob", flood=flood)
    a = recorder(alice)
    b = recorder(bob)
    queued: list[int] = []
    received: list[str] = []
    a.reactions["irc_001"] = lambda *args: alice.yield_("join", "#flood")
    b.reactions["irc_001"] = lambda *args: bob.yield_("join", "#flood")

    @a.on("irc_join")
    def go(who: str, channel: str, msg: Message) -> None:
        if msg.nick == "bob":
            for i in range(8):
                bob.call("privmsg", "#flood", f"message {i}")
            queued.append(bob.send_queue)

    @a.on("irc_public")
    def got(who: str, where: list[str], text: str, msg: Message) -> None:
        received.append(text)
        if len(received) == 8:
            alice.yield_("shutdown")
            bob.yield_("shutdown")

    a.reactions["irc_shutdown"] = lambda *args: watchdog.done()
    watchdog.run()
    # The JOIN spent one line of the bucket: 0.25 s; two more fit in the 0.5 s of burst.
    assert queued[0] in (5, 6)  # 6 if the JOIN's charge has not drained a little yet
    assert received == [f"message {i}" for i in range(8)]
    assert "irc_disconnected" in b.names()
    assert b.names().count("irc_disconnected") == 1  # only at shutdown


def test_flood_control_keeps_the_bot_from_being_killed_for_flooding(
    kernel: Kernel, inspircd_strict: InspIRCd, recorder: MakeRecorder
) -> None:
    """Against a server that kills at 10 commands ahead: a bot without flood control is
    disconnected for "Excess Flood"; one whose bucket matches the server's rule is not."""
    watchdog = Watchdog(kernel, 30)
    # The server drains a point a second; three of burst leave room for registration's.
    rule = FloodControl(burst=3.0, penalty=1.0, bytes_per_second=1e9)
    listener = _irc(kernel, inspircd_strict, "listener")
    polite = _irc(kernel, inspircd_strict, "polite", flood=rule)
    rude = _irc(kernel, inspircd_strict, "rude")  # flood=None: everything at once
    ears = recorder(listener)
    p = recorder(polite)
    r = recorder(rude)
    for irc, rec in ((listener, ears), (polite, p), (rude, r)):
        rec.reactions["irc_001"] = lambda *args, irc=irc: irc.yield_("join", "#flood")
    joined: set[str] = set()
    heard: list[str] = []
    quits: list[str] = []

    @ears.on("irc_join")
    def arrived(who: str, channel: str, msg: Message) -> None:
        joined.add(str(msg.nick))
        if joined == {"listener", "polite", "rude"}:
            for i in range(8):
                polite.yield_("privmsg", "#flood", f"polite {i}")
            for i in range(20):
                rude.yield_("privmsg", "#flood", f"rude {i}")

    def finish_when_done() -> None:
        if len([h for h in heard if h.startswith("polite")]) == 8 and quits:
            for irc in (listener, polite, rude):
                irc.yield_("shutdown")

    @ears.on("irc_public")
    def got(who: str, where: list[str], text: str, msg: Message) -> None:
        heard.append(text)
        finish_when_done()

    @ears.on("irc_quit")
    def quit_(who: str, reason: str, msg: Message) -> None:
        quits.append(f"{msg.nick}: {reason}")
        finish_when_done()

    ears.reactions["irc_shutdown"] = lambda *args: watchdog.done()
    watchdog.run()
    assert quits == ["rude: Excess Flood"]
    assert [h for h in heard if h.startswith("polite")] == [f"polite {i}" for i in range(8)]
    assert len([h for h in heard if h.startswith("rude")]) < 20  # cut off by the kill
    assert p.names().count("irc_disconnected") == 1  # only at its shutdown
    assert "irc_error" in r.names()


def test_shutdown_sends_what_flood_control_holds_before_quit(
    kernel: Kernel, ngircd: NgIRCd, recorder: MakeRecorder
) -> None:
    watchdog = Watchdog(kernel)
    alice = _irc(kernel, ngircd, "alice")
    bob = _irc(kernel, ngircd, "bob", flood=FloodControl())  # the default pacing
    a = recorder(alice)
    b = recorder(bob)
    queued: list[int] = []
    a.reactions["irc_001"] = lambda *args: alice.yield_("join", "#bye")
    b.reactions["irc_001"] = lambda *args: bob.yield_("join", "#bye")

    @a.on("irc_join")
    def go(who: str, channel: str, msg: Message) -> None:
        if msg.nick == "bob":
            for i in range(10):
                bob.call("privmsg", "#bye", f"last words {i}")
            queued.append(bob.send_queue)
            bob.yield_("shutdown", "that is all")

    @a.on("irc_quit")
    def gone(who: str, reason: str, msg: Message) -> None:
        alice.yield_("shutdown")

    a.reactions["irc_shutdown"] = lambda *args: watchdog.done()
    watchdog.run()
    assert queued[0] > 0  # flood control was holding lines back
    said = [args[2] for args in a.args("irc_public")]
    assert said == [f"last words {i}" for i in range(10)]  # all before the QUIT
    assert "that is all" in a.args("irc_quit")[0][1]


def test_non_utf8_text_relayed_by_the_server_is_decoded(
    kernel: Kernel, ngircd: NgIRCd, recorder: MakeRecorder, raw_client: MakeRaw
) -> None:
    watchdog = Watchdog(kernel)
    bot = _irc(kernel, ngircd, "bot")
    rec = recorder(bot)
    texts: list[str] = []
    with raw_client(ngircd) as raw:
        raw.register("legacy")

        @rec.on("irc_001")
        def welcomed(*args: Any) -> None:
            raw.sock.sendall(b"PRIVMSG bot :caf\xe9 cr\xe8me \x93quoted\x94\r\n")
            raw.sock.sendall("PRIVMSG bot :utf-8 café 🐍\r\n".encode())
            raw.sock.sendall(b"PRIVMSG bot :\xff\xfe end\r\n")  # ngIRCd drops NUL lines

        @rec.on("irc_msg")
        def got(who: str, to: list[str], text: str, msg: Message) -> None:
            texts.append(text)
            if len(texts) == 3:
                bot.yield_("shutdown")

        rec.reactions["irc_shutdown"] = lambda *args: watchdog.done()
        watchdog.run()
    assert texts[0] == "café crème \u201cquoted\u201d"
    assert texts[1] == "utf-8 café 🐍"
    assert texts[2] == "ÿþ end"


def test_shutdown_releases_registered_sessions(
    kernel: Kernel, ngircd: NgIRCd, recorder: MakeRecorder
) -> None:
    """A registered session stays alive only while registered; after shutdown the kernel ends."""
    bot = _irc(kernel, ngircd, "bot")
    rec = recorder(bot)
    rec.reactions["irc_001"] = lambda *args: bot.yield_("shutdown", "all done")
    kernel.run()  # returns only if nothing holds a session any more
    assert rec.names()[-3:] == ["irc_disconnected", "irc_shutdown", "_stop"]
    assert not rec.session.alive


def test_ircv3_caps_and_server_time_on_inspircd(
    kernel: Kernel, inspircd: InspIRCd, recorder: MakeRecorder
) -> None:
    watchdog = Watchdog(kernel, 20)
    alice = _irc(kernel, inspircd, "alice")
    bob = _irc(kernel, inspircd, "bob")
    a = recorder(alice)
    b = recorder(bob)
    caps: list[set[str]] = []

    @a.on("irc_001")
    def welcomed(*args: Any) -> None:
        caps.append(set(alice.caps))
        alice.yield_("join", "#v3")

    b.reactions["irc_001"] = lambda *args: bob.yield_("join", "#v3")

    @a.on("irc_join")
    def go(who: str, channel: str, msg: Message) -> None:
        if msg.nick == "bob":
            bob.yield_("away", "lunch")

    @a.on("irc_away")
    def went_away(who: str, *rest: Any) -> None:
        bob.yield_("privmsg", "#v3", "tagged")

    @a.on("irc_public")
    def got(who: str, where: list[str], text: str, msg: Message) -> None:
        alice.yield_("shutdown")
        bob.yield_("shutdown")

    a.reactions["irc_shutdown"] = lambda *args: watchdog.done()
    watchdog.run()
    assert caps[0] >= {
        "message-tags",
        "server-time",
        "multi-prefix",
        "away-notify",
        "account-notify",
        "extended-join",
        "userhost-in-names",
    }
    join = next(args[-1] for args in a.args("irc_join") if args[-1].nick == "bob")
    assert len(join.params) == 3  # extended-join: channel, account ("*"), real name
    (away,) = a.args("irc_away")
    assert away[0].startswith("bob!")
    assert away[1] == "lunch"
    (public,) = a.args("irc_public")
    assert public[2] == "tagged"
    assert public[3].tags.get("time", "").endswith("Z")  # server-time


def test_sasl_plain_with_atheme(
    kernel: Kernel, inspircd_services: InspIRCdServices, recorder: MakeRecorder
) -> None:
    watchdog = Watchdog(kernel, 20)
    account, password = inspircd_services.account
    good = _irc(kernel, inspircd_services, "goodbot", sasl=(account, password))
    bad = _irc(kernel, inspircd_services, "badbot", sasl=(account, "wrong"), sasl_required=True)
    g = recorder(good)
    b = recorder(bad)
    g.reactions["irc_001"] = lambda *args: good.yield_("shutdown")
    b.reactions["irc_disconnected"] = lambda *args: bad.yield_("shutdown")
    done: list[str] = []

    def finished(name: str) -> Callable[..., None]:
        def record(*args: Any) -> None:
            done.append(name)
            if len(done) == 2:
                watchdog.done()

        return record

    g.reactions["irc_shutdown"] = finished("good")
    b.reactions["irc_shutdown"] = finished("bad")
    watchdog.run()
    assert g.args("irc_900")[0][2][1] == account  # "You are now logged in as <account>"
    assert "irc_903" in g.names()
    assert "irc_001" in g.names()
    assert "irc_904" in b.names()
    assert b.args("irc_sasl_failed")[0][0] == "SASL authentication failed (904)"
    assert "irc_001" not in b.names()


@pytest.mark.parametrize("connect_timeout", [0.2])
def test_connect_errors_are_reported(
    kernel: Kernel, recorder: MakeRecorder, connect_timeout: float
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there
        watchdog = Watchdog(kernel)
        bot = IRC(kernel, nick="bot", port=port, connect_timeout=connect_timeout)
        rec = recorder(bot)

        @rec.on("irc_socketerr")
        def failed(error: str, msg: None) -> None:
            bot.yield_("shutdown")

        rec.reactions["irc_shutdown"] = lambda *args: watchdog.done()
        watchdog.run()
    (error,) = rec.args("irc_socketerr")
    assert error[0].startswith("connect error 111")
    assert "irc_connected" not in rec.names()


@pytest.mark.parametrize(("hostname", "registers"), [("localhost", True), ("wrong.test", False)])
def test_tls_checks_the_server_certificate(
    kernel: Kernel,
    ngircd_tls: NgIRCd,
    recorder: MakeRecorder,
    tls_client_context: ssl.SSLContext,
    hostname: str,
    registers: bool,
) -> None:
    """The TLS port speaks only TLS: a 001 there proves the handshake; a wrong name fails it."""
    watchdog = Watchdog(kernel)
    assert ngircd_tls.tls_port is not None
    bot = IRC(
        kernel,
        nick="tlsbot",
        server="127.0.0.1",
        port=ngircd_tls.tls_port,
        tls=tls_client_context,
        server_hostname=hostname,
        flood=None,
    )
    rec = recorder(bot)
    rec.reactions["irc_001"] = lambda *args: bot.yield_("shutdown")
    rec.reactions["irc_disconnected"] = lambda *args: bot.yield_("shutdown")
    rec.reactions["irc_shutdown"] = lambda *args: watchdog.done()
    watchdog.run()
    assert ("irc_001" in rec.names()) is registers
    assert rec.names().count("irc_disconnected") == 1
