"""Real IRC servers on loopback for the poe-irc tests: ngIRCd, InspIRCd, InspIRCd + Atheme.

Each :class:`IRCServer` renders its config into its own temp dir, runs the daemon in the
foreground as a direct child (so ``wait()`` reaps it at once), and counts as ready only once a
real client has registered (``001``). ``stop()`` then ``start()`` reuses the same port, so a
test can kill the server under a connected client and check that the client reconnects.

:class:`RawClient` is a tiny blocking line client for the tests' own checks (and for the
fixtures: Atheme's account is registered through one). Lines are parsed with
:func:`poe.irc.message.parse`.

Measured here (Debian 12, ngircd 26.1, InspIRCd 3.15.0, Atheme 7.2.12), ``start()`` to a probe's
``001``: ngIRCd 10-15 ms; InspIRCd about 1.0 s (it sends ``001`` only on its once-a-second
tick, for every client); InspIRCd + Atheme about 2.1 s (the ircd, the link, then NickServ
``REGISTER`` of the test account through a client, which waits for a tick again).
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from poe.irc.message import Message, decode, encode, parse

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from types import TracebackType

    from typing_extensions import Self

__all__ = [
    "Atheme",
    "IRCServer",
    "InspIRCd",
    "InspIRCdServices",
    "NgIRCd",
    "RawClient",
    "ServerError",
    "free_port",
    "raw_client",
    "which",
]

#: Seconds between two readiness probes.
POLL = 0.01
#: Seconds a server gets to become ready (and a probe client to register) before start() fails.
START_TIMEOUT = 15.0
#: Where daemons are looked for when they are not on PATH.
SBIN_PATH = "/usr/local/sbin:/usr/sbin:/sbin"


class ServerError(RuntimeError):
    """A server did not start, or exited early; the message ends with its log tail."""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on ``host`` right now (bind port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def which(binary: str) -> str | None:
    """``shutil.which``, also looking in the sbin dirs (daemons live there; PATH may lack them)."""
    return shutil.which(binary) or shutil.which(binary, path=SBIN_PATH)


# -- raw client --------------------------------------------------------------------------------


class RawClient:
    """A blocking IRC line client: ``send()`` lines, ``expect()`` parsed messages.

    Incoming ``PING`` is answered by itself. Every message read is also appended to
    :attr:`received`, in order, whether an ``expect()`` matched it or skipped it.

    Args:
        host: server address.
        port: server port.
        timeout: default seconds for :meth:`expect`.
    """

    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.received: list[Message] = []
        self._buffer = b""
        self._pending: list[Message] = []
        self.nick: str | None = None

    # context manager ------------------------------------------------------------------------
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Send ``QUIT`` (if the socket is still up) and close the socket."""
        with contextlib.suppress(OSError):
            self.sock.sendall(b"QUIT :bye\r\n")
        with contextlib.suppress(OSError):
            self.sock.close()

    # I/O -----------------------------------------------------------------------------------
    def send(self, line: str) -> None:
        """Send one line (CR LF is added)."""
        self.sock.sendall(encode(line) + b"\r\n")

    def _read(self, deadline: float) -> Message | None:
        """Return the next message, or None at the deadline; raise EOFError when closed."""
        if self._pending:
            return self._pending.pop(0)
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return None
            if not chunk:
                raise EOFError("the server closed the connection")
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\n")
        message = parse(decode(raw.rstrip(b"\r")))
        self.received.append(message)
        if message.command == "PING":
            self.send("PONG :" + (message.params[-1] if message.params else ""))
        return message

    def expect(
        self, what: str | Iterable[str] | Callable[[Message], bool], timeout: float | None = None
    ) -> Message:
        """Read until a message matches ``what`` and return it (the lines before are skipped).

        Args:
            what: a command or numeric (``"001"``), several of them, or a predicate.
            timeout: seconds to wait, :attr:`timeout` by default.

        Raises:
            TimeoutError: nothing matched in time (the message lists what did arrive).
            EOFError: the server closed the connection first.
        """
        return self.read_until(what, timeout)[-1]

    def read_until(
        self, what: str | Iterable[str] | Callable[[Message], bool], timeout: float | None = None
    ) -> list[Message]:
        """Like :meth:`expect`, but return every message read, the matching one last."""
        match = _matcher(what)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        seen: list[Message] = []
        while True:
            message = self._read(deadline)
            if message is None:
                lines = "\n  ".join(m.line() for m in seen[-20:])
                raise TimeoutError(f"no message matching {what!r}; got:\n  {lines}")
            seen.append(message)
            if match(message):
                return seen

    def drain(self, quiet: float = 0.2) -> list[Message]:
        """Read what arrives until the connection is quiet for ``quiet`` s; return it."""
        seen: list[Message] = []
        while (message := self._read(time.monotonic() + quiet)) is not None:
            seen.append(message)
        return seen

    # IRC helpers ---------------------------------------------------------------------------
    def register(
        self,
        nick: str,
        caps: Iterable[str] = (),
        *,
        timeout: float | None = None,
        password: str | None = None,
    ) -> Message:
        """Register (``CAP REQ`` first if ``caps``) and return the ``001``.

        Raises:
            AssertionError: the server refused a requested capability (``CAP NAK``).
        """
        wanted = list(caps)
        if wanted:
            self.send("CAP LS 302")
        if password is not None:
            self.send(f"PASS :{password}")
        self.send(f"NICK {nick}")
        self.send(f"USER {nick} 0 * :raw test client {nick}")
        if wanted:
            self.request_caps(wanted, timeout=timeout)
            self.send("CAP END")
        self.nick = nick
        return self.expect("001", timeout)

    def cap_ls(self, timeout: float | None = None) -> dict[str, str | None]:
        """Send ``CAP LS 302`` and return the advertised capabilities (name → value or None).

        Must be sent before registration completes (it holds registration until ``CAP END``).
        """
        self.send("CAP LS 302")
        caps: dict[str, str | None] = {}
        while True:
            reply = self.expect(lambda m: m.command == "CAP" and m.params[1:2] == ("LS",), timeout)
            for item in reply.params[-1].split():
                name, sep, value = item.partition("=")
                caps[name] = value if sep else None
            if reply.params[2:3] != ("*",):  # "CAP * LS * :..." means more lines follow
                return caps

    def request_caps(self, caps: Iterable[str], timeout: float | None = None) -> None:
        """``CAP REQ`` the capabilities and wait for the ``ACK`` (``NAK`` raises)."""
        wanted = " ".join(caps)
        self.send(f"CAP REQ :{wanted}")
        reply = self.expect(
            lambda m: m.command == "CAP" and m.params[1:2] in {("ACK",), ("NAK",)}, timeout
        )
        assert reply.params[1] == "ACK", f"CAP REQ {wanted!r} refused: {reply.line()}"

    def authenticate_plain(
        self, account: str, password: str, timeout: float | None = None
    ) -> Message:
        """SASL PLAIN (``sasl`` must be ACKed); return the ``903``/``904``/``90x`` numeric."""
        self.send("AUTHENTICATE PLAIN")
        self.expect(lambda m: m.command == "AUTHENTICATE" and m.params == ("+",), timeout)
        token = base64.b64encode(f"\0{account}\0{password}".encode()).decode()
        self.send(f"AUTHENTICATE {token}")
        return self.expect({"902", "903", "904", "905", "906", "907"}, timeout)


def _matcher(what: str | Iterable[str] | Callable[[Message], bool]) -> Callable[[Message], bool]:
    if isinstance(what, str):
        return lambda m: m.command == what.upper()
    if callable(what):
        return what
    commands = {c.upper() for c in what}
    return lambda m: m.command in commands


@contextlib.contextmanager
def raw_client(server: IRCServer, timeout: float = 10.0) -> Iterator[RawClient]:
    """Connect a :class:`RawClient` to ``server``; ``QUIT`` and close it on exit."""
    with RawClient(server.host, server.port, timeout) as client:
        yield client


# -- servers -----------------------------------------------------------------------------------


class IRCServer:
    """A daemon on 127.0.0.1 on a port of its own, with its config in its own temp dir.

    Subclasses set :attr:`binary` and implement :meth:`render_config` and :meth:`command`.
    ``start()`` returns only once a probe client got ``001``; ``stop()`` can be followed by
    ``start()`` on the same port. Usable as a context manager (start, then close).

    Attributes:
        host: the listening address (``127.0.0.1``).
        port: the listening port, picked free at construction and kept across restarts.
        name: the server name (the source of its numerics).
        oper: ``(name, password)`` of an IRC operator.
        directory: the temp dir with the config and the log.
        log_path: the daemon's stdout and stderr (appended to across restarts).
        startup_seconds: from ``Popen`` to the probe's ``001``, for the last ``start()``.
    """

    binary: ClassVar[str]
    name: str = "irc.test.local"
    #: The probe's registration timeout (InspIRCd holds 001 until its once-a-second tick).
    register_timeout: ClassVar[float] = 5.0

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = free_port(self.host)
        self.oper = ("testoper", "operpass")
        # Under /tmp, world-readable: daemons that drop privileges can still read their files.
        self.directory = Path(
            tempfile.mkdtemp(prefix=f"poe-irc-{type(self).__name__.lower()}-", dir="/tmp")
        )
        self.directory.chmod(0o755)
        self.log_path = self.directory / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_seconds = 0.0
        self._probes = 0

    @classmethod
    def available(cls) -> str | None:
        """Return None if the daemon is installed, else why not (for ``pytest.skip``)."""
        if which(cls.binary) is None:
            return f"{cls.binary} is not installed (apt-get install {cls.binary})"
        return None

    # to implement -----------------------------------------------------------------------------
    def render_config(self) -> None:
        """Write the config file(s) into :attr:`directory`."""
        raise NotImplementedError

    def command(self) -> list[str]:
        """The daemon's argv, foreground mode."""
        raise NotImplementedError

    # lifecycle ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether the daemon process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> float:
        """Render the config, start the daemon, wait for a probe's ``001``; return the seconds.

        Raises:
            ServerError: the daemon exited, or was not ready within ``START_TIMEOUT`` s.
        """
        if self.running:
            raise ServerError(f"{self} is already running")
        self.render_config()
        started = time.monotonic()
        self.proc = self._spawn(self.command(), self.log_path)
        try:
            self.wait_ready(started + START_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self.startup_seconds

    def _spawn(self, argv: list[str], log_path: Path) -> subprocess.Popen[bytes]:
        with log_path.open("ab") as log:
            log.write(f"\n=== {' '.join(argv)}\n".encode())
            log.flush()
            return subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
            )

    def check_alive(self) -> None:
        """Raise :class:`ServerError` with the log tail if the daemon has exited."""
        if self.proc is None or self.proc.poll() is not None:
            rc = None if self.proc is None else self.proc.returncode
            raise ServerError(f"{self} is not running (rc={rc}); log tail:\n{self.log_tail()}")

    def wait_ready(self, deadline: float) -> None:
        """Poll every 10 ms: first a TCP connect, then a full registration until ``001``."""
        while True:
            self.check_alive()
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
            except OSError:
                if time.monotonic() > deadline:
                    raise ServerError(
                        f"{self}: port never opened; log tail:\n{self.log_tail()}"
                    ) from None
                time.sleep(POLL)
                continue
            sock.close()
            break
        self._probes += 1
        left = max(deadline - time.monotonic(), 0.5)
        try:
            with RawClient(self.host, self.port, timeout=left) as probe:
                probe.register(f"probe{self._probes}", timeout=min(left, self.register_timeout))
        except (OSError, EOFError, TimeoutError) as exc:
            self.check_alive()
            raise ServerError(
                f"{self}: probe registration failed: {exc}; log tail:\n{self.log_tail()}"
            ) from exc

    def stop(self) -> int | None:
        """SIGTERM, ``wait(10)``, SIGKILL if needed; return the exit status (None if not running)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        return proc.returncode

    def kill(self) -> int | None:
        """SIGKILL (a crash: clients see the connection drop, no ``ERROR``); return the status."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(10)
        return self.stop()

    def close(self) -> None:
        """Stop the daemon and remove the temp dir (unless ``POE_IRC_KEEP_IRCD`` is set)."""
        self.stop()
        if not os.environ.get("POE_IRC_KEEP_IRCD"):
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of :attr:`log_path` (empty if there is no log yet)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.host}:{self.port}>"


class NgIRCd(IRCServer):
    """ngIRCd 26: fast (ready in ms, clients registered at once); IRCv3: only ``multi-prefix``.

    Args:
        penalties: False (default) sets ``MaxPenaltyTime = 0``: no flood throttling. True
            keeps ngIRCd's default penalties (about one command per second after a burst),
            for flood-control tests.
        tls: ``(certificate, key)`` PEM paths: also listen for TLS on :attr:`tls_port`.
    """

    binary = "ngircd"

    def __init__(self, *, penalties: bool = False, tls: tuple[Path, Path] | None = None) -> None:
        super().__init__()
        self.penalties = penalties
        self.tls = tls
        self.tls_port = free_port(self.host) if tls is not None else None
        self.config_path = self.directory / "ngircd.conf"
        self.include_dir = self.directory / "conf.d"
        self.include_dir.mkdir(mode=0o755)

    def render_config(self) -> None:
        """Write ``ngircd.conf`` (no lookups, no limits, operator, optional penalties)."""
        penalty = "" if self.penalties else "\tMaxPenaltyTime = 0\n"
        oper_name, oper_password = self.oper
        self.config_path.write_text(
            "[Global]\n"
            f"\tName = {self.name}\n"
            "\tInfo = poe-irc test server\n"
            f"\tListen = {self.host}\n"
            f"\tPorts = {self.port}\n"
            "\tMotdPhrase = poe-irc test server\n"
            "\tServerUID = nobody\n"
            "\tAdminInfo1 = poe-irc tests\n"
            "\tAdminInfo2 = loopback\n"
            "\tAdminEMail = admin@example.test\n"
            "[Limits]\n"
            "\tMaxConnections = 0\n"
            "\tMaxConnectionsIP = 0\n"
            "\tMaxJoins = 0\n"
            "\tMaxNickLength = 30\n"
            "\tMaxListSize = 1000\n"
            f"{penalty}"
            "[Options]\n"
            "\tDNS = no\n"
            "\tIdent = no\n"
            "\tPAM = no\n"
            "\tOperCanUseMode = yes\n"
            f"\tIncludeDir = {self.include_dir}\n"
            "[Operator]\n"
            f"\tName = {oper_name}\n"
            f"\tPassword = {oper_password}\n"
            f"{self._tls_section()}"
        )
        self.config_path.chmod(0o644)

    def _tls_section(self) -> str:
        if self.tls is None:
            return ""
        cert, key = self.tls
        # ngIRCd reads them after dropping to nobody: copies it can read, in its own dir.
        for source, name in ((cert, "tls.crt"), (key, "tls.key")):
            copy = self.directory / name
            copy.write_bytes(source.read_bytes())
            copy.chmod(0o644)
        return (
            "[SSL]\n"
            f"\tCertFile = {self.directory / 'tls.crt'}\n"
            f"\tKeyFile = {self.directory / 'tls.key'}\n"
            f"\tPorts = {self.tls_port}\n"
        )

    def command(self) -> list[str]:
        """``ngircd -n -f CONF`` (``-n``: foreground, log to stderr)."""
        return [which(self.binary) or self.binary, "-n", "-f", str(self.config_path)]


#: InspIRCd modules loaded by :class:`InspIRCd` (the IRCv3 capabilities they add in comments).
INSPIRCD_MODULES = (
    "cap",  # CAP itself, cap-notify
    "ircv3",  # away-notify, extended-join, account-notify
    "ircv3_accounttag",  # account-tag
    "ircv3_batch",  # batch
    "ircv3_capnotify",  # cap-notify
    "ircv3_chghost",  # chghost
    "ircv3_ctctags",  # message-tags
    "ircv3_echomessage",  # echo-message
    "ircv3_invitenotify",  # invite-notify
    "ircv3_msgid",  # msgid tag
    "ircv3_servertime",  # server-time
    "namesx",  # multi-prefix
    "uhnames",  # userhost-in-names
    "services_account",  # accounts (+r, account-notify needs it)
    "sasl",  # sasl (advertised only while the services server is linked)
    "spanningtree",  # server links (for services)
)


class InspIRCd(IRCServer):
    """InspIRCd 3 with the IRCv3 modules of :data:`INSPIRCD_MODULES`; no services.

    InspIRCd sends ``001`` only on its once-a-second tick, so every registration takes up to
    about a second: share one server per module or session.
    """

    binary = "inspircd"
    services_name = "services.test.local"
    link_password = "linkpass"

    def __init__(self, *, flood_threshold: int | None = None) -> None:
        super().__init__()
        self.config_path = self.directory / "inspircd.conf"
        self.motd_path = self.directory / "inspircd.motd"
        self.link_port = free_port(self.host)
        #: None: no flood limits. A number: InspIRCd's default flood rule with that threshold,
        #: commands cost a point each, a point drains per second, and a client over the
        #: threshold is disconnected ("Excess Flood") rather than slowed down (no fakelag).
        self.flood_threshold = flood_threshold

    def render_config(self) -> None:
        """Write ``inspircd.conf``: no lookups, no fakelag, oper, IRCv3 modules, services link."""
        oper_name, oper_password = self.oper
        self.motd_path.write_text("poe-irc test server\n")
        modules = "".join(f'<module name="{name}">\n' for name in INSPIRCD_MODULES)
        self.config_path.write_text(
            f'<server name="{self.name}" description="poe-irc test server" id="0AA" network="TestNet">\n'
            '<admin name="poe-irc tests" nick="admin" email="admin@example.test">\n'
            f'<bind address="{self.host}" port="{self.port}" type="clients">\n'
            f'<bind address="{self.host}" port="{self.link_port}" type="servers">\n'
            '<connect name="main" allow="*" resolvehostnames="no" useident="no" fakelag="no"\n'
            f'         {self._flood_limits()} localmax="1000" globalmax="1000"\n'
            '         maxchans="1000" pingfreq="120" timeout="60" sendq="1048576"\n'
            '         recvq="65536" hardsendq="1048576" softsendq="65536" limit="5000">\n'
            f'<dns server="{self.host}" timeout="1">\n'
            f'<files motd="{self.motd_path}">\n'
            '<class name="ServerOperators" commands="*" privs="*" usermodes="*" chanmodes="*" snomasks="*">\n'
            '<type name="NetAdmin" classes="ServerOperators">\n'
            f'<oper name="{oper_name}" password="{oper_password}" host="*@*" type="NetAdmin">\n'
            '<options prefixquit="Quit: " allowtopicchange="yes">\n'
            '<security hidesplits="no" announceinvites="dynamic">\n'
            '<limits maxnick="30" maxchan="64" maxmodes="20" maxident="11" maxquit="255"\n'
            '        maxtopic="307" maxkick="255" maxreal="128" maxgecos="128" maxaway="200">\n'
            '<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="/dev/stdout">\n'
            f"{modules}"
            f'<sasl target="{self.services_name}">\n'
            f"{self.link_block()}"
        )

    def _flood_limits(self) -> str:
        if self.flood_threshold is None:
            return 'threshold="1000" commandrate="1000000"'
        return f'threshold="{self.flood_threshold}" commandrate="1000"'

    def link_block(self) -> str:
        """The services ``<link>``/``<uline>`` blocks (always rendered; harmless unlinked)."""
        return (
            f'<link name="{self.services_name}" ipaddr="{self.host}" port="{self.link_port}"\n'
            f'      allowmask="{self.host}" sendpass="{self.link_password}" recvpass="{self.link_password}">\n'
            f'<uline server="{self.services_name}" silent="yes">\n'
        )

    def command(self) -> list[str]:
        """``inspircd --nofork --nopid --runasroot`` (root needs ``--runasroot``)."""
        return [
            which(self.binary) or self.binary,
            "--config",
            str(self.config_path),
            "--nofork",
            "--nopid",
            "--runasroot",
        ]


class Atheme:
    """Atheme 7.2 services linked to an :class:`InspIRCd` (NickServ + SaslServ PLAIN).

    Not an :class:`IRCServer` of its own: :class:`InspIRCdServices` starts and stops it with
    its ircd. Its data (``services.db``, saved on SIGTERM, so the account survives a restart)
    and log live in the ircd's temp dir. It links with the InspIRCd 2.0 protocol (1202), which
    InspIRCd 3 still accepts.

    ``-n`` (no fork) is Atheme's debug mode: it logs every protocol line, and sends each user
    a NOTICE "Services are presently running in debug mode ..." from ``services.test.local``.
    """

    binary = "atheme-services"

    def __init__(self, ircd: InspIRCd) -> None:
        self.ircd = ircd
        self.directory = ircd.directory / "atheme"
        self.directory.mkdir(mode=0o755, exist_ok=True)
        self.config_path = self.directory / "atheme.conf"
        self.log_path = self.directory / "atheme.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def render_config(self) -> None:
        """Write ``atheme.conf``: the uplink to the ircd and the few modules SASL PLAIN needs."""
        modules = "".join(
            f'loadmodule "modules/{name}";\n'
            for name in (
                "protocol/inspircd",
                "backend/opensex",
                "crypto/pbkdf2v2",
                "nickserv/main",
                "nickserv/register",
                "nickserv/identify",
                "nickserv/info",
                "saslserv/main",
                "saslserv/plain",
            )
        )
        ircd = self.ircd
        self.config_path.write_text(
            f"{modules}"
            "serverinfo {\n"
            f'\tname = "{ircd.services_name}";\n'
            '\tdesc = "poe-irc test services";\n'
            '\tnumeric = "00A";\n'
            "\trecontime = 1;\n"
            '\tnetname = "TestNet";\n'
            '\thidehostsuffix = "users.test.local";\n'
            '\tadminname = "poe-irc tests";\n'
            '\tadminemail = "admin@example.test";\n'
            '\tregisteremail = "noreply@example.test";\n'
            '\tmta = "/bin/true";\n'
            "\tloglevel = { all; };\n"
            "\tmaxlogins = 50;\n"
            "\tmaxusers = 50;\n"
            "\tauth = none;\n"
            "\tcasemapping = rfc1459;\n"
            "};\n"
            f'uplink "{ircd.name}" {{\n'
            f'\thost = "{ircd.host}";\n'
            f'\tpassword = "{ircd.link_password}";\n'
            f"\tport = {ircd.link_port};\n"
            "};\n"
            'nickserv { nick = "NickServ"; user = "NickServ"; host = "services.test.local"; '
            'real = "Nickname Services"; };\n'
            'saslserv { nick = "SaslServ"; user = "SaslServ"; host = "services.test.local"; '
            'real = "SASL Authentication Agent"; };\n'
            "general {\n"
            "\tflood_msgs = 0;\n"
            "\tratelimit_uses = 0;\n"
            "\tratelimit_period = 0;\n"
            "\tcommit_interval = 1;\n"
            "};\n"
            'operclass "user" { };\n'
        )

    def command(self) -> list[str]:
        """``atheme-services -n`` with config, data dir, log and pid file in its dir."""
        return [
            which(self.binary) or self.binary,
            "-n",
            "-c",
            str(self.config_path),
            "-D",
            str(self.directory),
            "-l",
            str(self.directory / "atheme-core.log"),
            "-p",
            str(self.directory / "atheme.pid"),
        ]


class InspIRCdServices(InspIRCd):
    """:class:`InspIRCd` with :class:`Atheme` linked: SASL PLAIN against a registered account.

    ``start()`` starts the ircd, then Atheme, waits until ``CAP LS`` advertises ``sasl``
    (the link is up), then registers :attr:`account` with NickServ (unless the database
    already has it, after a restart). ``stop()`` stops both.

    Attributes:
        account: ``(name, password)`` of the NickServ account that SASL PLAIN accepts.
        services: the :class:`Atheme` instance.
    """

    def __init__(self) -> None:
        super().__init__()
        self.account = ("testuser", "testpass123")
        self.services = Atheme(self)

    @classmethod
    def available(cls) -> str | None:
        """Also needs ``atheme-services``."""
        missing = super().available()
        if missing is None and which(Atheme.binary) is None:
            missing = f"{Atheme.binary} is not installed (apt-get install {Atheme.binary})"
        return missing

    def start(self) -> float:
        """Start the ircd, then services; register the account; return the total seconds."""
        started = time.monotonic()
        super().start()
        atheme = self.services
        try:
            atheme.render_config()
            atheme.proc = self._spawn(atheme.command(), atheme.log_path)
            self._wait_linked(time.monotonic() + START_TIMEOUT)
            self._register_account()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self.startup_seconds

    @property
    def running(self) -> bool:
        """Whether both the ircd and Atheme are alive."""
        proc = self.services.proc
        return super().running and proc is not None and proc.poll() is None

    def check_alive(self) -> None:
        """Also raise if Atheme has exited (with its log tail)."""
        super().check_alive()
        proc = self.services.proc
        if proc is not None and proc.poll() is not None:
            raise ServerError(
                f"atheme-services exited (rc={proc.returncode}); log tail:\n{self.services_log_tail()}"
            )

    def _wait_linked(self, deadline: float) -> None:
        while True:
            self.check_alive()
            with RawClient(self.host, self.port, timeout=2.0) as probe:
                if "sasl" in probe.cap_ls():
                    return
            if time.monotonic() > deadline:
                raise ServerError(
                    f"services never linked; atheme log tail:\n{self.services_log_tail()}"
                )
            time.sleep(POLL)

    def _register_account(self) -> None:
        """``REGISTER`` :attr:`account` with NickServ; after a restart it is already there."""
        name, password = self.account
        with RawClient(self.host, self.port) as client:
            client.register(name)
            client.send(f"PRIVMSG NickServ :REGISTER {password} {name}@example.test")
            reply = client.expect(
                lambda m: (
                    m.command == "NOTICE" and m.nick == "NickServ" and "registered" in m.params[-1]
                )
            )
        # "testuser is now registered to ...", or at connect, when the database has it:
        # "This nickname is registered. Please choose a different nickname, or identify ..."
        text = reply.params[-1]
        if "is now registered" not in text and "This nickname is registered" not in text:
            raise ServerError(f"NickServ REGISTER failed: {reply.line()}")

    def stop(self) -> int | None:
        """Stop Atheme (SIGTERM, it saves its database), then the ircd."""
        proc, self.services.proc = self.services.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        return super().stop()

    def services_log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of Atheme's output."""
        try:
            text = self.services.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])
