"""uvloop peer: ``asyncio_peer``'s benchmarks run on a uvloop loop.

``python bench/peers/uvloop_peer.py BENCH N`` with the same benchmarks as ``asyncio_peer.py``.
"""

from __future__ import annotations

import uvloop
from asyncio_peer import main

#: The minimal uvloop program of the ``startup`` benchmark: one callback scheduled with call_soon.
STARTUP_PROGRAM = """\
import asyncio
import uvloop

async def main():
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.call_soon(done.set_result, None)
    await done

uvloop.run(main())
"""

if __name__ == "__main__":
    main(uvloop.new_event_loop, STARTUP_PROGRAM)
