"""POE::Pipe::OneWay and POE::Pipe::TwoWay: connected pairs of handles (via IO::Pipely).

Conduits, as in IO::Pipely 0.006:

``"pipe"``
    ``pipe(2)``; a two-way pipe is two of them.
``"socketpair"``
    A UNIX-domain stream ``socketpair(2)``. One-way: the unused direction is shut down.
``"inet"``
    A TCP connection over 127.0.0.1 (the only choice where the others are missing). The
    listener binds port 0 and is closed once its one connection is accepted; a stranger that
    connects first is refused.

Every handle has ``fileno()`` and is returned blocking, as POE returns it: whoever watches it
(a wheel) makes it non-blocking. Pipe ends are unbuffered binary files (``$| = 1``). For the
socket conduits of a two-way pipe, each side's read and write handle are the same socket.
With no conduit given, the first one that works is used, in POE's order (``pipe``,
``socketpair``, ``inet`` one-way; ``socketpair``, ``inet``, ``pipe`` two-way).
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
from typing import Final, Literal, TypeAlias

from poe.errors import InvalidArgument

__all__ = ["CONDUITS", "Conduit", "PipeEnd", "one_way", "two_way"]

Conduit: TypeAlias = Literal["pipe", "socketpair", "inet"]
#: One end of a pipe: an unbuffered binary file (``"pipe"``) or a socket.
PipeEnd: TypeAlias = "io.FileIO | socket.socket"

CONDUITS: Final[tuple[Conduit, ...]] = ("pipe", "socketpair", "inet")
# IO::Pipely's preference orders on POSIX systems.
_ONE_WAY_ORDER: Final[tuple[Conduit, ...]] = ("pipe", "socketpair", "inet")
_TWO_WAY_ORDER: Final[tuple[Conduit, ...]] = ("socketpair", "inet", "pipe")


def one_way(conduit: Conduit | None = None) -> tuple[PipeEnd, PipeEnd]:
    """A one-way pipe: what is written to ``write_end`` is read from ``read_end``.

    Args:
        conduit: ``"pipe"``, ``"socketpair"`` or ``"inet"``; ``None`` for the first that works.

    Returns:
        ``(read_end, write_end)``.

    Raises:
        InvalidArgument: ``conduit`` is not one of :data:`CONDUITS`.
        OSError: the conduit could not be made (with ``conduit=None``: none could).
    """
    for kind in _order(conduit, _ONE_WAY_ORDER):
        try:
            return _one_way(kind)
        except OSError:
            if conduit is not None or kind == _ONE_WAY_ORDER[-1]:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def two_way(
    conduit: Conduit | None = None,
) -> tuple[tuple[PipeEnd, PipeEnd], tuple[PipeEnd, PipeEnd]]:
    """A two-way pipe: side A writes what side B reads, and the other way round.

    Args:
        conduit: ``"pipe"``, ``"socketpair"`` or ``"inet"``; ``None`` for the first that works.

    Returns:
        ``((a_read, a_write), (b_read, b_write))``. For the socket conduits ``a_read is
        a_write`` and ``b_read is b_write``: close each socket once.

    Raises:
        InvalidArgument: ``conduit`` is not one of :data:`CONDUITS`.
        OSError: the conduit could not be made (with ``conduit=None``: none could).
    """
    for kind in _order(conduit, _TWO_WAY_ORDER):
        try:
            return _two_way(kind)
        except OSError:
            if conduit is not None or kind == _TWO_WAY_ORDER[-1]:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _order(conduit: Conduit | None, default: tuple[Conduit, ...]) -> tuple[Conduit, ...]:
    # IO::Pipely silently falls back to its default order on an unknown type; a typo here is a
    # bug, so it raises.
    if conduit is None:
        return default
    if conduit not in CONDUITS:
        raise InvalidArgument(f"unknown conduit {conduit!r}; expected one of {CONDUITS}")
    return (conduit,)


def _one_way(conduit: Conduit) -> tuple[PipeEnd, PipeEnd]:
    if conduit == "pipe":
        return _os_pipe()
    a, b = socket.socketpair() if conduit == "socketpair" else _tcp_pair()
    # IO::Pipely: shutdown($a_read, 1); shutdown($b_write, 0).
    a.shutdown(socket.SHUT_WR)
    b.shutdown(socket.SHUT_RD)
    return a, b


def _two_way(conduit: Conduit) -> tuple[tuple[PipeEnd, PipeEnd], tuple[PipeEnd, PipeEnd]]:
    if conduit == "pipe":
        a_read, b_write = _os_pipe()
        try:
            b_read, a_write = _os_pipe()
        except OSError:
            a_read.close()
            b_write.close()
            raise
        return (a_read, a_write), (b_read, b_write)
    a, b = socket.socketpair() if conduit == "socketpair" else _tcp_pair()
    return (a, a), (b, b)


def _os_pipe() -> tuple[io.FileIO, io.FileIO]:
    read_fd, write_fd = os.pipe()
    return io.FileIO(read_fd, "rb"), io.FileIO(write_fd, "wb")


# Port of IO::Pipely::_make_socket (0.006), without its select() loop: a blocking connect to a
# listening socket on loopback completes as soon as the kernel queues it for accept().
def _tcp_pair() -> tuple[socket.socket, socket.socket]:
    """A connected TCP pair over 127.0.0.1: ``(accepted, connector)``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        connector = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            connector.connect(listener.getsockname())
            expected = connector.getsockname()
            while True:
                accepted, peer = listener.accept()
                if peer == expected:
                    return accepted, connector
                # Someone else raced us to the port: not our pipe.
                with contextlib.suppress(OSError):
                    accepted.close()
        except BaseException:
            connector.close()
            raise
