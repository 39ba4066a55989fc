"""A Lambda function URL on this machine: HTTP requests in, the function's event (payload format 2.0)
to its handler, its answer back out. ``make run`` serves the webhooks' own function
(``chalicelib.routes.orders.webhook_url``) this way, as AWS serves it at its function URL; the tests
build the same events with ``url_event``.

What Lambda does to a request before the function sees it (AWS, "Invoking Lambda function URLs",
request payload): header names lower-cased and a repeated header's values joined with commas;
the path as the client sent it (``rawPath``, still percent-encoded); a body Lambda takes for text
as text, any other base64-encoded with ``isBase64Encoded``. Only the fields the service reads are
filled besides those; ``requestContext`` carries a fresh request id, as Lambda's does.
"""
from __future__ import annotations

import base64
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, Mapping, Optional, Union

Headers = Union[Mapping[str, str], Iterable[tuple[str, str]]]
# Bodies of these types reach the function as text; any other as base64.
_TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml")


def url_event(method: str, path: str, headers: Headers = (), body: Optional[bytes] = None, *,
              query: str = "", source_ip: str = "127.0.0.1", request_id: Optional[str] = None) -> dict:
    """The event Lambda gives a function for ``method path`` with ``headers`` and ``body`` at its URL."""
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    joined: dict[str, str] = {}
    for name, value in pairs:
        name = name.lower()
        joined[name] = f"{joined[name]},{value}" if name in joined else str(value)
    event: dict[str, Any] = {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query, "headers": joined,
        "requestContext": {
            "accountId": "anonymous", "apiId": "local", "domainName": "local.lambda-url.localhost",
            "domainPrefix": "local", "requestId": request_id or str(uuid.uuid4()), "routeKey": "$default",
            "stage": "$default",
            "http": {"method": method.upper(), "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                     "userAgent": joined.get("user-agent", "")},
        },
        "isBase64Encoded": False,
    }
    if body:
        content_type = joined.get("content-type", "").lower()
        if content_type.startswith(_TEXT_TYPES):
            try:
                event["body"] = body.decode("utf-8")
                return event
            except UnicodeDecodeError:
                pass
        event.update(body=base64.b64encode(body).decode("ascii"), isBase64Encoded=True)
    return event


def response_bytes(answer: Mapping[str, Any]) -> bytes:
    """The body of a function's answer as the client receives it."""
    body = answer.get("body") or ""
    return base64.b64decode(body) if answer.get("isBase64Encoded") else str(body).encode("utf-8")


class FunctionUrlServer:
    """``handler(event, context)`` served on ``127.0.0.1:port``, one thread per request."""

    def __init__(self, port: int, handler: Callable[[dict, Any], Mapping[str, Any]]) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _request_handler(handler))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="function-url", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def _request_handler(handler: Callable[[dict, Any], Mapping[str, Any]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else None
            path, _, query = self.path.partition("?")
            try:
                answer = handler(url_event(self.command, path, self.headers.items(), body, query=query,
                                           source_ip=self.client_address[0]), None)
            except Exception:  # Lambda answers a function that raised with 502
                answer = {"statusCode": 502, "headers": {"Content-Type": "application/json"},
                          "body": json.dumps({"Message": "Internal Server Error"})}
            payload = response_bytes(answer)
            self.send_response(int(answer.get("statusCode", 200)))
            for name, value in (answer.get("headers") or {}).items():
                self.send_header(name, str(value))
            for cookie in answer.get("cookies") or ():
                self.send_header("Set-Cookie", cookie)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        def log_message(self, format, *args) -> None:  # the stack prints its own lines
            pass

    return Handler
