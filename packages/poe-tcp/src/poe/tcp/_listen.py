"""Where a server listens: the address to bind (names resolved now) and its UNIX socket file.

A UNIX-domain listener leaves a file behind when its process dies; :func:`remove_stale_socket`
removes such a file only when nobody accepts on it, and :func:`file_identity` lets a server
remove, on shutdown, only the file it made itself (not one that replaced it meanwhile).
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat

from poe.errors import InvalidArgument
from poe.tcp._common import check_int

__all__ = ["bind_target", "file_identity", "remove_stale_socket"]


def bind_target(
    domain: int, address: str | None, hostname: str | None, port: int
) -> tuple[str, int]:
    """The numeric address (or UNIX path) and port to bind, resolving names now."""
    if address is not None and hostname is not None:
        msg = "give address or hostname, not both"
        raise InvalidArgument(msg)
    if domain == socket.AF_UNIX:
        if hostname is not None or not address:
            msg = "a UNIX-domain server needs address=<socket path> (and no hostname)"
            raise InvalidArgument(msg)
        if port:
            msg = "a UNIX-domain server has no port"
            raise InvalidArgument(msg)
        return address, 0
    port = check_int(port, "port", 0, 65535)
    host = address if address is not None else hostname
    if host is None:
        return ("::" if domain == socket.AF_INET6 else "0.0.0.0"), port
    try:
        socket.inet_pton(domain, host)
    except (OSError, ValueError):
        infos = socket.getaddrinfo(host, port, domain, socket.SOCK_STREAM)
        return str(infos[0][4][0]), port
    return host, port


def file_identity(path: str) -> tuple[str, int, int] | None:
    """``(path, st_dev, st_ino)`` of a socket file, to remove only the one we made."""
    if path.startswith("\0"):
        return None  # Linux abstract namespace: no file
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISSOCK(info.st_mode):
        return None
    return (path, info.st_dev, info.st_ino)


def remove_stale_socket(path: str) -> None:
    """Unlink ``path`` if it is a socket file nobody accepts on (a server that died)."""
    if file_identity(path) is None:
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(path)
        except ConnectionRefusedError:
            pass  # stale: nobody listens
        except OSError:
            return  # can't tell: leave it, bind will report
        else:
            return  # in use: bind will fail with EADDRINUSE, as it should
    with contextlib.suppress(OSError):
        os.unlink(path)
