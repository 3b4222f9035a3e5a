"""Aliases and session ids: POE 1.370's ``k_aliases``, ``aliases`` (intent) and ``sids``.

POE returns 0/EEXIST/EPERM/ESRCH; the port raises AliasInUse (EEXIST), NotPermitted (EPERM) and
SessionNotFound (ESRCH). Session ids are per kernel in the port (per process in POE).
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

import pytest

from poe.errors import AliasInUse, NotInSession, NotPermitted, PoeError, SessionNotFound
from poe.session import Session
from poe.testing import FakeClock

if TYPE_CHECKING:
    from poe.kernel import Kernel
    from poe.session import Context


def test_errors_carry_poe_errno() -> None:
    """k_aliases: the exceptions replace POE's return codes EEXIST/EPERM/ESRCH."""
    assert AliasInUse.errno == errno.EEXIST
    assert NotPermitted.errno == errno.EPERM
    assert SessionNotFound.errno == errno.ESRCH
    assert issubclass(SessionNotFound, PoeError)


# ---------------------------------------------------------------------------------------------
# k_aliases


def test_k_aliases(fake_kernel: Kernel) -> None:
    """k_aliases: set (idempotent), resolve by object/ID/alias, list, IDLE then ZOMBIE reap.

    The first session lives only through its aliases: it receives exactly one IDLE and one
    ZOMBIE. The second sets and removes an alias in _start and is collected before any IDLE.
    """
    checks: dict[str, Any] = {}

    def machine_start(ctx: Context) -> None:
        k, session = ctx.kernel, ctx.session
        k.sig("IDLE", "sigidle")
        k.sig("ZOMBIE", "sigzombie")
        ctx.heap["idle_count"] = ctx.heap["zombie_count"] = 0
        k.alias_set("new name")
        k.alias_set("new name")  # already ours: no error
        checks["resolve_id"] = k.alias_resolve(session.ID) is session
        checks["resolve_id_str"] = k.alias_resolve(str(session.ID)) is session
        checks["resolve_alias"] = k.alias_resolve("new name") is session
        checks["resolve_object"] = k.alias_resolve(session) is session
        with pytest.raises(SessionNotFound):
            k.alias_resolve("nonexistent")
        checks["id_to_session"] = k.ID_id_to_session(session.ID) is session
        checks["session_to_id"] = k.ID_session_to_id(session) == session.ID
        checks["resolve_kernel_id"] = k.alias_resolve(k.ID) is k
        checks["one_alias"] = k.alias_list()
        k.alias_set("second name")
        checks["two_aliases"] = k.alias_list(session)

    def machine_sig(ctx: Context, name: str) -> None:
        ctx.heap[f"{name.lower()}_count"] += 1
        ctx.kernel.sig_handled()

    def machine_stop(ctx: Context) -> None:
        checks["idle_count"] = ctx.heap["idle_count"]
        checks["zombie_count"] = ctx.heap["zombie_count"]

    Session.create(
        fake_kernel,
        inline_states={
            "_start": machine_start,
            "sigidle": machine_sig,
            "sigzombie": machine_sig,
            "_stop": machine_stop,
        },
    )

    second: dict[str, bool] = {"idle": False, "zombie": False}

    def sample_start(ctx: Context) -> None:
        ctx.kernel.alias_set("a_sample_alias")
        ctx.kernel.alias_remove("a_sample_alias")
        ctx.kernel.sig("IDLE", "sigidle")
        ctx.kernel.sig("ZOMBIE", "sigzombie")

    Session.create(
        fake_kernel,
        inline_states={
            "_start": sample_start,
            "sigidle": lambda ctx, *a: second.__setitem__("idle", True),
            "sigzombie": lambda ctx, *a: second.__setitem__("zombie", True),
            "_stop": lambda ctx: None,
        },
    )
    fake_kernel.run()
    assert checks == {
        "resolve_id": True,
        "resolve_id_str": True,
        "resolve_alias": True,
        "resolve_object": True,
        "id_to_session": True,
        "session_to_id": True,
        "resolve_kernel_id": True,
        "one_alias": ["new name"],
        "two_aliases": ["new name", "second name"],
        "idle_count": 1,
        "zombie_count": 1,
    }
    assert second == {"idle": False, "zombie": False}


def test_kernel_id_resolves_to_kernel(fake_kernel: Kernel) -> None:
    """k_aliases: ``ID_id_to_session($kernel->ID) == $kernel`` (oracle: ``id2s(kid)=kernel``)."""
    got: list[Any] = []

    def start(ctx: Context) -> None:
        got.append(ctx.kernel.ID_id_to_session(ctx.kernel.ID))

    Session.create(fake_kernel, inline_states={"_start": start})
    fake_kernel.run()
    assert got == [fake_kernel]


def test_kernel_resolves_to_kernel_id(fake_kernel: Kernel) -> None:
    """k_aliases: ``ID_session_to_id($kernel) eq $kernel->ID`` (oracle: ``s2id(k)=kernelID``)."""
    got: list[Any] = []

    def start(ctx: Context) -> None:
        got.append(ctx.kernel.ID_session_to_id(ctx.kernel))

    Session.create(fake_kernel, inline_states={"_start": start})
    fake_kernel.run()
    assert got == [fake_kernel.ID]


def test_alias_errors(fake_kernel: Kernel) -> None:
    """k_aliases: EEXIST for another session's alias, ESRCH for unknown, EPERM for removing another's."""
    outcomes: list[str] = []

    def owner_start(ctx: Context) -> None:
        ctx.kernel.alias_set("taken")
        ctx.kernel.delay("quit", 1)

    def owner_quit(ctx: Context) -> None:
        ctx.kernel.alias_remove("taken")

    def other_start(ctx: Context) -> None:
        k = ctx.kernel
        try:
            k.alias_set("taken")
        except AliasInUse:
            outcomes.append("set taken: EEXIST")
        try:
            k.alias_remove("taken")
        except NotPermitted:
            outcomes.append("remove taken: EPERM")
        try:
            k.alias_remove("never set")
        except SessionNotFound:
            outcomes.append("remove unknown: ESRCH")
        outcomes.append(f"my aliases: {k.alias_list()}")
        outcomes.append(f"owner's aliases: {k.alias_list('taken')}")

    Session.create(fake_kernel, inline_states={"_start": owner_start, "quit": owner_quit})
    Session.create(fake_kernel, inline_states={"_start": other_start})
    fake_kernel.run()
    assert outcomes == [
        "set taken: EEXIST",
        "remove taken: EPERM",
        "remove unknown: ESRCH",
        "my aliases: []",
        "owner's aliases: ['taken']",
    ]


def test_alias_api_needs_a_session(fake_kernel: Kernel) -> None:
    """11_assert_usage / k_aliases: alias_set/alias_remove from outside any handler (NotInSession in the port)."""
    with pytest.raises(NotInSession):
        fake_kernel.alias_set("x")
    with pytest.raises(NotInSession):
        fake_kernel.alias_remove("x")
    assert fake_kernel.alias_list() == []
    with pytest.raises(SessionNotFound):
        fake_kernel.alias_resolve("x")


def test_alias_list_is_sorted(fake_kernel: Kernel) -> None:
    """aliases / POE 2.6: alias_list() returns every alias of the session, sorted."""
    got: list[list[str]] = []

    def start(ctx: Context) -> None:
        for name in ("zeta", "alpha", "mu"):
            ctx.kernel.alias_set(name)
        got.append(ctx.kernel.alias_list())
        ctx.kernel.alias_remove("mu")
        got.append(ctx.kernel.alias_list(ctx.session))
        for name in ("zeta", "alpha"):
            ctx.kernel.alias_remove(name)
        got.append(ctx.kernel.alias_list())

    Session.create(fake_kernel, inline_states={"_start": start})
    fake_kernel.run()
    assert got == [["alpha", "mu", "zeta"], ["alpha", "zeta"], []]


def test_alias_equal_to_an_id_is_shadowed(fake_kernel: Kernel) -> None:
    """k_aliases / POE 2.6 (oracle P16): resolving "2" finds session 2 even when session 1 has the alias "2".

    Oracle: ``S1 id 1``, ``S2 id 2``, ``resolve('2') -> id 2``, ``S2 got ping``.
    """
    log: list[str] = []

    def s1_start(ctx: Context) -> None:
        ctx.kernel.alias_set("2")
        ctx.kernel.yield_("later")

    def s1_later(ctx: Context) -> None:
        log.append(f"resolve('2') -> id {ctx.kernel.alias_resolve('2').ID}")
        ctx.kernel.post("2", "ping")

    def s1_stop(ctx: Context) -> None:
        ctx.kernel.alias_remove("2")

    Session.create(
        fake_kernel,
        inline_states={
            "_start": s1_start,
            "later": s1_later,
            "ping": lambda ctx: log.append("S1 got ping"),
            "_stop": s1_stop,
        },
    )
    Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.delay("x", 0.1),
            "x": lambda ctx: None,
            "ping": lambda ctx: log.append("S2 got ping"),
        },
    )
    fake_kernel.run()
    assert log == ["resolve('2') -> id 2", "S2 got ping"]


def test_alias_resolution_happens_at_post_time(fake_kernel: Kernel) -> None:
    """k_aliases / POE 2.6: removing an alias does not affect events already posted through it."""
    log: list[str] = []

    def start(ctx: Context) -> None:
        ctx.kernel.alias_set("svc")
        ctx.kernel.post("svc", "hello")
        ctx.kernel.alias_remove("svc")
        try:
            ctx.kernel.post("svc", "hello")
        except SessionNotFound:
            log.append("second post: ESRCH")

    Session.create(
        fake_kernel, inline_states={"_start": start, "hello": lambda ctx: log.append("hello")}
    )
    fake_kernel.run()
    assert log == ["second post: ESRCH", "hello"]


def test_alias_freed_when_session_stops(fake_kernel: Kernel) -> None:
    """aliases: a stopped session's aliases are released and may be taken by a new session."""
    log: list[str] = []

    def first_start(ctx: Context) -> None:
        ctx.kernel.alias_set("name")

    def second_start(ctx: Context) -> None:
        ctx.kernel.alias_set("name")
        log.append(f"second took it: {ctx.kernel.alias_resolve('name') is ctx.session}")
        ctx.kernel.alias_remove("name")

    def watcher_start(ctx: Context) -> None:
        ctx.kernel.delay("kill", 1)
        ctx.kernel.delay("check", 2)

    def watcher_kill(ctx: Context) -> None:
        ctx.kernel.signal("name", "TERM")  # terminal and unhandled: stops the aliased session

    def watcher_check(ctx: Context) -> None:
        try:
            ctx.kernel.alias_resolve("name")
        except SessionNotFound:
            log.append("name is free")
        Session.create(ctx.kernel, inline_states={"_start": second_start})

    Session.create(
        fake_kernel,
        inline_states={"_start": first_start, "_stop": lambda ctx: log.append("first stop")},
    )
    Session.create(
        fake_kernel,
        inline_states={"_start": watcher_start, "kill": watcher_kill, "check": watcher_check},
    )
    fake_kernel.run()
    assert log == ["first stop", "name is free", "second took it: True"]


def test_alias_only_sessions_are_reaped_when_idle(fake_kernel: Kernel) -> None:
    """aliases / POE 4.3 (oracle P6): aliases alone never keep a program running.

    The aliased session outlives the busy one (which has a timer), then IDLE stops it.
    """
    log: list[str] = []

    def aliased_start(ctx: Context) -> None:
        ctx.kernel.alias_set("daemon")

    def busy_start(ctx: Context) -> None:
        ctx.kernel.delay("work", 3)

    def busy_work(ctx: Context) -> None:
        log.append(f"busy works; daemon alive: {ctx.kernel.alias_resolve('daemon').alive}")

    Session.create(
        fake_kernel,
        inline_states={"_start": aliased_start, "_stop": lambda ctx: log.append("daemon stop")},
    )
    Session.create(
        fake_kernel,
        inline_states={
            "_start": busy_start,
            "work": busy_work,
            "_stop": lambda ctx: log.append("busy stop"),
        },
    )
    fake_kernel.run()
    assert log == ["busy works; daemon alive: True", "busy stop", "daemon stop"]


# ---------------------------------------------------------------------------------------------
# sids


def test_session_ids_start_at_one_and_resolve(fake_kernel: Kernel) -> None:
    """sids (oracle P1): the first session id is 1, ids increase, and resolve back to sessions."""
    sessions = [
        Session.create(fake_kernel, inline_states={"_start": lambda ctx: None}) for _ in range(3)
    ]
    assert [s.ID for s in sessions] == [1, 2, 3]
    for s in sessions:
        assert fake_kernel.ID_id_to_session(s.ID) is s
        assert fake_kernel.ID_session_to_id(s) == s.ID
        assert fake_kernel.alias_resolve(s.ID) is s
    fake_kernel.run()
    for s in sessions:
        with pytest.raises(SessionNotFound):
            fake_kernel.ID_id_to_session(s.ID)
        with pytest.raises(SessionNotFound):
            fake_kernel.ID_session_to_id(s)
    # Ids are not reused: the next session gets a fresh one.
    later = Session.create(fake_kernel, inline_states={"_start": lambda ctx: None})
    assert later.ID == 4
    fake_kernel.run()


def test_session_ids_are_per_kernel(fake_kernel: Kernel, poe_loop: str) -> None:
    """sids: in the port ids count per kernel (POE: per process) -- documented deviation."""
    from poe.kernel import Kernel as KernelClass

    other = KernelClass(loop=poe_loop, clock=FakeClock())
    try:
        a = Session.create(fake_kernel, inline_states={"_start": lambda ctx: None})
        b = Session.create(other, inline_states={"_start": lambda ctx: None})
        assert (a.ID, b.ID) == (1, 1)
        assert fake_kernel.ID != other.ID
        with pytest.raises(SessionNotFound):
            fake_kernel.post(b, "x")
        fake_kernel.run()
        other.run()
    finally:
        other.loop.close()


def test_unknown_destinations_raise(fake_kernel: Kernel) -> None:
    """k_aliases / 12_assert_retval: post/call/signal to an unresolvable destination fail with ESRCH."""
    errors: list[str] = []

    def start(ctx: Context) -> None:
        for label, action in (
            ("post", lambda: ctx.kernel.post("nobody", "ev")),
            ("post id", lambda: ctx.kernel.post(99, "ev")),
            ("call", lambda: ctx.kernel.call("nobody", "ev")),
            ("signal", lambda: ctx.kernel.signal("nobody", "USR1")),
            ("id", lambda: ctx.kernel.ID_id_to_session(99)),
        ):
            try:
                action()
            except SessionNotFound as exc:
                errors.append(f"{label}: {errno.errorcode[exc.errno]}")

    Session.create(fake_kernel, inline_states={"_start": start})
    fake_kernel.run()
    assert errors == ["post: ESRCH", "post id: ESRCH", "call: ESRCH", "signal: ESRCH", "id: ESRCH"]
