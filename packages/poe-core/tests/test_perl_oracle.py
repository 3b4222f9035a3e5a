"""The same programs run on Perl's POE 1.370 and on poe: their traces must be identical.

Each scenario is written twice, once in Perl and once in Python, printing one line of trace.
The Perl side runs only where ``perl -MPOE`` works (Debian's ``libpoe-perl``, which ``./dev test``
installs); elsewhere these tests are skipped and the oracle lines quoted in the other test files
stand in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from typing import TYPE_CHECKING, Any

import pytest

from poe.session import Context, Session

if TYPE_CHECKING:
    from collections.abc import Callable

    from poe.kernel import Kernel


def _perl_env() -> dict[str, str]:
    # POE_EVENT_LOOP names *our* backend (asyncio, select...); Perl POE reads the same variable
    # and would look for POE::Loop::asyncio.
    return {key: value for key, value in os.environ.items() if key != "POE_EVENT_LOOP"}


def _perl_poe_available() -> bool:
    perl = shutil.which("perl")
    if perl is None:
        return False
    probe = subprocess.run(
        [perl, "-MPOE", "-e1"], capture_output=True, check=False, env=_perl_env()
    )
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not _perl_poe_available(), reason="Perl POE is not installed")

PERL_HEADER = "use strict; use warnings; use POE; use Time::HiRes qw(time); my @log;\n"
PERL_FOOTER = 'POE::Kernel->run(); print join(" ", @log), "\\n";\n'


def _perl(body: str) -> str:
    result = subprocess.run(
        ["perl", "-e", PERL_HEADER + body + PERL_FOOTER],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=_perl_env(),
    )
    return result.stdout.strip()


def _python(kernel: Kernel, build: Callable[[Kernel, list[str]], None]) -> str:
    log: list[str] = []
    build(kernel, log)
    kernel.run()
    return " ".join(log)


def test_queue_order(kernel: Kernel) -> None:
    """Posts are FIFO, a past alarm jumps the queue, a 0 s delay comes after earlier posts."""
    perl = _perl(
        """
        POE::Session->create(inline_states => {
          _start => sub { my $k = $_[KERNEL]; $k->yield('y1'); $k->yield('y2');
            my $now = time; $k->alarm_add(tA => $now + 1.0); $k->alarm_add(tB => $now + 1.0);
            $k->alarm_add(past => $now - 10); $k->delay_add(d0 => 0) },
          y1 => sub { push @log, 'y1'; $_[KERNEL]->yield('y1child') },
          map { my $n = $_; ($n => sub { push @log, $n }) } qw(y2 y1child tA tB past d0),
        });
        """
    )

    def build(k: Kernel, log: list[str]) -> None:
        def start(ctx: Context) -> None:
            ctx.kernel.yield_("y1")
            ctx.kernel.yield_("y2")
            now = time.time()
            ctx.kernel.alarm_add("tA", now + 1.0)
            ctx.kernel.alarm_add("tB", now + 1.0)
            ctx.kernel.alarm_add("past", now - 10)
            ctx.kernel.delay_add("d0", 0)

        def y1(ctx: Context) -> None:
            log.append("y1")
            ctx.kernel.yield_("y1child")

        def record(ctx: Context) -> None:
            log.append(ctx.event)

        states: dict[str, Callable[..., Any]] = {"_start": start, "y1": y1}
        states.update(dict.fromkeys(["y2", "y1child", "tA", "tB", "past", "d0"], record))
        Session.create(k, inline_states=states)

    assert _python(kernel, build) == perl == "past y1 y2 d0 y1child tA tB"


def test_lifecycle(kernel: Kernel) -> None:
    """_start, _child create with _start's value, _stop, _child lose with _stop's value."""
    perl = _perl(
        """
        POE::Session->create(inline_states => {
          _start => sub { POE::Session->create(inline_states => {
              _start => sub { push @log, 'child_start'; 'startret' },
              _stop => sub { push @log, 'child_stop'; 'stopret' } }) },
          _child => sub { push @log, "child_$_[ARG0]:" . ($_[ARG2] // 'undef') },
          _stop => sub { push @log, 'parent_stop' },
        });
        """
    )

    def build(k: Kernel, log: list[str]) -> None:
        def child_start(ctx: Context) -> str:
            log.append("child_start")
            return "startret"

        def child_stop(ctx: Context) -> str:
            log.append("child_stop")
            return "stopret"

        def parent_start(ctx: Context) -> None:
            Session.create(ctx.kernel, inline_states={"_start": child_start, "_stop": child_stop})

        def on_child(ctx: Context, what: str, child: Any, value: Any) -> None:
            log.append(f"child_{what}:{'undef' if value is None else value}")

        Session.create(
            k,
            inline_states={
                "_start": parent_start,
                "_child": on_child,
                "_stop": lambda ctx: log.append("parent_stop"),
            },
        )

    expected = "child_start child_create:startret child_stop child_lose:stopret parent_stop"
    assert _python(kernel, build) == perl == expected


def test_signal_order_then_idle(kernel: Kernel) -> None:
    """A signal reaches the deepest session first; unhandled IDLE then stops the tree."""
    perl = _perl(
        """
        sub node { my ($name, $child) = @_; POE::Session->create(inline_states => {
          _start => sub { $_[KERNEL]->alias_set($name); $_[KERNEL]->sig(USR_X => 'got');
                          node(@$child) if $child },
          got => sub { push @log, $name },
          _stop => sub { push @log, "$name:stop" } }) }
        node('P', ['C', ['G']]);
        POE::Session->create(inline_states => { _start => sub {
          $_[KERNEL]->signal('P', 'USR_X') } });
        """
    )

    def build(k: Kernel, log: list[str]) -> None:
        def node(kern: Kernel, name: str, child: tuple[Any, ...] | None) -> None:
            def start(ctx: Context) -> None:
                ctx.kernel.alias_set(name)
                ctx.kernel.sig("USR_X", "got")
                if child:
                    node(ctx.kernel, *child)

            Session.create(
                kern,
                inline_states={
                    "_start": start,
                    "got": lambda ctx, *a: log.append(name),
                    "_stop": lambda ctx: log.append(f"{name}:stop"),
                },
            )

        node(k, "P", ("C", ("G", None)))
        Session.create(k, inline_states={"_start": lambda ctx: ctx.kernel.signal("P", "USR_X")})

    assert _python(kernel, build) == perl == "G C P G:stop C:stop P:stop"


def test_default_and_callbacks(kernel: Kernel) -> None:
    """_default gets unknown events (and _stop); a callback returns the handler's value."""
    perl = _perl(
        """
        POE::Session->create(inline_states => {
          _start => sub { my $cb = $_[SESSION]->callback('cb', 3);
                          push @log, 'cb_ret=' . $cb->('b'); $_[KERNEL]->yield('mystery', 'x') },
          cb => sub { push @log, "cb:$_[ARG0][0]$_[ARG1][0]"; 'cbval' },
          _default => sub { push @log, "default:$_[ARG0]:" . scalar(@{$_[ARG1]}); undef },
        });
        """
    )

    def build(k: Kernel, log: list[str]) -> None:
        def start(ctx: Context) -> None:
            cb = ctx.session.callback("cb", 3)
            log.append(f"cb_ret={cb('b')}")
            cb.release()
            ctx.kernel.yield_("mystery", "x")

        def on_cb(ctx: Context, made: tuple[Any, ...], given: tuple[Any, ...]) -> str:
            log.append(f"cb:{made[0]}{given[0]}")
            return "cbval"

        def default(ctx: Context, event: str, args: tuple[Any, ...]) -> None:
            log.append(f"default:{event}:{len(args)}")

        Session.create(k, inline_states={"_start": start, "cb": on_cb, "_default": default})

    expected = "cb:3b cb_ret=cbval default:mystery:1 default:_stop:0"
    assert _python(kernel, build) == perl == expected
