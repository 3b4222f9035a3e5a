"""TCP and UDP servers and clients: POE::Component::Server::TCP and Client::TCP for Python.

``poe.tcp`` ships in the ``poe-tcp`` distribution and runs on ``poe-core``'s kernel.
This module only re-exports the public API, listed in ``__all__``.
"""

from __future__ import annotations

__all__: list[str] = []
