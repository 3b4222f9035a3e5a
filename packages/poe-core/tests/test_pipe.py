"""Port of t/10_units/02_pipes (POE 1.370): every conduit carries a message intact.

Semantics settled against IO::Pipely 0.006 (POE::Pipe's backend): one-way socket conduits shut
down the unused direction; two-way socket conduits use one socket per side for reading and
writing; the handles come back blocking; the default orders are pipe/socketpair/inet (one-way)
and socketpair/inet/pipe (two-way).
"""

from __future__ import annotations

import os
import socket
from typing import get_args

import pytest

from poe.errors import InvalidArgument
from poe.pipe import CONDUITS, Conduit, PipeEnd, one_way, two_way

MESSAGE = b"This is a test message.\n"


def _send(end: PipeEnd, data: bytes) -> None:
    if isinstance(end, socket.socket):
        end.sendall(data)
    else:
        end.write(data)


def _recv_exactly(end: PipeEnd, size: int) -> bytes:
    received = b""
    while len(received) < size:
        chunk = os.read(end.fileno(), size - len(received))
        assert chunk, "unexpected end of file"
        received += chunk
    return received


def _close(*ends: PipeEnd) -> None:
    for end in {id(end): end for end in ends}.values():
        end.close()


def test_conduits_match_the_literal_type() -> None:
    assert set(CONDUITS) == set(get_args(Conduit))


@pytest.mark.parametrize("conduit", [*CONDUITS, None])
def test_one_way_carries_a_message(conduit: Conduit | None) -> None:
    read_end, write_end = one_way(conduit)
    try:
        assert os.get_blocking(read_end.fileno())
        assert os.get_blocking(write_end.fileno())
        _send(write_end, MESSAGE)
        assert _recv_exactly(read_end, len(MESSAGE)) == MESSAGE
        write_end.close()
        assert os.read(read_end.fileno(), 10) == b""
    finally:
        _close(read_end, write_end)


@pytest.mark.parametrize("conduit", ["socketpair", "inet"])
def test_one_way_sockets_are_one_way(conduit: Conduit) -> None:
    read_end, write_end = one_way(conduit)
    try:
        assert isinstance(read_end, socket.socket)
        with pytest.raises(BrokenPipeError):
            read_end.send(b"backwards")
    finally:
        _close(read_end, write_end)


def test_default_one_way_is_a_pipe() -> None:
    read_end, write_end = one_way()
    try:
        assert not isinstance(read_end, socket.socket)
        assert not isinstance(write_end, socket.socket)
    finally:
        _close(read_end, write_end)


@pytest.mark.parametrize("conduit", [*CONDUITS, None])
def test_two_way_carries_messages_both_ways(conduit: Conduit | None) -> None:
    (a_read, a_write), (b_read, b_write) = two_way(conduit)
    try:
        _send(a_write, b"a to b: " + MESSAGE)
        assert _recv_exactly(b_read, 8 + len(MESSAGE)) == b"a to b: " + MESSAGE
        _send(b_write, b"b to a: " + MESSAGE)
        assert _recv_exactly(a_read, 8 + len(MESSAGE)) == b"b to a: " + MESSAGE
    finally:
        _close(a_read, a_write, b_read, b_write)


@pytest.mark.parametrize("conduit", ["socketpair", "inet"])
def test_two_way_sockets_share_one_socket_per_side(conduit: Conduit) -> None:
    (a_read, a_write), (b_read, b_write) = two_way(conduit)
    try:
        assert a_read is a_write
        assert b_read is b_write
    finally:
        _close(a_read, b_read)


def test_default_two_way_is_a_socketpair() -> None:
    (a_read, _), (b_read, _) = two_way()
    try:
        assert isinstance(a_read, socket.socket)
        assert a_read.family == socket.AF_UNIX
    finally:
        _close(a_read, b_read)


def test_inet_is_loopback_tcp() -> None:
    read_end, write_end = one_way("inet")
    try:
        assert isinstance(read_end, socket.socket)
        assert isinstance(write_end, socket.socket)
        assert read_end.family == socket.AF_INET
        assert read_end.getsockname()[0] == "127.0.0.1"
        assert read_end.getpeername() == write_end.getsockname()
    finally:
        _close(read_end, write_end)


@pytest.mark.parametrize("make", [one_way, two_way])
def test_unknown_conduit_is_refused(make: object) -> None:
    with pytest.raises(InvalidArgument, match="unknown conduit"):
        make("carrier-pigeon")  # type: ignore[operator]
