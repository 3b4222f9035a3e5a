"""A driver that speaks TLS over a connected non-blocking socket, with the stdlib :mod:`ssl`.

Theory of operation: the TLS engine is an :class:`ssl.SSLObject` between two memory BIOs, so
the driver, not ``ssl``, does the socket I/O. That keeps POE's driver contract: the handle is
passed to each :meth:`TLSDriver.get` and :meth:`TLSDriver.flush`, each does one bounded amount
of non-blocking work, and the socket object is never wrapped or detached.

Rules:

* The handshake is lazy: the first ``get`` or ``flush`` starts it, and every later call moves it
  on. Until it completes, ``get`` returns ``[]`` and ``flush`` writes no application data.
* Application octets stay counted in :meth:`~TLSDriver.get_out_octets_buffered` until their
  ciphertext has been written to the socket, so ``flush() == 0`` still means "all sent".
* A TLS engine also has things to write that are not application data (handshake records,
  alerts, close_notify) and may need to read before it can write. :attr:`~TLSDriver.want_write`
  and :attr:`~TLSDriver.want_read` say which readiness a wheel should wait for.
* End of file is the peer's close_notify. A transport EOF without it is also reported as end
  of file when ``suppress_ragged_eofs`` is true (the stdlib default), else as
  :class:`ssl.SSLEOFError`.
"""

from __future__ import annotations

import contextlib
import ssl
from typing import TYPE_CHECKING, Final

from poe.driver._outqueue import OutputQueue
from poe.driver.sysrw import DEFAULT_BLOCK_SIZE, check_block_size, read_once, write_once
from poe.errors import InvalidArgument

if TYPE_CHECKING:
    from collections.abc import Iterable

    from poe.driver._base import Handle

__all__ = ["TLSDriver"]


class TLSDriver:
    """Buffered non-blocking TLS on a connected socket (same API as :class:`SysRWDriver`).

    Args:
        context: The TLS settings: certificates, verification, protocol versions.
        server_side: Act as the TLS server (the side that accepted the connection).
        server_hostname: The name a client checks the server's certificate against (and sends
            as SNI); required by a context with ``check_hostname``.
        block_size: The most octets one :meth:`get` reads from the socket, and the most
            application octets encrypted at a time.
        suppress_ragged_eofs: Report a transport EOF without close_notify as end of file
            (``None`` from :meth:`get`) rather than raising :class:`ssl.SSLEOFError`.

    Raises:
        InvalidArgument: ``block_size`` is not a positive ``int``.
    """

    __slots__ = (
        "_closing",
        "_deferred",
        "_eof",
        "_incoming",
        "_inflight",
        "_notify_sent",
        "_out",
        "_outgoing",
        "_started",
        "_tls",
        "_wire",
        "block_size",
        "suppress_ragged_eofs",
    )

    def __init__(
        self,
        context: ssl.SSLContext,
        *,
        server_side: bool = False,
        server_hostname: str | None = None,
        block_size: int = DEFAULT_BLOCK_SIZE,
        suppress_ragged_eofs: bool = True,
    ) -> None:
        self.block_size: Final = check_block_size(block_size)
        self.suppress_ragged_eofs = suppress_ragged_eofs
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(
            self._incoming,
            self._outgoing,
            server_side=server_side,
            server_hostname=server_hostname,
        )
        #: Application octets not yet sent (encrypted or not).
        self._out = OutputQueue()
        #: Ciphertext waiting for the socket.
        self._wire = OutputQueue()
        #: Octets at the head of ``_out`` already encrypted into ``_wire``.
        self._inflight = 0
        self._started = False
        self._closing = False
        self._notify_sent = False
        self._eof = False
        #: An error met after data was read; raised by the next ``get`` so no data is lost.
        self._deferred: OSError | None = None

    def __repr__(self) -> str:
        side = "server" if self._tls.server_side else "client"
        state = "open" if self.handshake_done else "handshaking"
        return f"<TLSDriver {side} {state} out={self._out.octets} wire={self._wire.octets}>"

    # -- state a wheel looks at -----------------------------------------------------------------

    @property
    def ssl_object(self) -> ssl.SSLObject:
        """The TLS engine: ``getpeercert()``, ``version()``, ``selected_alpn_protocol()``..."""
        return self._tls

    @property
    def handshake_done(self) -> bool:
        """Whether the handshake has completed."""
        # SSLObject.version() is None until the handshake has completed.
        return self._tls.version() is not None

    @property
    def want_write(self) -> bool:
        """Whether :meth:`flush` has work to do once the socket is writable.

        True while ciphertext waits for the socket, before the handshake has started, and, once
        it has completed, while application data or a requested close_notify is queued.
        """
        if self._wire.octets or not self._started:
            return True
        if not self.handshake_done:
            return False
        return bool(self._out.octets) or (self._closing and not self._notify_sent)

    @property
    def want_read(self) -> bool:
        """Whether the driver waits for the peer: the handshake has started and not finished.

        Output cannot move until :meth:`get` has read the peer's handshake records.
        """
        return self._started and not self.handshake_done

    # -- the driver API -------------------------------------------------------------------------

    def get(self, handle: Handle) -> list[bytes] | None:
        """Read once from ``handle`` (at most ``block_size`` octets) and decrypt what arrived.

        Also moves the handshake on and sends what the TLS engine has to say in reply.

        Returns:
            ``[plaintext, ...]``; ``[]`` if no complete application record is available yet
            (the read would block, the handshake is not done, or a record is partial);
            ``None`` at end of file (the peer's close_notify, or a ragged EOF if suppressed).

        Raises:
            OSError: the read failed; :class:`ssl.SSLError` for TLS failures (certificate
                verification, protocol errors, a ragged EOF when not suppressed).
        """
        if self._deferred is not None:
            error, self._deferred = self._deferred, None
            raise error
        if self._eof:
            return None
        try:
            data = read_once(handle, self.block_size)
        except BlockingIOError:
            pass
        else:
            if data:
                self._incoming.write(data)
            else:
                self._incoming.write_eof()
        if not self.handshake_done:
            try:
                done = self._handshake()
            except ssl.SSLEOFError:
                if not self.suppress_ragged_eofs:
                    raise
                self._eof = True
                return None
            self._send_wire(handle)
            if not done:
                return []
        chunks = self._decrypt()
        # Reading may produce records to send (TLS 1.3 key updates, a close_notify reply).
        self._collect()
        self._send_wire(handle)
        return chunks

    def put(self, chunks: Iterable[bytes]) -> int:
        """Queue the non-empty ``chunks``; return the application octets buffered.

        Raises:
            InvalidArgument: :meth:`shutdown` was already called.
        """
        if self._closing:
            raise InvalidArgument("put() after shutdown() on a TLSDriver")
        return self._out.put(chunks)

    def flush(self, handle: Handle) -> int:
        """Move the handshake on, then encrypt and write queued data until the socket blocks.

        Returns:
            The application octets not yet written to the socket; 0 when all were sent. Check
            :attr:`want_write` for handshake or close_notify records still waiting.

        Raises:
            OSError: the write failed; :class:`ssl.SSLError` for TLS failures. Unsent data
                stays queued.
        """
        if not self._send_wire(handle):
            return self._out.octets
        if not self.handshake_done:
            done = self._handshake()
            if not self._send_wire(handle) or not done:
                return self._out.octets
        while True:
            if self._out.octets:
                # Encrypt one block only when the previous one is on the wire: the ciphertext
                # buffer stays bounded, and the octets count stays honest.
                try:
                    self._inflight = self._tls.write(self._out.head()[: self.block_size])
                except ssl.SSLWantReadError:
                    break
            elif self._closing and not self._notify_sent:
                self._notify_sent = True
                # unwrap() queues our close_notify, then wants the peer's: not waited for.
                with contextlib.suppress(ssl.SSLWantReadError):
                    self._tls.unwrap()
            else:
                break
            self._collect()
            if not self._send_wire(handle):
                break
        return self._out.octets

    def shutdown(self, handle: Handle) -> int:
        """Send close_notify after the queued data; further :meth:`put` calls are refused.

        The peer's close_notify is not awaited (TLS allows a one-way close); :meth:`get` still
        reads until it arrives. Call :meth:`flush` while :attr:`want_write` is true to finish.

        Returns:
            What :meth:`flush` returns.
        """
        self._closing = True
        return self.flush(handle)

    def get_out_messages_buffered(self) -> int:
        """Application chunks not fully sent; a partly sent chunk counts as one."""
        return len(self._out)

    def get_out_octets_buffered(self) -> int:
        """Application octets not yet written to the socket."""
        return self._out.octets

    # -- internals ------------------------------------------------------------------------------

    def _handshake(self) -> bool:
        """Run the handshake as far as the data at hand allows; queue what it wants to send."""
        self._started = True
        try:
            self._tls.do_handshake()
        except ssl.SSLWantReadError:
            return False
        finally:
            # Alerts explaining a failure are queued too: they go out with the next write.
            self._collect()
        return True

    def _decrypt(self) -> list[bytes] | None:
        """Read every complete application record out of the TLS engine (None: end of file)."""
        chunks: list[bytes] = []
        return chunks if self._read_records(chunks) or chunks else None

    def _read_records(self, chunks: list[bytes]) -> bool:
        """Append decrypted records to ``chunks``; False once the stream has ended."""
        while True:
            try:
                chunk = self._tls.read(self.block_size)
            except ssl.SSLWantReadError:
                return True
            except ssl.SSLZeroReturnError:
                self._eof = True
                return False
            except ssl.SSLEOFError as error:
                if not self.suppress_ragged_eofs:
                    if not chunks:
                        raise
                    self._deferred = error
                self._eof = True
                return False
            except OSError as error:
                if not chunks:
                    raise
                self._deferred = error
                return False
            if not chunk:
                # The peer's close_notify, once we have not sent ours (otherwise it raises
                # SSLZeroReturnError above).
                self._eof = True
                return False
            chunks.append(chunk)

    def _collect(self) -> None:
        """Move ciphertext from the TLS engine to the wire queue."""
        if self._outgoing.pending:
            self._wire.put((self._outgoing.read(),))

    def _send_wire(self, handle: Handle) -> bool:
        """Write queued ciphertext until the socket blocks; True when the queue is empty."""
        wire = self._wire
        while wire.octets:
            try:
                written = write_once(handle, wire.head())
            except BlockingIOError:
                return False
            if not written:
                return False
            wire.consume(written)
        if self._inflight:
            self._out.consume(self._inflight)
            self._inflight = 0
        return True
