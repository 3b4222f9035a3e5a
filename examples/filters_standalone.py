"""Filters and a driver used without a kernel: they are plain objects.

A filter turns raw chunks into records (``get``) and records into raw chunks (``put``); it does
no I/O. A driver moves octets between a handle and its own buffer; it does no framing. Neither
needs a kernel, a session or a wheel, so both are handy on their own: in scripts, in tests, in
code that does its own I/O.
"""

from __future__ import annotations

import errno
import os

from poe.driver import SysRWDriver
from poe.errors import InvalidArgument
from poe.filter import (
    BlockFilter,
    GrepFilter,
    LineFilter,
    MapFilter,
    RecordTooLarge,
    ReferenceFilter,
    StackableFilter,
)
from poe.pipe import one_way


def lines() -> None:
    print("-- LineFilter: bytes in, str lines out")
    line = LineFilter()
    print(line.get([b"HELO example.org\r"]))  # a CRLF split across two reads...
    print(line.get([b"\nMAIL FROM:<a@b>\r\nRC"]))  # ...gives no spurious empty line
    print(line.get([b"PT TO:<c@d>\n"]))  # CR, LF, CRLF and LFCR all end a line
    print(line.put(["250 ok", "354 go ahead"]))  # CRLF appended on output
    print(line.get([b"caf\xc3\xa9 \xff\n"]))  # UTF-8; a bad byte becomes U+FFFD
    exact = LineFilter(errors="surrogateescape")  # byte-exact round trip instead
    print(exact.put(exact.get([b"caf\xc3\xa9 \xff\n"])))


def limits() -> None:
    print("-- limits: the bad record is dropped, the filter keeps working")
    line = LineFilter(max_length=10)
    line.get_one_start([b"short\nmuch too long for us\nfine\n"])
    while True:
        try:
            record = line.get_one()
        except RecordTooLarge as exc:
            print("RecordTooLarge:", exc)
            continue
        if not record:
            break
        print(record)


def blocks() -> None:
    print("-- BlockFilter: length-prefixed or fixed-size blocks")
    block = BlockFilter()
    wire = block.put([b"abc", b"hello"])
    print(wire)
    print(block.get([b"junk!", *wire]))  # bytes that cannot start a header are dropped
    fixed = BlockFilter(block_size=4)
    print(fixed.get([b"abcdefghij"]), fixed.get_pending())


def references() -> None:
    print("-- ReferenceFilter: JSON by default, zlib on request")
    ref = ReferenceFilter()
    wire = ref.put([{"op": "add", "args": [1, 2]}])
    print(wire)
    print(ref.get(wire))
    packed = ReferenceFilter(compress=True)
    print(packed.get(packed.put([["spam"] * 50])) == [["spam"] * 50])
    tolerant = ReferenceFilter(no_fatals=True)  # an error comes back as a record
    records = tolerant.get([b"5\x00{bad}", *ref.put(["next"])])
    print([type(record).__name__ for record in records], records[-1])


def stacks() -> None:
    print("-- StackableFilter: lines, then drop comments, then split into words")
    stack = StackableFilter(
        [
            LineFilter(),
            GrepFilter(get=lambda line: not line.startswith("#"), put=lambda line: True),
            MapFilter(get=str.split, put=" ".join),
        ]
    )
    print(stack.get([b"# a comment\nadd 1 2\nmul 3"]))
    print(stack.get_pending())  # every stage's leftovers, as raw bytes
    print(stack.put([["sum", "3"]]))


def with_a_driver() -> None:
    print("-- a filter on top of a driver, on a pipe")
    read_end, write_end = one_way("pipe")
    for end in (read_end, write_end):
        os.set_blocking(end.fileno(), False)  # a driver wants non-blocking handles
    driver, line = SysRWDriver(block_size=4096), LineFilter()

    print("queued", driver.put(line.put(["one", "two"])), "octets")  # put never writes
    print("left after flush:", driver.flush(write_end))  # 0: everything was written
    chunks = driver.get(read_end)  # one read: [data]
    assert chunks is not None  # None would mean end of file
    print(chunks, "->", line.get(chunks))
    print("nothing to read:", driver.get(read_end))  # [] means "would block"
    try:
        driver.get(write_end)  # a real error raises OSError (POE: undef and $!)
    except OSError as exc:
        print("OSError:", errno.errorcode.get(exc.errno or 0, exc.errno))
    write_end.close()
    print("end of file:", driver.get(read_end))  # None (POE: undef, $! == 0)
    read_end.close()
    try:
        one_way("fifo")  # type: ignore[arg-type]  # typo: raises, no silent fallback
    except InvalidArgument as exc:
        print("InvalidArgument:", exc)


lines()
limits()
blocks()
references()
stacks()
with_a_driver()
