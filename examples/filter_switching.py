"""Switching filters mid-stream: header lines, then a body of known length, then lines again.

An HTTP-like request is a few lines, a blank line, then a body of ``Content-Length`` bytes that
must not be cut into lines. The reader parses with ``get_one`` (one record at a time), and
when the headers end it moves ``get_pending()`` (the bytes already read but not parsed) to the
next filter. This is what the layer that joins a driver and a filter to the kernel (ReadWrite)
does when a program changes its filter.
"""

from __future__ import annotations

from typing import Any

from poe.filter import BlockFilter, Filter, LineFilter

# Two requests on one connection, as the driver happened to read them: the chunk boundaries
# fall in the middle of a header, of the body and of the second request.
CHUNKS = [
    b"POST /notes HTTP/1.1\r\nContent-Le",
    b"ngth: 14\r\n\r\nline 1\nli",
    b"ne 2\nGET /notes HTTP/1.1\r\n\r\n",
]


class Reader:
    """What a wheel does with each chunk the driver reads, reduced to the filter part."""

    def __init__(self) -> None:
        self.filter: Filter[bytes, Any] = LineFilter(literal=b"\r\n")
        self.headers: list[str] = []

    def switch(self, new: Filter[bytes, Any]) -> None:
        pending = self.filter.get_pending()  # raw bytes the old filter holds, unparsed
        print(f"   switch to {type(new).__name__}, handing over {pending}")
        if pending:
            new.get_one_start(pending)
        self.filter = new

    def feed(self, chunk: bytes) -> None:
        print(f"read {chunk!r}")
        self.filter.get_one_start([chunk])
        while record := self.filter.get_one():  # one record, then maybe a new filter
            self.handle(record[0])

    def handle(self, record: Any) -> None:
        if isinstance(self.filter, BlockFilter):
            print(f"   body {record!r}")
            self.switch(LineFilter(literal=b"\r\n"))  # back to lines for the next request
        elif record:
            print(f"   header line {record!r}")
            self.headers.append(record)
        else:
            lengths = [h.split(":")[1] for h in self.headers if h.startswith("Content-Length:")]
            self.headers = []
            if lengths:
                self.switch(BlockFilter(block_size=int(lengths[0])))
            else:
                print("   (no body)")


reader = Reader()
for chunk in CHUNKS:
    reader.feed(chunk)

print("-- without switching, the body is cut into lines:")
print(LineFilter().get(CHUNKS))
