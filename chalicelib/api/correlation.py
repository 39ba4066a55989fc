"""The correlation id of an HTTP request: in every log line the request causes, and in the answer.

A caller that already has an id for its work (a shop's back end, a gateway in front of ours)
sends it as ``X-Correlation-Id`` and finds it in our logs; an id that is not well formed (too
long, or characters that could forge log fields or headers) is ignored, never echoed. Without
one, the id is API Gateway's request id, the one its access logs and X-Ray carry (a fresh random
id where there is no gateway: ``chalice local`` and the test client). The answer carries the id
used as ``X-Correlation-Id`` whatever its status, so a support request can quote it.
"""
from __future__ import annotations

import logging
import re
import uuid
from typing import Any, Callable, Optional

from chalicelib.logs import log_context

HEADER = "X-Correlation-Id"
# Letters, digits and . _ : - (UUIDs, ULIDs, gateway and platform request ids), at most 128.
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

logger = logging.getLogger("loyalty.http")


def well_formed(candidate: Optional[str]) -> bool:
    return bool(candidate) and _WELL_FORMED.fullmatch(candidate) is not None


def correlation_id(request: Any) -> str:
    """The caller's well-formed ``X-Correlation-Id``, else API Gateway's request id, else a new id."""
    if request is None:
        return uuid.uuid4().hex
    incoming = (request.headers or {}).get(HEADER.lower())
    if well_formed(incoming):
        return incoming
    request_id = ((request.context or {}).get("requestId"))
    return request_id if well_formed(request_id) else uuid.uuid4().hex


def with_correlation_id(request: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice HTTP middleware: the request runs inside ``log_context(correlation_id=...)``; one
    line per request names the route (its template: paths can carry tokens) and the status."""
    identifier = correlation_id(request)
    with log_context(correlation_id=identifier):
        response = get_response(request)
        if request is not None:
            route = (request.context or {}).get("resourcePath")
            logger.info("%s %s answered %s", request.method, route, response.status_code,
                        extra={"http_method": request.method, "route": route, "status": response.status_code})
    response.headers[HEADER] = identifier
    return response
