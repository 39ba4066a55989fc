"""A free TCP port on this machine's loopback, for a local server to listen on."""
from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on now (the system picks it; another process may take it before the
    caller binds it, which the callers' servers report as any port taken)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
