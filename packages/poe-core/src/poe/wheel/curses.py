r"""Full-screen terminal keystroke input (POE::Wheel::Curses).

Port of POE::Wheel::Curses 1.370 on the stdlib :mod:`curses` module. The constructor
initializes the screen the way POE does (``initscr``, colours when the terminal has them,
``cbreak`` + ``raw``, ``noecho``, ``nonl``, ``nodelay``, ``keypad``, no ``intrflush``), then
watches STDIN with the kernel's ``select_read``. Every keystroke available when STDIN becomes
readable is ``call``-ed to the owner session as ``input_event(key, wheel_id)``.

Deviation from POE, whose ``getch`` hands out raw integers: keys are read with ``get_wch``, so a
character is a one-character :class:`str` (unicode as well as ASCII; Enter is ``"\r"`` because
of ``nonl``, Ctrl-C is ``"\x03"`` because of ``raw``) and a function key is its curses name
(``"KEY_UP"``, ``"KEY_F(1)"``, ``"KEY_RESIZE"`` ...), the name :func:`curses.keyname` gives.

The screen is the program's: draw on :attr:`CursesWheel.window` (``stdscr``) with the usual
curses calls. :meth:`CursesWheel.close` (also ``with`` and dropping the wheel) stops watching
STDIN and restores the terminal (``endwin``). Only one instance may exist at a time.
"""

from __future__ import annotations

import contextlib
import curses
import sys
import weakref
from typing import TYPE_CHECKING, Any

from poe.errors import InvalidArgument
from poe.loop import Mode
from poe.wheel._base import WheelBase

if TYPE_CHECKING:
    from poe.kernel import Kernel

__all__ = ["CursesWheel", "key_name"]

#: The live wheel, if any: curses has one screen per program.
_instance: weakref.ref[CursesWheel] | None = None


#: ``KEY_*`` constants by value, for :func:`key_name` before the screen is initialized.
_KEY_NAMES = {
    value: name
    for name, value in sorted(vars(curses).items(), reverse=True)
    if name.startswith("KEY_") and name not in ("KEY_MIN", "KEY_MAX") and isinstance(value, int)
}


def key_name(key: int | str) -> str:
    """The keystroke ``key`` as the wheel reports it: characters as they are, codes by name."""
    if isinstance(key, str):
        return key
    try:
        return curses.keyname(key).decode("ascii", "replace")
    except (ValueError, curses.error):  # before initscr(): the module's own names
        return _KEY_NAMES.get(key, f"KEY_{key}")


class CursesWheel(WheelBase):
    """Put the terminal in curses mode and deliver each keystroke as an event.

    Args:
        kernel: the kernel; its active session owns the wheel.
        input_event: ``(key, wheel_id)`` per keystroke (POE's ``InputEvent``; required).

    Raises:
        InvalidArgument: no ``input_event``.
        RuntimeError: another CursesWheel is open.
        curses.error: the terminal cannot be initialized (STDOUT is not a terminal, unknown
            ``TERM``).
        NotInSession: not created inside a session's handler.
    """

    def __init__(self, kernel: Kernel, *, input_event: str) -> None:
        global _instance
        given: object = input_event
        if not isinstance(given, str) or not input_event:
            msg = "CursesWheel needs an input_event"
            raise InvalidArgument(msg)
        other = _instance() if _instance is not None else None
        if other is not None and not other.closed:
            msg = f"only one CursesWheel may be open at a time ({other!r} is)"
            raise RuntimeError(msg)
        super().__init__(kernel)
        self._input_event = input_event
        self._started = False
        try:
            self._window: Any = curses.initscr()
            self._started = True
            with contextlib.suppress(curses.error):
                if curses.has_colors():
                    curses.start_color()
            curses.cbreak()
            curses.raw()
            curses.noecho()
            curses.nonl()
            self._window.nodelay(True)
            self._window.keypad(True)
            with contextlib.suppress(curses.error):
                curses.intrflush(False)
            self._stdin = sys.stdin.fileno()
            self._watch(self._stdin, Mode.READ, self._define("select read", "_on_read"))
        except BaseException:
            self.close()
            raise
        _instance = weakref.ref(self)

    @property
    def window(self) -> Any:
        """The whole-screen window (``stdscr``) to draw on."""
        return self._window

    def _on_read(self, *args: Any) -> None:
        while not self._closed:
            try:
                key = self._window.get_wch()
            except curses.error:  # nothing more to read now
                return
            self._emit(self._input_event, key_name(key), self._id)

    def close(self) -> None:
        """Stop reading STDIN and restore the terminal. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._release()
        if self._started:
            self._started = False
            with contextlib.suppress(curses.error):
                self._window.keypad(False)
                self._window.nodelay(False)
            for restore in (curses.noraw, curses.nocbreak, curses.echo, curses.nl):
                with contextlib.suppress(curses.error):
                    restore()
            with contextlib.suppress(curses.error):
                curses.endwin()
