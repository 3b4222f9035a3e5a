"""An interactive prompt with line editing and history that never blocks the kernel.

Port of POE::Wheel::ReadLine 1.370, built on `prompt_toolkit`_ instead of POE's own
Term::Cap line editor (install ``poe-core[readline]``). The prompt runs as prompt_toolkit's
``PromptSession.prompt_async()`` on the kernel's asyncio loop (through
:meth:`poe.kernel.Kernel.await_into`), so every other session keeps running while the user
types. The wheel therefore needs an asyncio-based loop backend (``asyncio`` or ``uvloop``);
on the ``select`` backend the constructor raises :class:`RuntimeError`.

:meth:`ReadLineWheel.get` arms one input line. When the user ends it, the owner session gets
``input_event(line, None, wheel_id)``; when the line is abandoned, ``input_event(None,
exception, wheel_id)`` where ``exception`` is ``"interrupt"`` (Ctrl-C), ``"eot"`` (Ctrl-D on
an empty line) or ``"cancel"`` (Ctrl-G). Call :meth:`~ReadLineWheel.get` again to read the next
line.

:meth:`ReadLineWheel.put` prints lines above the prompt without corrupting it. ``put_mode``
decides when, while a line is being read: ``"immediate"`` at once, ``"after"`` once the line is
finished, ``"idle"`` (the default) once the user has not pressed a key for ``idle_time``
seconds (or once the line is finished). When no line is being read, output is printed at once.

History is explicit, as in POE: accepted lines are *not* added by themselves; the program calls
:meth:`~ReadLineWheel.add_history` (usually with the line it just got).

Deviations from POE: the key bindings are prompt_toolkit's emacs bindings (no inputrc,
``bind_key`` or ``add_defun``); ``app_name`` is only recorded; the input event is posted (POE
yields it too) after the prompt has been erased or left on screen by prompt_toolkit.

.. _prompt_toolkit: https://python-prompt-toolkit.readthedocs.io/
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import weakref
from typing import TYPE_CHECKING, Any

from poe._aio import asyncio_loop
from poe.errors import InvalidArgument, NotInSession
from poe.wheel._base import WheelBase

try:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.application import run_in_terminal
    from prompt_toolkit.application.current import set_app
    from prompt_toolkit.filters import Condition
    from prompt_toolkit.history import History
    from prompt_toolkit.key_binding import KeyBindings
except ImportError as _exc:  # pragma: no cover - depends on the installation
    _msg = "ReadLineWheel needs prompt_toolkit: pip install 'poe-core[readline]'"
    raise ImportError(_msg) from _exc

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Iterable

    from prompt_toolkit.key_binding import KeyPressEvent

    from poe.kernel import Kernel
    from poe.session import Context

__all__ = ["ReadLineWheel"]

PUT_MODES = ("immediate", "after", "idle")

#: The live wheel, if any: POE allows one ReadLine per program.
_instance: weakref.ref[ReadLineWheel] | None = None


class _Abandoned(Exception):
    """Ends a prompt without a line; ``word`` is POE's exception word."""

    def __init__(self, word: str) -> None:
        super().__init__(word)
        self.word = word


class _WheelHistory(History):
    """History that only grows when the program says so (POE's ``add_history``)."""

    def __init__(self) -> None:
        super().__init__()
        self._loaded = True  # nothing to load: the list is the storage

    def load_history_strings(self) -> Iterable[str]:
        return list(self._loaded_strings)

    def store_string(self, string: str) -> None:
        pass

    def append_string(self, string: str) -> None:
        """Ignore the prompt's own append on Enter: history is explicit."""

    def add(self, string: str) -> None:
        self._loaded_strings.insert(0, string)

    def entries(self) -> list[str]:
        return self._loaded_strings[::-1]


def _key_bindings() -> KeyBindings:
    kb = KeyBindings()

    @kb.add("c-c")
    def _interrupt(event: KeyPressEvent) -> None:
        event.app.exit(exception=_Abandoned("interrupt"), style="class:aborting")

    @Condition
    def empty() -> bool:
        from prompt_toolkit.application.current import get_app

        return not get_app().current_buffer.text

    @kb.add("c-d", filter=empty)
    def _eot(event: KeyPressEvent) -> None:
        event.app.exit(exception=_Abandoned("eot"), style="class:exiting")

    @kb.add("c-g")
    def _cancel(event: KeyPressEvent) -> None:
        event.app.exit(exception=_Abandoned("cancel"), style="class:aborting")

    return kb


async def _read_line(
    session: PromptSession[str], wheel: weakref.ref[ReadLineWheel]
) -> tuple[str | None, str | None]:
    """One prompt; ``(line, None)`` or ``(None, exception_word)``.

    Holds the wheel weakly, so dropping the wheel while it reads closes it.
    """

    def pre_run() -> None:
        # close() may have come between get() and the start of the application.
        owner = wheel()
        if owner is None or owner.closed:
            session.app.exit(exception=_Abandoned("closed"))

    try:
        line = await session.prompt_async(
            set_exception_handler=False, handle_sigint=False, pre_run=pre_run
        )
    except _Abandoned as exc:
        return None, exc.word
    except KeyboardInterrupt:
        return None, "interrupt"
    except EOFError:
        return None, "eot"
    return line, None


def _write(text: str) -> None:
    stream = sys.stdout
    stream.write(text)
    stream.flush()


class ReadLineWheel(WheelBase):
    """Read lines from the terminal with editing and history, without blocking the kernel.

    Args:
        kernel: the kernel; its active session owns the wheel. Its loop backend must be
            asyncio-based (``asyncio`` or ``uvloop``).
        input_event: ``(line, None, wheel_id)`` per line, or ``(None, exception, wheel_id)``
            with ``exception`` in ``"interrupt"``, ``"eot"``, ``"cancel"`` (POE's
            ``InputEvent``; required).
        put_mode: when :meth:`put` prints while a line is being read: ``"immediate"``,
            ``"after"`` or ``"idle"`` (POE's ``PutMode``).
        idle_time: seconds without a key press after which ``"idle"`` output is printed
            (POE's ``IdleTime``).
        app_name: the application name (POE's ``AppName``; recorded only).

    Raises:
        InvalidArgument: no ``input_event``, an unknown ``put_mode`` or a bad ``idle_time``.
        RuntimeError: the loop backend has no asyncio loop, or another ReadLineWheel is open.
        NotInSession: not created inside a session's handler.
    """

    def __init__(
        self,
        kernel: Kernel,
        *,
        input_event: str,
        put_mode: str = "idle",
        idle_time: float = 2.0,
        app_name: str = "poe-readline",
    ) -> None:
        global _instance
        given: object = input_event
        if not isinstance(given, str) or not input_event:
            msg = "ReadLineWheel needs an input_event"
            raise InvalidArgument(msg)
        if put_mode not in PUT_MODES:
            msg = f"put_mode must be one of {', '.join(PUT_MODES)}, not {put_mode!r}"
            raise InvalidArgument(msg)
        seconds: object = idle_time
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or idle_time <= 0:
            msg = f"idle_time must be a positive number of seconds, not {idle_time!r}"
            raise InvalidArgument(msg)
        other = _instance() if _instance is not None else None
        if other is not None and not other.closed:
            msg = f"only one ReadLineWheel may be open at a time ({other!r} is)"
            raise RuntimeError(msg)
        self._reading = False
        self._pending: list[str] = []
        self._idle_handle: asyncio.TimerHandle | None = None
        super().__init__(kernel)
        try:
            self._aloop: asyncio.AbstractEventLoop = asyncio_loop(kernel)
        except RuntimeError as exc:
            self.close()
            msg = (
                f"ReadLineWheel runs prompt_toolkit on asyncio: use loop='asyncio' or "
                f"loop='uvloop', not {kernel.loop.name!r}"
            )
            raise RuntimeError(msg) from exc
        self._input_event = input_event
        self._put_mode = put_mode
        self._idle_time = float(idle_time)
        self.app_name = app_name
        self._history = _WheelHistory()
        self._prompt: PromptSession[str] = PromptSession(
            history=self._history, key_bindings=_key_bindings()
        )
        self._future: asyncio.Future[Any] | None = None
        self._last_key = self._aloop.time()
        self._prints: set[asyncio.Future[Any]] = set()
        ref = weakref.ref(self)

        def key_pressed(_sender: object) -> None:
            wheel = ref()
            if wheel is not None:
                wheel._last_key = wheel._aloop.time()

        self._prompt.app.key_processor.before_key_press += key_pressed
        self._result_state = self._state_name("got line")
        self._session._set_handler(self._result_state, _result_handler(ref))
        _instance = ref

    # -- reading ----------------------------------------------------------------------------

    def get(self, prompt: str | None = None) -> None:
        """Arm one input line, showing ``prompt`` (POE's ``get``).

        Called while a line is already being read, it only changes the prompt.

        Raises:
            NotInSession: called outside a handler of the wheel's owner session.
        """
        if self._closed:
            return
        if prompt is not None:
            self._prompt.message = prompt
        if self._reading:
            if self._prompt.app.is_running:
                self._prompt.app.invalidate()
            return
        if self._kernel.get_active_session() is not self._session:
            msg = "ReadLineWheel.get() must be called from a handler of the wheel's owner"
            raise NotInSession(msg)
        self._reading = True
        self._last_key = self._aloop.time()
        self._future = self._kernel.await_into(
            _read_line(self._prompt, weakref.ref(self)), self._result_state
        )

    def _got(self, outcome: tuple[str | None, str | None]) -> None:
        self._reading = False
        self._future = None
        self._cancel_idle()
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            self._print(text)
        line, exception = outcome
        if exception == "closed":
            return
        self._emit(self._input_event, line, exception, self._id)

    # -- output -----------------------------------------------------------------------------

    def put(self, *lines: str) -> None:
        """Print ``lines`` (each followed by a newline) above the prompt (POE's ``put``)."""
        if self._closed or not lines:
            return
        text = "".join(f"{line}\n" for line in lines)
        if not self._reading or self._put_mode == "immediate":
            self._print(text)
            return
        self._pending.append(text)
        if self._put_mode == "idle":
            self._check_idle()

    def _print(self, text: str) -> None:
        app = self._prompt.app
        if not app.is_running and not self._prints:
            _write(text)
            return
        with set_app(app):
            future = run_in_terminal(lambda: _write(text))
        task: asyncio.Future[Any] = self._aloop.create_task(_settle(future))
        self._prints.add(task)
        task.add_done_callback(self._prints.discard)

    def _check_idle(self, *, timer: bool = False) -> None:
        if timer:
            self._idle_handle = None
        if self._closed or not self._pending:
            return
        quiet = self._aloop.time() - self._last_key
        if quiet >= self._idle_time:
            text = "".join(self._pending)
            self._pending.clear()
            self._print(text)
        elif self._idle_handle is None:
            ref = weakref.ref(self)
            self._idle_handle = self._aloop.call_later(self._idle_time - quiet, _idle_callback, ref)

    def _cancel_idle(self) -> None:
        if self._idle_handle is not None:
            self._idle_handle.cancel()
            self._idle_handle = None

    def clear(self) -> None:
        """Clear the screen (the prompt, if any, is drawn again at the top)."""
        app = self._prompt.app
        if app.is_running:
            app.renderer.clear()
            app.invalidate()
        else:
            _write("\x1b[H\x1b[2J")

    def terminal_size(self) -> tuple[int, int]:
        """``(columns, rows)`` of the terminal."""
        try:
            size = os.get_terminal_size(sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            size = shutil.get_terminal_size()
        return size.columns, size.lines

    # -- history ----------------------------------------------------------------------------

    def add_history(self, *lines: str) -> None:
        """Append ``lines`` to the history (recalled with the up arrow from the next prompt)."""
        for line in lines:
            self._history.add(line)

    def get_history(self) -> list[str]:
        """The history, oldest entry first."""
        return self._history.entries()

    def write_history(self, file: str | os.PathLike[str] | None = None) -> None:
        """Write the history to ``file`` (default ``~/.history``), one entry a line."""
        path = _history_path(file)
        with open(path, "w", encoding="utf-8") as out:
            out.writelines(f"{line}\n" for line in self._history.entries())

    def read_history(
        self, file: str | os.PathLike[str] | None = None, start: int = 0, end: int | None = None
    ) -> None:
        """Append entries ``start`` to ``end`` (exclusive; None: to the last) of ``file``.

        Raises:
            OSError: the file cannot be read.
        """
        path = _history_path(file)
        with open(path, encoding="utf-8") as source:
            lines = source.read().splitlines()
        self.add_history(*lines[start:end])

    def history_truncate_file(
        self, file: str | os.PathLike[str] | None = None, lines: int = 0
    ) -> None:
        """Keep only the last ``lines`` entries of the history file ``file``."""
        path = _history_path(file)
        with open(path, encoding="utf-8") as source:
            kept = source.read().splitlines()
        kept = kept[len(kept) - lines :] if lines > 0 else []
        with open(path, "w", encoding="utf-8") as out:
            out.writelines(f"{line}\n" for line in kept)

    # -- lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        """Abandon the line being read (no input event), restore the terminal, free the wheel.

        Pending ``after`` / ``idle`` output is printed first.
        """
        if self._closed:
            return
        self._closed = True
        self._cancel_idle()
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            with contextlib.suppress(Exception):
                self._print(text)
        reading = self._reading
        prompt = getattr(self, "_prompt", None)
        if reading and prompt is not None and prompt.app.is_running:
            with contextlib.suppress(Exception):
                prompt.app.exit(exception=_Abandoned("closed"))
        result_state = getattr(self, "_result_state", None)
        if reading and result_state is not None:
            # The prompt's outcome still arrives: its handler removes itself then.
            self._forget_state(result_state)
        elif result_state is not None:
            with contextlib.suppress(Exception):
                self._session._set_handler(result_state, None)
        self._release()


def _result_handler(ref: weakref.ref[ReadLineWheel]) -> Any:
    def handler(ctx: Context, outcome: tuple[str | None, str | None], *args: Any) -> None:
        wheel = ref()
        if wheel is None or wheel.closed:
            ctx.session._set_handler(ctx.event, None)
            return
        wheel._got(outcome)

    return handler


def _idle_callback(ref: weakref.ref[ReadLineWheel]) -> None:
    wheel = ref()
    if wheel is not None:
        wheel._check_idle(timer=True)


async def _settle(future: Any) -> None:
    with contextlib.suppress(Exception):
        await future


def _history_path(file: str | os.PathLike[str] | None) -> str:
    if file is None:
        return os.path.join(os.path.expanduser("~"), ".history")
    return os.fspath(file)
