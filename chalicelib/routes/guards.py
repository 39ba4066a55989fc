"""What every route of a kind checks first: the admin API's principal and role, the storefront's
key and abuse limits, and the caller's address as API Gateway saw it."""
from __future__ import annotations

import functools

from chalicelib.api import permissions
from chalicelib.composition import dependencies
from chalicelib.first_use import imported_on_first_use

with imported_on_first_use():  # run on a handler's first call, not at cold start (chalicelib/first_use.py)
    from chalicelib.services.access import admin_auth, api_keys

# Routes that take what the platforms and browsers send, not only JSON.
WEBHOOK_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"]
FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data"]


def client_address(request):
    """The caller's address as API Gateway saw the connection; never X-Forwarded-For, which
    any client can write."""
    return ((request.context or {}).get("identity") or {}).get("sourceIp")


def who() -> str:
    """The signed-in principal's label (after ``admin_only``)."""
    return admin_auth.current_principal().label


def admin_only(blueprint):
    """The admin API, before anything else: ``Authorization: Bearer <LOYALTY_ADMIN_TOKEN>``, or
    the workspace's session cookie (+ ``X-CSRF-Token`` on changes), limited to its shop and to
    the roles chalicelib/api/permissions.py gives this route."""

    def decorate(view):
        @functools.wraps(view)
        def checked(*args, **kwargs):
            request = blueprint.current_request
            route = (request.context or {}).get("resourcePath", "")
            admin_auth.authorize(dependencies(), request.headers, request.method, kwargs.get("shop_id"),
                                 allowed_roles=permissions.allowed_roles(request.method, route),
                                 address=client_address(request))
            return view(*args, **kwargs)

        checked.admin_only = True
        return checked

    return decorate


def storefront_key(blueprint, action):
    """The storefront API (``X-Api-Key``): the client address's and the key's abuse limits for
    ``action``, and the key; the view gets the shop instead of its id (the one place these
    checks live)."""

    def decorate(view):
        @functools.wraps(view)
        def checked(shop_id, **kwargs):
            request = blueprint.current_request
            shop = api_keys.storefront_caller(dependencies(), shop_id, request.headers.get("x-api-key"), action,
                                              client_address(request))
            return view(shop, **kwargs)

        return checked

    return decorate
