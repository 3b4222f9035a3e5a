"""TCP and UDP servers and clients: POE::Component::Server::TCP and Client::TCP for Python.

``poe.tcp`` ships in the ``poe-tcp`` distribution and runs on ``poe-core``'s kernel.
This module only re-exports the public API, listed in ``__all__``.
"""

from __future__ import annotations

from poe.tcp.backoff import Backoff
from poe.tcp.client import TCPClient
from poe.tcp.server import TCPServer
from poe.tcp.udp import UDPSocket

__all__: list[str] = ["Backoff", "TCPClient", "TCPServer", "UDPSocket"]
