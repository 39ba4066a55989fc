"""The embedded AWS emulator (moto server), with requests applied one at a time.

moto's DynamoDB does not isolate concurrent requests (a transaction copies and
checks the table while another thread writes it), but DynamoDB does. Serving
one request at a time gives the emulator DynamoDB's serializable behaviour, so
races between *our* clients (read, decide, conditional write) play out as they
would on AWS.
"""
from __future__ import annotations

import threading
from collections import Counter

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server


class _OneAtATime:
    def __init__(self, app, counts: Counter):
        self._app = app
        self._lock = threading.Lock()
        self._counts = counts

    def __call__(self, environ, start_response):
        with self._lock:
            # "DynamoDB_20120810.GetItem" → "dynamodb:GetItem": what crossed the wire, for bench/.
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            if target.startswith("DynamoDB_"):
                self._counts["dynamodb:" + target.split(".", 1)[1]] += 1
            return list(self._app(environ, start_response))


# Ports of the emulators running inside this process: their state can be read directly
# (devstack.sent_mail) instead of through the emulator's whole-state dump.
IN_PROCESS_PORTS: set[int] = set()


class SerializedMotoServer(ThreadedMotoServer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.request_counts: Counter = Counter()
        IN_PROCESS_PORTS.add(int(self._port))

    def _server_entry(self) -> None:
        app = _OneAtATime(DomainDispatcherApplication(create_backend_app), self.request_counts)
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()
