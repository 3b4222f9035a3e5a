"""Run a Python program on a real pseudo-terminal and talk to it like a user at a keyboard.

Terminal wheels (ReadLine, Curses) and components with a console need a real tty to be tested:
:class:`PtyChild` starts ``sys.executable -c PROGRAM`` with fds 0-2 on the slave side of a pty
(80x24, ``TERM=xterm``), writes keystrokes to the master side and reads what the child prints.
Deadlines only turn a hang into a failure; nothing here measures time.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import struct
import subprocess
import sys
import termios
import textwrap
import time
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ["DEADLINE", "PtyChild"]

#: Seconds to wait for expected output, or for the child to exit, before failing.
DEADLINE: Final = 15.0


class PtyChild:
    """A child Python on a pty, and everything it wrote so far.

    Args:
        program: Python source (dedented) run with ``python -c``.
        *args: its ``sys.argv[1:]``.
        pythonpath: directories put in front of ``PYTHONPATH`` (a source tree under test).
        env: extra environment variables.

    Raises:
        OSError: no pty can be opened here (callers usually skip the test).
    """

    def __init__(
        self,
        program: str,
        *args: str,
        pythonpath: Iterable[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        master, slave = os.openpty()
        self.master = master
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        child_env = dict(os.environ)
        paths = [*pythonpath, child_env.get("PYTHONPATH", "")]
        child_env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
        child_env["TERM"] = "xterm"
        child_env.pop("COLUMNS", None)
        child_env.pop("LINES", None)
        child_env.update(env or {})
        self.proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(program), *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=child_env,
            start_new_session=True,
        )
        os.close(slave)
        self.output = b""
        self.pos = 0

    def expect(self, pattern: bytes, deadline: float = DEADLINE) -> re.Match[bytes]:
        """Read until ``pattern`` appears after the previous match.

        Raises:
            AssertionError: the child ended, or ``deadline`` seconds passed, first.
        """
        regex = re.compile(pattern)
        end = time.monotonic() + deadline
        while True:
            found = regex.search(self.output, self.pos)
            if found is not None:
                self.pos = found.end()
                return found
            left = end - time.monotonic()
            if left <= 0:
                msg = f"no {pattern!r} from the child; it wrote (end):\n{self.output[-3000:]!r}"
                raise AssertionError(msg)
            ready, _, _ = select.select([self.master], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed the pty
                chunk = b""
            if not chunk:
                msg = (
                    f"the child ended before {pattern!r}; it wrote (end):\n{self.output[-3000:]!r}"
                )
                raise AssertionError(msg)
            self.output += chunk

    def send(self, data: bytes) -> None:
        """Type ``data`` on the child's keyboard."""
        os.write(self.master, data)

    def result(self) -> Any:
        """The JSON object of the child's ``RESULT {...}`` line."""
        found = self.expect(rb"RESULT (\{.*?\})\r?\n")
        return json.loads(found.group(1))

    def close(self) -> None:
        """Wait for the child to exit (kill it after :data:`DEADLINE`), then close the pty."""
        try:
            self.proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:  # pragma: no cover - only when a test failed
            self.proc.kill()
            self.proc.wait()
        finally:
            os.close(self.master)
