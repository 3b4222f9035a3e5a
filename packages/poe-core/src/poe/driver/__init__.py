"""Drivers: buffered, non-blocking octet I/O under the wheels (POE::Driver::*).

:class:`Driver` is the interface; :class:`SysRWDriver` is POE::Driver::SysRW over ``read(2)``
and ``write(2)``; :class:`TLSDriver` speaks TLS over a connected socket with the stdlib
:mod:`ssl` module.
"""

from __future__ import annotations

from poe.driver._base import Driver, Handle, HasFileno, fileno
from poe.driver.sysrw import DEFAULT_BLOCK_SIZE, SysRWDriver
from poe.driver.tls import TLSDriver

__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "Driver",
    "Handle",
    "HasFileno",
    "SysRWDriver",
    "TLSDriver",
    "fileno",
]
