"""docs/openapi.yaml describes every route app.py serves, and schemathesis, generating
requests from it for every operation, never gets a 5xx, and a rejected request writes nothing."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.support.shops import register_shop
from tests.support.emulator import table_fingerprint
from tests.support.wsgi import ChaliceWSGI

# The store in memory (tests/support/fakes): what is attacked here is the request handling.
pytestmark = pytest.mark.in_memory

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
SCHEMA = schemathesis.openapi.from_path(DOC)
FUZZ_SHOP = "fuzz-shop"


def _documented() -> set[tuple[str, str]]:
    paths = yaml.safe_load(DOC.read_text(encoding="utf-8"))["paths"]
    return {(path, method.upper()) for path, item in paths.items() for method in item
            if method in ("get", "put", "post", "delete", "patch", "head")}


def test_every_route_of_the_app_is_in_the_openapi_description_and_nothing_else():
    from app import app

    served = {(path, method) for path, entries in app.routes.items() for method in entries}
    assert served, "app.py serves no routes?"
    assert sorted(served - _documented()) == [], "routes missing from docs/openapi.yaml"
    assert sorted(_documented() - served) == [], "docs/openapi.yaml describes routes app.py does not serve"


def test_every_operation_has_an_id_named_after_its_view():
    from app import app

    views = {(path, method): entry.view_name for path, entries in app.routes.items()
             for method, entry in entries.items()}
    paths = yaml.safe_load(DOC.read_text(encoding="utf-8"))["paths"]
    for (path, method), view in views.items():  # HEAD shares GET's view: its id says so
        assert paths[path][method.lower()]["operationId"] == view + ("_head" if method == "HEAD" else ""), (path, method)


def test_the_committed_description_is_what_the_generator_makes():
    # docs/openapi.yaml is generated (make openapi): from the routes app.py serves, the request
    # models and the hand-written docs/openapi-source.yaml, so the Program schema has every field.
    from devstack.openapi import generate

    assert DOC.read_text(encoding="utf-8") == generate(), "docs/openapi.yaml is stale: run make openapi"
    program = yaml.safe_load(DOC.read_text(encoding="utf-8"))["components"]["schemas"]["Program"]["properties"]
    assert {"referral", "review", "membership", "achievements", "signup_bonus_points"} <= set(program)


@pytest.fixture
def fuzz_target(client):
    """A real shop (with a customer who has points) that most generated requests are aimed at."""
    from devstack.samples import sample_order_payload

    shop = register_shop(client, FUZZ_SHOP, "shopify")
    shop.deliver(sample_order_payload("shopify", order_id="f-1", email="fuzz@example.com"), topic="orders/paid")
    return shop


def _aim(case, shop) -> dict:
    """Credentials that pass, and the shop that exists, so the fuzzing reaches past the doors."""
    if "shop_id" in (case.path_parameters or {}):
        case.path_parameters["shop_id"] = shop.shop_id
    if case.path.startswith("/admin/"):
        return {"Authorization": "Bearer test-admin-token"}
    if case.path.startswith("/shops/"):
        return {"X-Api-Key": shop.api_key}
    return {}


@SCHEMA.parametrize()
@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_generated_requests_get_no_5xx_and_a_rejection_writes_nothing(case, fuzz_target):
    before = table_fingerprint()
    from app import app

    response = case.call(app=ChaliceWSGI(app), headers=_aim(case, fuzz_target))
    case.validate_response(response, checks=[not_a_server_error])
    if response.status_code >= 400:
        assert table_fingerprint() == before, f"{case.method} {case.formatted_path} answered " \
                                              f"{response.status_code} but wrote to the table"
    if response.headers.get("content-type", [""])[0].startswith("application/json") and response.status_code >= 400:
        body = response.json()
        assert body["error"] and body["message"], body  # a clear error: what and why


def test_the_description_is_valid_openapi():
    # from_path validated the document; its operations are all there.
    operations = [result.ok() for result in SCHEMA.get_all_operations()]
    assert len(operations) == len(_documented())
    assert all(re.match(r"^[a-z_]+$", operation.definition.raw["operationId"]) for operation in operations)
