"""A WSGI face for the Chalice app, so schemathesis can call the service in-process.

Requests go through Chalice's local API Gateway (route matching, content types,
403 for unknown routes, 500 for unhandled errors), the same one
``chalice.test.Client`` and ``chalice local`` use, with the test's table and emulator.
"""
from __future__ import annotations

import base64
from http import HTTPStatus
from urllib.parse import quote

from chalice.config import Config
from chalice.local import LocalGateway, LocalGatewayException


class ChaliceWSGI:
    def __init__(self, app):
        self._gateway = LocalGateway(app, Config(chalice_stage="local"))

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
                   if key.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        # PATH_INFO arrives percent-decoded (as latin-1); API Gateway sees the encoded path.
        path = quote(environ.get("PATH_INFO", "/").encode("latin-1"), safe="/")
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        try:
            response = self._gateway.handle_request(method=environ["REQUEST_METHOD"], path=path, headers=headers,
                                                    body=body)
            status, response_headers = response["statusCode"], dict(response.get("headers") or {})
            payload = response.get("body") or b""
            if response.get("isBase64Encoded"):
                payload = base64.b64decode(payload)
        except LocalGatewayException as error:  # 403 unknown route, 401 authorizer, ...
            status, response_headers, payload = error.CODE, dict(error.headers or {}), error.body or b""
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        start_response(f"{status} {reason}", [(name, str(value)) for name, value in response_headers.items()])
        return [payload]
