"""Fixtures shared by the connections tests (the local HTTP servers live in delivery_support)."""

from tests.connections.delivery_support import make_server, server

__all__ = ["make_server", "server"]
