"""Reference counts and session lifetimes: POE 1.370's ``extrefs``, ``extrefs_gc``, ``events`` (intent).

What keeps a session alive (POE 4.1): events to or from it, timers, children, aliases (until
IDLE), public refcount tags, postbacks and callbacks. The expected orders below were recorded
from Perl POE 1.370.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any

from poe.errors import SessionNotFound
from poe.session import Session

if TYPE_CHECKING:
    from poe.kernel import Kernel
    from poe.session import Context, Postback


# ---------------------------------------------------------------------------------------------
# extrefs (re-expressed through the public refcount API)


def test_refcount_counts_per_tag(fake_kernel: Kernel) -> None:
    """extrefs: per-tag counts go up and down; refcounts need a session *id*; ESRCH otherwise.

    Oracle: ``inc alias undef ESRCH``, ``inc unknown undef ESRCH``, ``dec fresh -1``,
    ``inc back 0`` (negative counts hold nothing, oracle P5).
    """
    got: list[Any] = []

    def start(ctx: Context) -> None:
        k, sid = ctx.kernel, ctx.session.ID
        k.alias_set("me")
        got.append(
            ("tag-1", k.refcount_increment(sid, "tag-1"), k.refcount_increment(sid, "tag-1"))
        )
        got.append(("tag-2", k.refcount_increment(sid, "tag-2")))
        got.append(("dec", k.refcount_decrement(sid, "tag-1"), k.refcount_decrement(sid, "tag-1")))
        got.append(("dec", k.refcount_decrement(sid, "tag-2")))
        for target in ("me", 999):
            try:
                k.refcount_increment(target, "t")  # type: ignore[arg-type]
            except SessionNotFound:
                got.append(("inc", target, "ESRCH"))
            try:
                k.refcount_decrement(target, "t")  # type: ignore[arg-type]
            except SessionNotFound:
                got.append(("dec", target, "ESRCH"))
        got.append(("fresh", k.refcount_decrement(sid, "neg"), k.refcount_increment(sid, "neg")))
        k.alias_remove("me")
        k.yield_("next")

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "next": lambda ctx: got.append("next"),
            "_stop": lambda ctx: got.append("stop"),
        },
    )
    fake_kernel.run()
    assert got == [
        ("tag-1", 1, 2),
        ("tag-2", 1),
        ("dec", 1, 0),
        ("dec", 0),
        ("inc", "me", "ESRCH"),
        ("dec", "me", "ESRCH"),
        ("inc", 999, "ESRCH"),
        ("dec", 999, "ESRCH"),
        ("fresh", -1, 0),
        "next",
        "stop",
    ]


def test_tags_hold_a_session_until_each_is_back_to_zero(fake_kernel: Kernel) -> None:
    """extrefs: one session reference per tag whatever its count; IDLE waits for every tag.

    Oracle (POE 1.370): ``r1 x=1, r2 y=0, r3 x=0, held stop, releaser stop, IDLE, aliased stop``
    -- the aliased IDLE watcher sees no IDLE while a tag is held.
    """
    log: list[Any] = []
    held_id: list[int] = []

    def aliased_start(ctx: Context) -> None:
        ctx.kernel.alias_set("a")
        ctx.kernel.sig("IDLE", "idle")

    def held_start(ctx: Context) -> None:
        sid = ctx.session.ID
        held_id.append(sid)
        ctx.kernel.refcount_increment(sid, "x")
        ctx.kernel.refcount_increment(sid, "x")
        ctx.kernel.refcount_increment(sid, "y")

    def releaser_start(ctx: Context) -> None:
        ctx.kernel.delay("r1", 1)
        ctx.kernel.delay("r2", 2)
        ctx.kernel.delay("r3", 3)

    def release(tag: str) -> Any:
        def handler(ctx: Context) -> None:
            log.append((ctx.event, tag, ctx.kernel.refcount_decrement(held_id[0], tag)))

        return handler

    Session.create(
        fake_kernel,
        inline_states={
            "_start": aliased_start,
            "idle": lambda ctx, name: log.append("IDLE"),
            "_stop": lambda ctx: log.append("aliased stop"),
        },
    )
    Session.create(
        fake_kernel,
        inline_states={"_start": held_start, "_stop": lambda ctx: log.append("held stop")},
    )
    Session.create(
        fake_kernel,
        inline_states={
            "_start": releaser_start,
            "r1": release("x"),
            "r2": release("y"),
            "r3": release("x"),
            "_stop": lambda ctx: log.append("releaser stop"),
        },
    )
    fake_kernel.run()
    assert log[:3] == [("r1", "x", 1), ("r2", "y", 0), ("r3", "x", 0)]
    assert sorted(log[3:5]) == ["held stop", "releaser stop"]
    assert log[5:] == ["IDLE", "aliased stop"]


def test_gc_sweep_order_marks_dispatched_session_first(fake_kernel: Kernel) -> None:
    """extrefs / POE 4.2: sessions are stopped in reverse marking order, and POE marks a session
    whose last event is being dispatched *before* running the handler.

    Oracle (POE 1.370): ``r3 x=0, held stop, releaser stop`` -- the releaser was marked when its
    last timer was dequeued, the held session during the handler, so the held one goes first.
    """
    log: list[str] = []
    held_id: list[int] = []

    def held_start(ctx: Context) -> None:
        held_id.append(ctx.session.ID)
        ctx.kernel.refcount_increment(ctx.session.ID, "x")

    def releaser_start(ctx: Context) -> None:
        ctx.kernel.delay("release", 1)

    def release(ctx: Context) -> None:
        ctx.kernel.refcount_decrement(held_id[0], "x")

    Session.create(
        fake_kernel,
        inline_states={"_start": held_start, "_stop": lambda ctx: log.append("held stop")},
    )
    Session.create(
        fake_kernel,
        inline_states={
            "_start": releaser_start,
            "release": release,
            "_stop": lambda ctx: log.append("releaser stop"),
        },
    )
    fake_kernel.run()
    assert log == ["held stop", "releaser stop"]


def test_gc_sweep_order_for_posted_events(fake_kernel: Kernel) -> None:
    """extrefs / POE 4.2: the same marking rule for posted events, sender and receiver included.

    Oracle (POE 1.370): a yielded release -> ``releaser stop, held stop`` (the releaser is still
    held by its creation-time event while the handler runs); A posts to B, whose handler
    releases C -> ``C stop, A stop, B stop`` (B then A were marked when the event was dequeued,
    C during the handler).
    """
    log: list[str] = []
    ids: dict[str, int] = {}

    def held_start(name: str) -> Any:
        def start(ctx: Context) -> None:
            ids[name] = ctx.session.ID
            ctx.kernel.refcount_increment(ctx.session.ID, "x")

        return start

    def stopper(name: str) -> Any:
        return lambda ctx: log.append(f"{name} stop")

    Session.create(
        fake_kernel, inline_states={"_start": held_start("held"), "_stop": stopper("held")}
    )
    Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.yield_("release"),
            "release": lambda ctx: ctx.kernel.refcount_decrement(ids["held"], "x"),
            "_stop": stopper("releaser"),
        },
    )
    fake_kernel.run()
    log.append("--")
    Session.create(fake_kernel, inline_states={"_start": held_start("C"), "_stop": stopper("C")})
    b = Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: None,
            "release": lambda ctx: ctx.kernel.refcount_decrement(ids["C"], "x"),
            "_stop": stopper("B"),
        },
    )
    Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.yield_("go"),
            "go": lambda ctx: ctx.kernel.post(b, "release"),
            "_stop": stopper("A"),
        },
    )
    fake_kernel.run()
    assert log == ["releaser stop", "held stop", "--", "C stop", "A stop", "B stop"]


def test_extrefs_cleared_when_session_is_stopped(fake_kernel: Kernel) -> None:
    """extrefs: a session stopped by a signal loses its tags (no leak, the program ends)."""
    log: list[str] = []

    def held_start(ctx: Context) -> None:
        ctx.kernel.alias_set("held")
        ctx.kernel.refcount_increment(ctx.session.ID, "forever")

    def killer_start(ctx: Context) -> None:
        ctx.kernel.delay("kill", 1)

    def kill(ctx: Context) -> None:
        ctx.kernel.signal("held", "TERM")

    Session.create(
        fake_kernel,
        inline_states={"_start": held_start, "_stop": lambda ctx: log.append("held stop")},
    )
    Session.create(
        fake_kernel,
        inline_states={
            "_start": killer_start,
            "kill": kill,
            "_stop": lambda ctx: log.append("killer stop"),
        },
    )
    fake_kernel.run()
    assert sorted(log) == ["held stop", "killer stop"]


# ---------------------------------------------------------------------------------------------
# extrefs_gc


def _extrefs_gc_program(kernel: Kernel, log: list[str]) -> None:
    sigidle = [0]
    bystander_id: list[int] = []

    def bystander_start(ctx: Context) -> None:
        bystander_id.append(ctx.session.ID)
        ctx.kernel.refcount_increment(ctx.session.ID, "just hold me")

    def sigidle_start(ctx: Context) -> None:
        ctx.kernel.sig("IDLE", "got_sigidle")
        ctx.kernel.alias_set("stayin_alive")

    def got_sigidle(ctx: Context, name: str) -> None:
        sigidle[0] += 1
        log.append("got sigidle")

    def refcount_start(ctx: Context) -> None:
        log.append(f"inc={ctx.kernel.refcount_increment(ctx.session.ID, 'just hold me')}")
        log.append(f"dec={ctx.kernel.refcount_decrement(ctx.session.ID, 'just hold me')}")
        ctx.kernel.yield_("do_something")

    def refcount_stop(ctx: Context) -> None:
        log.append("refcount _stop")
        log.append(f"by dec={ctx.kernel.refcount_decrement(bystander_id[0], 'just hold me')}")

    Session.create(
        kernel,
        inline_states={
            "_start": bystander_start,
            "_stop": lambda ctx: log.append(f"bystander _stop sigidle={sigidle[0]}"),
        },
    )
    Session.create(
        kernel,
        inline_states={
            "_start": sigidle_start,
            "got_sigidle": got_sigidle,
            "_stop": lambda ctx: log.append("sigidle _stop"),
        },
    )
    Session.create(
        kernel,
        inline_states={
            "_start": refcount_start,
            "do_something": lambda ctx: log.append("do_something"),
            "_stop": refcount_stop,
        },
    )


EXTREFS_GC_ORACLE = [
    "inc=1",
    "dec=0",
    "do_something",
    "refcount _stop",
    "by dec=0",
    "bystander _stop sigidle=0",
    "got sigidle",
    "sigidle _stop",
]


def test_decrement_during_start_does_not_gc_the_session(fake_kernel: Kernel) -> None:
    """extrefs_gc: decrementing a refcount inside _start must not GC the session before _start returns.

    Sessions created before run(), as in POE's test. Oracle (POE 1.370): ``inc=1, dec=0,
    do_something, refcount _stop, by dec=0, bystander _stop sigidle=0, got sigidle,
    sigidle _stop``.
    """
    log: list[str] = []
    _extrefs_gc_program(fake_kernel, log)
    fake_kernel.run()
    assert log == EXTREFS_GC_ORACLE


def test_decrement_during_start_inside_a_handler(fake_kernel: Kernel) -> None:
    """extrefs_gc: the same program created from a dispatched event (not before run())."""
    log: list[str] = []
    Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.yield_("spawn"),
            "spawn": lambda ctx: _extrefs_gc_program(ctx.kernel, log),
        },
    )
    fake_kernel.run()
    assert log == EXTREFS_GC_ORACLE


def test_postback_dropped_during_start_does_not_gc_the_session(fake_kernel: Kernel) -> None:
    """extrefs_gc (postback variant): a postback created and dropped in _start is harmless.

    POE 1.370 prints ``after drop alive=1``, ``later`` (sessions created before run()).
    """
    log: list[str] = []

    def start(ctx: Context) -> None:
        pb = ctx.session.postback("later")
        del pb
        gc.collect()
        log.append(f"after drop alive={ctx.session.alive}")
        ctx.kernel.yield_("later")

    Session.create(
        fake_kernel,
        inline_states={"_start": start, "later": lambda ctx, *a: log.append("later")},
    )
    fake_kernel.run()
    assert log == ["after drop alive=True", "later"]


# ---------------------------------------------------------------------------------------------
# postbacks and callbacks keep their session alive


def test_postback_held_by_another_session_keeps_target_alive(fake_kernel: Kernel) -> None:
    """ses_session / POE 6.4: a postback kept by a server holds the client until it is dropped.

    Oracle (POE 1.370): ``server keeps postback, server fires, server dropped postback,
    client reply [ctx] [answer], server stop, client stop``.
    """
    log: list[str] = []

    def server_start(ctx: Context) -> None:
        ctx.kernel.alias_set("server")
        ctx.kernel.delay("fire", 3)

    def server_keep(ctx: Context, pb: Postback) -> None:
        ctx.heap["pb"] = pb
        log.append("server keeps postback")

    def server_fire(ctx: Context) -> None:
        pb = ctx.heap.pop("pb")
        log.append("server fires")
        pb("answer")
        del pb
        log.append("server dropped postback")
        ctx.kernel.alias_remove("server")

    def client_start(ctx: Context) -> None:
        ctx.kernel.post("server", "keep", ctx.session.postback("reply", "ctx"))

    def client_reply(ctx: Context, pb_ctx: tuple[Any, ...], pb_args: tuple[Any, ...]) -> None:
        log.append(f"client reply {list(pb_ctx)} {list(pb_args)}")

    Session.create(
        fake_kernel,
        inline_states={
            "_start": server_start,
            "keep": server_keep,
            "fire": server_fire,
            "_stop": lambda ctx: log.append("server stop"),
        },
    )
    Session.create(
        fake_kernel,
        inline_states={
            "_start": client_start,
            "reply": client_reply,
            "_stop": lambda ctx: log.append("client stop"),
        },
    )
    fake_kernel.run()
    assert log == [
        "server keeps postback",
        "server fires",
        "server dropped postback",
        "client reply ['ctx'] ['answer']",
        "server stop",
        "client stop",
    ]


def test_release_lets_the_session_go_and_the_callable_still_works(fake_kernel: Kernel) -> None:
    """ses_session / POE 6.4 weaken(): release() drops the hold early; releasing twice is harmless."""
    log: list[str] = []
    kept: list[Any] = []

    def start(ctx: Context) -> None:
        pb = ctx.session.postback("pb_event", "p")
        cb = ctx.session.callback("cb_event", "c")
        kept.extend([pb, cb])
        ctx.kernel.yield_("use")

    def use(ctx: Context) -> None:
        pb, cb = kept
        pb("one")
        log.append(f"callback says {cb('two')}")
        pb.release()
        cb.weaken()
        cb.release()  # second release: no effect

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "use": use,
            "pb_event": lambda ctx, c, a: log.append(f"pb {c} {a}"),
            "cb_event": lambda ctx, c, a: f"cb {c} {a}",
            "_stop": lambda ctx: log.append("stop"),
        },
    )
    fake_kernel.run()
    # The callables were never dropped (they are in `kept`), yet the session ended: released.
    assert log == ["callback says cb ('c',) ('two',)", "pb ('p',) ('one',)", "stop"]
    kept.clear()


def test_unreleased_postback_keeps_program_running_until_dropped(fake_kernel: Kernel) -> None:
    """extrefs / POE 4.1, 4.3: a live postback is a public refcount: no IDLE, the session lives until it goes."""
    log: list[str] = []
    holder: dict[str, Any] = {}

    def target_start(ctx: Context) -> None:
        holder["pb"] = ctx.session.postback("ev")

    def timer_start(ctx: Context) -> None:
        ctx.kernel.delay("drop", 100)

    def drop(ctx: Context) -> None:
        target = ctx.kernel.ID_id_to_session(1)
        log.append(f"drop at 100, target alive: {target.alive}")
        holder.clear()

    Session.create(
        fake_kernel,
        inline_states={"_start": target_start, "_stop": lambda ctx: log.append("target stop")},
    )
    Session.create(fake_kernel, inline_states={"_start": timer_start, "drop": drop})
    fake_kernel.run()
    assert log == ["drop at 100, target alive: True", "target stop"]


# ---------------------------------------------------------------------------------------------
# events (intent): in-flight events and timers hold sessions


def test_in_flight_event_keeps_sender_and_receiver_alive(fake_kernel: Kernel) -> None:
    """events: an event in the queue holds both its sender and its receiver.

    Oracle (POE 1.370): ``B hello from A``, ``A _stop``, ``B _stop``.
    """
    log: list[str] = []

    def b_hello(ctx: Context) -> None:
        log.append(f"B hello from {ctx.sender.heap['name']}, sender alive={ctx.sender.alive}")

    b = Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: None,
            "hello": b_hello,
            "_stop": lambda ctx: log.append("B _stop"),
        },
        heap={"name": "B"},
    )
    Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.post(b, "hello"),
            "_stop": lambda ctx: log.append("A _stop"),
        },
        heap={"name": "A"},
    )
    fake_kernel.run()
    assert log == ["B hello from A, sender alive=True", "A _stop", "B _stop"]


def test_event_count_tracks_user_events(fake_kernel: Kernel) -> None:
    """events: get_event_count() counts queued posts and pending timers; dispatch drains them."""
    counts: list[tuple[str, int]] = []

    def start(ctx: Context) -> None:
        ctx.kernel.yield_("warm_up")  # the first batch also releases the creation-time hold

    def noop(ctx: Context) -> None:
        k = ctx.kernel
        counts.append(("in first handler", k.get_event_count()))
        k.yield_("a")
        k.post(ctx.session, "b")
        k.delay("t1", 5)
        tid = k.delay_set("t2", 6)
        k.alarm_add("t3", k.clock.wall() + 7)
        counts.append(("after 5", k.get_event_count()))
        k.alarm_remove(tid)
        k.alarm("t1")
        counts.append(("after 2 removed", k.get_event_count()))

    def last(ctx: Context) -> None:
        counts.append((ctx.event, ctx.kernel.get_event_count()))

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "warm_up": lambda ctx: ctx.kernel.yield_("noop"),
            "noop": noop,
            "a": last,
            "b": last,
            "t3": last,
        },
    )
    fake_kernel.run()
    assert counts == [
        ("in first handler", 0),
        ("after 5", 5),
        ("after 2 removed", 3),
        ("a", 2),
        ("b", 1),
        ("t3", 0),
    ]


def test_pending_timer_keeps_session_alive_until_removed(fake_kernel: Kernel) -> None:
    """events / POE 2.3: a pending timer holds its session; removing it lets the session stop."""
    log: list[str] = []

    def start(ctx: Context) -> None:
        ctx.heap["far"] = ctx.kernel.delay_set("far", 3600)
        ctx.kernel.delay("near", 1)

    def near(ctx: Context) -> None:
        log.append("near")
        name, _, args = ctx.kernel.alarm_remove(ctx.heap["far"])
        log.append(f"removed {name}{args}")

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "near": near,
            "far": lambda ctx: log.append("far"),
            "_stop": lambda ctx: log.append(f"stop at +{ctx.kernel.clock.now():g}s"),
        },
    )
    fake_kernel.run()
    assert log == ["near", "removed far()", "stop at +1s"]
