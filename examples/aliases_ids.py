"""Aliases and IDs: every way to address a session, and what happens on conflicts."""

from __future__ import annotations

import errno

from poe.errors import AliasInUse, SessionNotFound
from poe.kernel import Kernel
from poe.session import Context, Session


def server_start(ctx: Context) -> None:
    ctx.kernel.alias_set("parrot")
    ctx.kernel.alias_set("echo")
    ctx.kernel.alias_set("echo")  # setting your own alias again is harmless
    print(f"server: I am session {ctx.session.ID}, aliases {ctx.kernel.alias_list()}")


def hear(ctx: Context, how: str) -> None:
    print(f"server: heard from session {ctx.sender.ID}, addressed {how}")


def client_start(ctx: Context) -> None:
    k = ctx.kernel
    server = k.alias_resolve("echo")
    assert k.ID_id_to_session(server.ID) is server
    assert k.ID_session_to_id(server) == server.ID
    print(f"client: 'echo' resolves to session {server.ID}; its aliases: {k.alias_list(server)}")

    k.post("echo", "hear", "by alias 'echo'")
    k.post("parrot", "hear", "by alias 'parrot'")
    k.post(server.ID, "hear", f"by ID {server.ID}")
    k.post(server, "hear", "by session object")

    try:
        k.alias_set("echo")
    except AliasInUse as exc:
        print(f"client: alias_set('echo') -> {type(exc).__name__} ({errno.errorcode[exc.errno]})")
    try:
        k.post("nobody", "hear", "?")
    except SessionNotFound as exc:
        print(f"client: post('nobody', ...) -> {type(exc).__name__} ({errno.errorcode[exc.errno]})")


kernel = Kernel()
Session.create(kernel, inline_states={"_start": server_start, "hear": hear})
Session.create(kernel, inline_states={"_start": client_start})
kernel.run()

# Session IDs are numbered per kernel: a second kernel starts again at 1.
other = Kernel()
s = Session.create(other, inline_states={"_start": lambda ctx: None})
print(f"a second kernel's first session has ID {s.ID}")
other.run()
