"""``chalice local`` in a subprocess against the test's emulator and table, and raw HTTP to it.

The in-process ``chalice.test.Client`` is not enough where what matters is what a real
HTTP server hands the app (percent-encoded path parameters, for one): these tests speak
HTTP/1.1 to the same server ``make run`` uses. The server gets its own process group
(no autoreload), so stopping it stops everything it started.
"""
from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional
from devstack.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 60


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class LocalApi:
    port: int
    process: Optional[subprocess.Popen] = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, raw_path: str, *, body: Optional[bytes] = None,
                headers: Optional[dict] = None) -> Answer:
        """``raw_path`` goes on the request line exactly as given (no quoting by a client library)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.putrequest(method, raw_path, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body or b"")))
            connection.endheaders(body or b"")
            response = connection.getresponse()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            connection.close()


@contextlib.contextmanager
def chalice_local(moto_endpoint: str, **env: str) -> Iterator[LocalApi]:
    """Serve the app with ``chalice local`` on a free port; the environment is this process's
    (the ``table`` fixture's table and queues) plus ``env``. ``process`` is there for tests of
    what a crash looks like from outside (a dropped connection, a dead process)."""
    port = free_port()
    environment = {**os.environ, "AWS_ENDPOINT_URL": moto_endpoint, "LOYALTY_SHOP_CACHE_SECONDS": "0",
                   "LOYALTY_PUBLIC_URL": f"http://127.0.0.1:{port}", "PYTHONUNBUFFERED": "1", **env}
    process = subprocess.Popen([str(Path(sys.executable).parent / "chalice"), "local", "--stage", "local",
                                "--host", "127.0.0.1", "--port", str(port), "--no-autoreload"],
                               cwd=ROOT, env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    api = LocalApi(port, process)
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                api.request("GET", "/")  # any answer (403: no such route) means it serves
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("chalice local did not start") from None
                time.sleep(0.2)
        yield api
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
