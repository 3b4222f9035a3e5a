"""Port of t/10_units/04_drivers/01_sysrw.t (POE 1.370) plus the Driver protocol contract.

Semantics settled against Perl POE 1.370 (``perl -MPOE::Driver::SysRW``):
BlockSize <= 0 croaks; get gives [] on EAGAIN, undef with $! 0 at EOF; put drops empty chunks
and returns the octets buffered; flush through a full 64 KiB pipe leaves 100004 - 65536 octets
and 2 messages (the partly written chunk counts as one); flush to a pipe with no reader fails
with EPIPE and keeps every octet queued.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import socket
from collections.abc import Iterator

import pytest

from poe.driver import DEFAULT_BLOCK_SIZE, Driver, SysRWDriver, TLSDriver
from poe.errors import InvalidArgument


def _nonblocking_pipe() -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    os.set_blocking(write_fd, False)
    return read_fd, write_fd


@pytest.fixture
def pipe_fds() -> Iterator[tuple[int, int]]:
    read_fd, write_fd = _nonblocking_pipe()
    yield read_fd, write_fd
    for fd in (read_fd, write_fd):
        with contextlib.suppress(OSError):  # a test closed it already
            os.close(fd)


@pytest.fixture
def sockets() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    with a, b:
        yield a, b


def _pipe_capacity(fd: int) -> int:
    f_getpipe_sz = getattr(fcntl, "F_GETPIPE_SZ", None)
    return int(fcntl.fcntl(fd, f_getpipe_sz)) if f_getpipe_sz is not None else 65536


# -- constructor ----------------------------------------------------------------------------------


def test_default_block_size() -> None:
    assert SysRWDriver().block_size == DEFAULT_BLOCK_SIZE == 65536


@pytest.mark.parametrize("size", [0, -1])
def test_block_size_must_be_positive(size: int) -> None:
    with pytest.raises(InvalidArgument, match="greater than 0"):
        SysRWDriver(size)


@pytest.mark.parametrize("size", [True, 1.5, "10", None])
def test_block_size_must_be_an_int(size: object) -> None:
    with pytest.raises(InvalidArgument):
        SysRWDriver(size)  # type: ignore[arg-type]


def test_unknown_parameters_are_refused() -> None:
    # POE croaks "has unknown parameter(s)"; Python refuses the keyword.
    with pytest.raises(TypeError):
        SysRWDriver(BlockSize=10)  # type: ignore[call-arg]


def test_drivers_satisfy_the_protocol() -> None:
    import ssl

    drivers: list[Driver] = [SysRWDriver(), TLSDriver(ssl.create_default_context())]
    assert all(d.get_out_octets_buffered() == 0 for d in drivers)


# -- get ------------------------------------------------------------------------------------------


def test_get_would_block_returns_empty_list(pipe_fds: tuple[int, int]) -> None:
    read_fd, _ = pipe_fds
    assert SysRWDriver().get(read_fd) == []


def test_get_returns_one_chunk_of_at_most_block_size(pipe_fds: tuple[int, int]) -> None:
    read_fd, write_fd = pipe_fds
    os.write(write_fd, b"abcdefgh")
    driver = SysRWDriver(block_size=4)
    assert driver.get(read_fd) == [b"abcd"]
    assert driver.get(read_fd) == [b"efgh"]
    assert driver.get(read_fd) == []


def test_get_at_eof_returns_none(pipe_fds: tuple[int, int]) -> None:
    read_fd, write_fd = pipe_fds
    os.write(write_fd, b"last")
    os.close(write_fd)
    driver = SysRWDriver()
    assert driver.get(read_fd) == [b"last"]
    assert driver.get(read_fd) is None
    assert driver.get(read_fd) is None


def test_get_error_raises_oserror(pipe_fds: tuple[int, int]) -> None:
    _, write_fd = pipe_fds
    with pytest.raises(OSError):  # noqa: PT011 - the errno is the platform's (EBADF on Linux)
        SysRWDriver().get(write_fd)


def test_get_accepts_file_objects(sockets: tuple[socket.socket, socket.socket]) -> None:
    a, b = sockets
    b.sendall(b"over a socket")
    assert SysRWDriver().get(a) == [b"over a socket"]
    b.shutdown(socket.SHUT_WR)
    assert SysRWDriver().get(a) is None


# -- put / flush ----------------------------------------------------------------------------------


def test_put_drops_empty_chunks_and_returns_octets() -> None:
    driver = SysRWDriver()
    assert driver.put([b"abc", b"", b"defgh"]) == 8
    assert driver.get_out_messages_buffered() == 2
    assert driver.put([]) == 8
    # Mutable buffers are accepted at run time (and copied); the contract types bytes.
    assert driver.put(iter([bytearray(b"xy")])) == 10  # type: ignore[arg-type]
    assert driver.get_out_octets_buffered() == 10
    assert driver.get_out_messages_buffered() == 3


def test_put_copies_mutable_buffers(pipe_fds: tuple[int, int]) -> None:
    read_fd, write_fd = pipe_fds
    driver = SysRWDriver()
    buffer = bytearray(b"before")
    driver.put([buffer])  # type: ignore[list-item]
    buffer[:] = b"AFTER!"
    assert driver.flush(write_fd) == 0
    assert os.read(read_fd, 100) == b"before"


def test_flush_writes_everything(pipe_fds: tuple[int, int]) -> None:
    read_fd, write_fd = pipe_fds
    driver = SysRWDriver()
    driver.put([b"abc", b"defgh"])
    assert driver.flush(write_fd) == 0
    assert driver.get_out_messages_buffered() == 0
    assert os.read(read_fd, 100) == b"abcdefgh"


def test_flush_of_an_empty_queue_returns_zero(pipe_fds: tuple[int, int]) -> None:
    assert SysRWDriver().flush(pipe_fds[1]) == 0


def test_flush_partial_write_through_a_full_pipe(pipe_fds: tuple[int, int]) -> None:
    read_fd, write_fd = pipe_fds
    capacity = _pipe_capacity(write_fd)
    big = bytes(range(256)) * ((capacity + 40000) // 256)
    driver = SysRWDriver()
    total = driver.put([big, b"tail"])
    assert total == len(big) + 4

    left = driver.flush(write_fd)
    assert 0 < left < total
    assert driver.get_out_octets_buffered() == left
    # The big chunk is partly written, and still counts as a message.
    assert driver.get_out_messages_buffered() == 2
    # The pipe is full: nothing more goes out.
    assert driver.flush(write_fd) == left

    received = bytearray()
    while driver.get_out_octets_buffered():
        select.select([read_fd], [], [])
        received += os.read(read_fd, 65536)
        driver.flush(write_fd)
    assert driver.get_out_messages_buffered() == 0
    reader = SysRWDriver()
    while chunks := reader.get(read_fd):
        received += b"".join(chunks)
    assert bytes(received) == big + b"tail"


def test_flush_error_raises_and_keeps_data(pipe_fds: tuple[int, int]) -> None:
    read_fd, write_fd = pipe_fds
    os.close(read_fd)
    driver = SysRWDriver()
    driver.put([b"hello"])
    with pytest.raises(BrokenPipeError):
        driver.flush(write_fd)
    assert driver.get_out_octets_buffered() == 5
    assert driver.get_out_messages_buffered() == 1


def test_round_trip_over_a_socketpair(sockets: tuple[socket.socket, socket.socket]) -> None:
    a, b = sockets
    writer, reader = SysRWDriver(), SysRWDriver(block_size=1000)
    message = os.urandom(300_000)
    writer.put([message[i : i + 7000] for i in range(0, len(message), 7000)])
    received = bytearray()
    while len(received) < len(message):
        want_write = [b] if writer.get_out_octets_buffered() else []
        readable, writable, _ = select.select([a], want_write, [])
        if writable:
            writer.flush(b)
        if readable:
            chunks = reader.get(a)
            assert chunks is not None
            for chunk in chunks:
                assert 0 < len(chunk) <= 1000
                received += chunk
    assert bytes(received) == message
    assert writer.get_out_messages_buffered() == 0
