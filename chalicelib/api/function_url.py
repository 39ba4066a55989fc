"""One route served from a Lambda function URL: its event (payload format 2.0) in, its answer out,
with what API Gateway and Chalice do for the REST route done here the same way.

A function URL sends every request of its host to the function, whatever the method or path, so
the checks the REST API makes before the view runs are made here, with the same statuses and
bodies: 404 for a path that is not the route's, 405 (with ``Allow``) for another method, 415 for a
content type the route does not take, 400 for a path segment that is not percent-encoded UTF-8
(``decode_path_parameters``, as every REST route). The view gets the same arguments, and its
answer carries the same ``X-Correlation-Id`` (``with_correlation_id``: the caller's, else the
request id Lambda gives the URL's request).

The event's shape (AWS, "Invoking Lambda function URLs", request payload): ``rawPath`` as the
client sent it (percent-encoded), ``headers`` with lower-case names and the values of a repeated
header joined with commas, ``body`` as text or, for a body Lambda does not take for text,
base64 with ``isBase64Encoded``; the method is ``requestContext.http.method``.
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from chalice import Response

from chalicelib.api.correlation import with_correlation_id
from chalicelib.api.http import decode_path_parameters
from chalicelib.errors import BadRequest, NotFound

_JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class UrlRoute:
    """A route as ``app.py`` declares it (``/webhooks/{platform}/{shop_id}``), its methods and the
    content types it takes (Chalice's ``content_types``; the REST default: JSON only)."""

    path: str
    methods: tuple[str, ...]
    content_types: tuple[str, ...] = ("application/json",)
    _segments: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_segments", tuple(self.path.strip("/").split("/")))

    def parameters(self, raw_path: str) -> Optional[dict[str, str]]:
        """The path's parameters, still percent-encoded as API Gateway hands them over, or None
        when the path is not this route's (a segment is one segment: ``%2F`` stays inside it)."""
        if not raw_path.startswith("/"):
            return None
        segments = raw_path[1:].split("/")
        if len(segments) != len(self._segments):
            return None
        parameters = {}
        for pattern, segment in zip(self._segments, segments):
            if pattern.startswith("{") and pattern.endswith("}"):
                if not segment:
                    return None
                parameters[pattern[1:-1]] = segment
            elif segment != pattern:
                return None
        return parameters


@dataclass
class UrlRequest:
    """What the correlation middleware reads of a request (Chalice's ``Request`` has the same names)."""

    method: str
    headers: Mapping[str, str]
    context: dict
    raw_body: bytes


def serve(event: Mapping[str, Any], route: UrlRoute, view: Callable[..., Response]) -> dict:
    """The function URL's answer to ``event``: ``view(request, **parameters)`` when the request is
    the route's, else the status the REST API would give it."""
    event = event if isinstance(event, Mapping) else {}
    context = event.get("requestContext") if isinstance(event.get("requestContext"), Mapping) else {}
    http = context.get("http") if isinstance(context.get("http"), Mapping) else {}
    given_headers = event.get("headers") if isinstance(event.get("headers"), Mapping) else {}
    headers = {str(name).lower(): str(value) for name, value in given_headers.items()}
    request_id = context.get("requestId")
    request = UrlRequest(method=str(http.get("method") or "").upper(), headers=headers,
                         context={"requestId": request_id if isinstance(request_id, str) else None,
                                  "resourcePath": route.path}, raw_body=b"")
    raw_path = event.get("rawPath") if isinstance(event.get("rawPath"), str) else str(http.get("path") or "")
    return to_url_response(with_correlation_id(request, lambda _: _answer(event, route, view, request, raw_path)))


def _answer(event: Mapping[str, Any], route: UrlRoute, view: Callable[..., Response], request: UrlRequest,
            raw_path: str) -> Response:
    parameters = route.parameters(raw_path)
    if parameters is None:
        request.context["resourcePath"] = None  # not the route's: its log line names none
        error = NotFound(f"path: this URL serves {' '.join(route.methods)} {route.path} only", field="path")
        return Response(error.to_body(), status_code=404, headers=_JSON)
    if request.method not in route.methods:
        # Chalice's own answer on the REST API (chalice/app.py, _main_rest_api_handler)
        return Response({"Code": "MethodNotAllowedError", "Message": f"Unsupported method: {request.method}"},
                        status_code=405, headers={"Allow": ", ".join(route.methods)})
    content_type = request.headers.get("content-type", "application/json")
    if not accepts(content_type, route.content_types):
        return Response({"Code": "UnsupportedMediaType", "Message": f"Unsupported media type: {content_type}"},
                        status_code=415)
    refused = decode_path_parameters(parameters)
    if refused is not None:
        return refused
    try:
        request.raw_body = _body(event)
    except BadRequest as error:
        return Response(error.to_body(), status_code=400, headers=_JSON)
    return view(request, **parameters)


def accepts(content_type: str, accepted: tuple[str, ...]) -> bool:
    """Chalice's match of a request's Content-Type against a route's (chalice/app.py,
    ``_matches_content_type``): any of the header's parts, split at ``,`` and ``;``, is one of them."""
    content_type = content_type.lower()
    accepted_types = {kind.lower() for kind in accepted}
    parts = {part.strip() for part in re.split("[,;]", content_type)}
    return "*/*" in content_type or "*/*" in accepted_types or bool(parts & accepted_types)


def _body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise BadRequest("body: not text", field="body")
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("body: not valid base64", field="body") from None
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 text has one
        raise BadRequest("body: not UTF-8", field="body") from None


def to_url_response(response: Response) -> dict:
    """Chalice's answer in the function URL's response format: one value per header (repeated
    ones joined with commas, as HTTP allows), cookies apart, the body as text."""
    answer = response.to_dict()
    headers = {name: str(value) for name, value in answer["headers"].items()}
    cookies: list[str] = []
    for name, values in answer["multiValueHeaders"].items():
        if name.lower() == "set-cookie":
            cookies.extend(map(str, values))
        else:
            headers[name] = ", ".join(map(str, values))
    body = answer["body"]
    url_response = {"statusCode": answer["statusCode"], "headers": headers, "isBase64Encoded": False}
    if isinstance(body, bytes):
        url_response.update(body=base64.b64encode(body).decode("ascii"), isBase64Encoded=True)
    else:
        url_response["body"] = body
    if cookies:
        url_response["cookies"] = cookies
    return url_response
