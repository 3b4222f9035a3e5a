"""The IRC server fixtures themselves: real servers, checked with raw socket clients."""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from ircd import InspIRCd, InspIRCdServices, IRCServer, NgIRCd, RawClient

    RawClientFactory = Callable[..., AbstractContextManager[RawClient]]

#: The IRCv3 capabilities the poe-irc suite relies on InspIRCd for.
INSPIRCD_CAPS = {
    "message-tags",
    "server-time",
    "multi-prefix",
    "away-notify",
    "extended-join",
    "account-notify",
    "userhost-in-names",
}


def _names(client: RawClient, channel: str) -> list[str]:
    """Read the NAMES reply of a JOIN until 366; return the names with their prefixes."""
    lines = client.read_until(lambda m: m.command == "366" and m.params[1] == channel)
    return [n for m in lines if m.command == "353" for n in m.params[-1].split()]


def _chat(server: IRCServer, raw_client: RawClientFactory) -> None:
    """Two clients: the first joiner gets ops, channel and private PRIVMSG both arrive."""
    with raw_client(server) as alice, raw_client(server) as bob:
        # Both register at once: on InspIRCd the two 001s come on the same tick.
        for client, nick in ((alice, "alice"), (bob, "bob")):
            client.send(f"NICK {nick}")
            client.send(f"USER {nick} 0 * :{nick} test")
        welcome = alice.expect("001")
        bob.expect("001")
        assert welcome.source == server.name
        assert welcome.params[0] == "alice"

        alice.send("JOIN #test")
        assert _names(alice, "#test") == ["@alice"]
        bob.send("JOIN #test")
        assert sorted(_names(bob, "#test")) == ["@alice", "bob"]
        joined = alice.expect("JOIN")
        assert (joined.nick, joined.params[0]) == ("bob", "#test")

        alice.send("PRIVMSG #test :hello, channel")
        said = bob.expect("PRIVMSG")
        assert (said.nick, said.params) == ("alice", ("#test", "hello, channel"))
        bob.send("PRIVMSG alice :hello, alice")
        said = alice.expect("PRIVMSG")
        assert (said.nick, said.params) == ("bob", ("alice", "hello, alice"))


# -- ngIRCd --------------------------------------------------------------------------------------


def test_ngircd_chat(ngircd: NgIRCd, raw_client: RawClientFactory) -> None:
    assert ngircd.name == "irc.test.local"
    _chat(ngircd, raw_client)


def test_ngircd_registers_at_once_and_opers(ngircd: NgIRCd, raw_client: RawClientFactory) -> None:
    with raw_client(ngircd) as client:
        started = time.monotonic()
        client.register("a" * 30)  # MaxNickLength = 30
        assert time.monotonic() - started < 0.5
        client.send("OPER {} {}".format(*ngircd.oper))
        assert client.expect({"381", "464", "491"}).command == "381"


def test_ngircd_cap_ls(ngircd: NgIRCd, raw_client: RawClientFactory) -> None:
    with raw_client(ngircd) as client:
        assert client.cap_ls() == {"multi-prefix": None}


def test_ngircd_restarts_on_the_same_port(ngircd: NgIRCd, raw_client: RawClientFactory) -> None:
    port = ngircd.port
    with raw_client(ngircd) as client:
        client.register("stayer")
        assert ngircd.stop() == 0
        with pytest.raises(EOFError):
            client.expect("PRIVMSG", timeout=5)  # ERROR, then the server closes
        assert any(m.command == "ERROR" for m in client.received)
    with pytest.raises(OSError):  # noqa: PT011 - ECONNREFUSED: nothing listens while stopped
        socket.create_connection((ngircd.host, port), timeout=1).close()
    ngircd.start()
    assert ngircd.port == port
    with raw_client(ngircd) as client:
        assert client.register("stayer").params[0] == "stayer"


def test_ngircd_restarts_after_a_kill(ngircd: NgIRCd, raw_client: RawClientFactory) -> None:
    with raw_client(ngircd) as client:
        client.register("crashed")
        assert ngircd.kill() == -9
        with pytest.raises(EOFError):
            client.expect("PRIVMSG", timeout=5)
        assert not any(m.command == "ERROR" for m in client.received)
    ngircd.start()
    with raw_client(ngircd) as client:
        client.register("crashed")


def test_inspircd_shared_server_restarts(inspircd: InspIRCd, raw_client: RawClientFactory) -> None:
    """A test may stop the shared server: the next test's fixture starts it again."""
    port = inspircd.port
    inspircd.stop()
    assert not inspircd.running
    inspircd.start()
    assert inspircd.port == port
    with raw_client(inspircd) as client:
        assert client.register("back").source == inspircd.name


def _burst(server: NgIRCd, raw_client: RawClientFactory, lines: int, within: float) -> int:
    """Send ``lines`` PRIVMSGs at once; return how many arrive within ``within`` s."""
    with raw_client(server) as sender, raw_client(server) as receiver:
        sender.register("sender")
        receiver.register("receiver")
        for i in range(lines):
            sender.send(f"PRIVMSG receiver :line {i}")
        deadline = time.monotonic() + within
        got = 0
        while got < lines and (left := deadline - time.monotonic()) > 0:
            try:
                receiver.expect("PRIVMSG", timeout=left)
            except TimeoutError:
                break
            got += 1
        return got


def test_ngircd_no_penalties(ngircd: NgIRCd, raw_client: RawClientFactory) -> None:
    assert _burst(ngircd, raw_client, 50, within=2.0) == 50


def test_ngircd_penalties_throttle(ngircd_penalties: NgIRCd, raw_client: RawClientFactory) -> None:
    # Measured: the first line arrives after 1.0 s (registration added penalty), then about
    # one a second; without penalties all 50 arrive in a few ms.
    assert _burst(ngircd_penalties, raw_client, 50, within=1.0) < 10


# -- InspIRCd ------------------------------------------------------------------------------------


def test_inspircd_cap_ls(inspircd: InspIRCd, raw_client: RawClientFactory) -> None:
    with raw_client(inspircd) as client:
        caps = client.cap_ls()
    assert caps.keys() >= INSPIRCD_CAPS
    assert "sasl" not in caps  # advertised only while services are linked


def test_inspircd_chat(inspircd: InspIRCd, raw_client: RawClientFactory) -> None:
    _chat(inspircd, raw_client)


def test_inspircd_ircv3(inspircd: InspIRCd, raw_client: RawClientFactory) -> None:
    caps = ["message-tags", "server-time", "extended-join", "multi-prefix", "userhost-in-names"]
    with raw_client(inspircd) as alice, raw_client(inspircd) as bob:
        for client, nick in ((alice, "alice3"), (bob, "bob3")):
            client.send("CAP LS 302")
            client.send(f"NICK {nick}")
            client.send(f"USER {nick} 0 * :{nick} real name")
            client.request_caps(caps)
            client.send("CAP END")
        alice.expect("001")
        bob.expect("001")
        alice.send("JOIN #v3")
        assert _names(alice, "#v3") == ["@alice3!alice3@127.0.0.1"]  # userhost-in-names
        bob.send("JOIN #v3")
        joined = alice.expect("JOIN")
        assert joined.params == ("#v3", "*", "bob3 real name")  # extended-join: not logged in
        assert "time" in joined.tags  # server-time
        alice.send("@+example.test/tag=value PRIVMSG #v3 :tagged")
        said = bob.expect("PRIVMSG")
        assert said.params == ("#v3", "tagged")
        assert said.tags.get("+example.test/tag") == "value"  # message-tags relays client tags


# -- InspIRCd + Atheme (SASL) ----------------------------------------------------------------


def test_services_advertise_sasl(
    inspircd_services: InspIRCdServices, raw_client: RawClientFactory
) -> None:
    with raw_client(inspircd_services) as client:
        caps = client.cap_ls()
    assert caps.get("sasl") == "PLAIN"
    assert caps.keys() >= INSPIRCD_CAPS


@pytest.mark.slow
def test_sasl_plain(inspircd_services: InspIRCdServices, raw_client: RawClientFactory) -> None:
    account, password = inspircd_services.account
    with raw_client(inspircd_services) as good, raw_client(inspircd_services) as bad:
        for client, nick in ((good, "saslgood"), (bad, "saslbad")):
            client.send("CAP LS 302")
            client.send(f"NICK {nick}")
            client.send(f"USER {nick} 0 * :{nick}")
            client.request_caps(["sasl"])
        assert good.authenticate_plain(account, password).command == "903"
        logged_in = next(m for m in good.received if m.command == "900")
        assert logged_in.params[2] == account
        assert bad.authenticate_plain(account, password + "x").command == "904"
        for client in (good, bad):
            client.send("CAP END")
            client.expect("001")
