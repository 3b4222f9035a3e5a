"""Repository tooling (namespace check, package scaffolding, ./dev helpers); never distributed."""

from __future__ import annotations
