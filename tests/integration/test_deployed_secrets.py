"""Deployed stages read the admin token and the link-signing key from a secret store, cached,
with the previous value accepted during a rotation; local mode keeps plain environment values."""
from __future__ import annotations

import json
import uuid

import boto3
import pytest

from chalicelib import composition, secrets
from chalicelib.config import DEV_SIGNING_KEY, LOCAL_ADMIN_TOKEN


def _admin(client, token: str) -> int:
    return client.http.get("/admin/shops", headers={"Authorization": f"Bearer {token}"}).status_code


def _cold_start():
    """The environment is read once per cold start: a changed variable needs a new one."""
    composition.reset()
    return composition.dependencies()


@pytest.fixture
def admin_secret(table, monkeypatch):
    manager = boto3.client("secretsmanager")
    arn = manager.create_secret(Name=f"loyalty-mail/test/admin-token-{uuid.uuid4().hex[:8]}",
                                SecretString=json.dumps({"current": "deployed-token-1"}))["ARN"]
    monkeypatch.setenv("LOYALTY_ADMIN_TOKEN_SECRET_ARN", arn)
    _cold_start()
    yield manager, arn


def test_admin_token_comes_from_the_secret_not_the_environment(client, admin_secret):
    assert _admin(client, "deployed-token-1") == 200
    assert _admin(client, "test-admin-token") == 401  # the plain variable no longer counts


def test_rotation_accepts_current_and_previous_then_only_the_new_token(client, admin_secret, monkeypatch):
    manager, arn = admin_secret
    monkeypatch.setenv("LOYALTY_SECRET_CACHE_SECONDS", "0")
    _cold_start()
    manager.put_secret_value(SecretId=arn, SecretString=json.dumps({"current": "deployed-token-2",
                                                                    "previous": "deployed-token-1"}))
    assert _admin(client, "deployed-token-2") == 200
    assert _admin(client, "deployed-token-1") == 200
    manager.put_secret_value(SecretId=arn, SecretString=json.dumps({"current": "deployed-token-2"}))
    assert _admin(client, "deployed-token-1") == 401
    assert _admin(client, "deployed-token-2") == 200


def test_a_warm_container_keeps_the_value_until_its_cache_ends(client, admin_secret):
    manager, arn = admin_secret
    assert _admin(client, "deployed-token-1") == 200
    manager.put_secret_value(SecretId=arn, SecretString="deployed-token-9")  # plain text is a value too
    assert _admin(client, "deployed-token-1") == 200  # cached: no call per request
    composition.dependencies().secrets.forget()
    assert _admin(client, "deployed-token-9") == 200
    assert _admin(client, "deployed-token-1") == 401


def test_link_signing_key_from_parameter_store(table, monkeypatch):
    name = f"/loyalty-mail/test/link-key-{uuid.uuid4().hex[:8]}"
    boto3.client("ssm").put_parameter(Name=name, Type="SecureString", Value="k" * 64)
    monkeypatch.setenv("LOYALTY_LINK_SIGNING_KEY_PARAM", name)
    deps = _cold_start()
    token = deps.tokens.make_token("shop", "c_1")
    assert deps.tokens.read_token(token).customer_id == "c_1"
    assert deps.tokens.keys() == (b"k" * 64,)

    monkeypatch.delenv("LOYALTY_LINK_SIGNING_KEY_PARAM")
    assert _cold_start().tokens.read_token(token) is None  # the development key does not verify it


def test_an_empty_secret_is_an_error_that_does_not_show_the_value(table, monkeypatch):
    manager = boto3.client("secretsmanager")
    arn = manager.create_secret(Name=f"loyalty-mail/test/empty-{uuid.uuid4().hex[:8]}",
                                SecretString=json.dumps({"current": ""}))["ARN"]
    monkeypatch.setenv("LOYALTY_LINK_SIGNING_KEY_SECRET_ARN", arn)
    deps = _cold_start()
    with pytest.raises(secrets.SecretUnavailable, match="holds no value"):
        deps.tokens.keys()


def test_local_mode_reads_plain_variables_with_a_previous_key():
    from chalicelib.config import Config

    environ = {"LOYALTY_LINK_SIGNING_KEY": "new-key", "LOYALTY_LINK_SIGNING_KEY_PREVIOUS": "old-key"}
    deps = composition.build(Config.from_environ(environ), repos=object(), messenger=object(), identities=object())
    assert deps.tokens.keys() == (b"new-key", b"old-key")


@pytest.mark.parametrize("where", ["a Lambda function, even with the switch on", "anywhere without the switch"])
def test_without_configuration_the_development_values_are_refused(client, monkeypatch, where):
    """The development token and key apply only where the local stack says so explicitly:
    never because Lambda's variables are absent, never inside Lambda."""
    if where.startswith("a Lambda"):
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "loyalty-mail-prod-api_handler")
    else:
        monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
        monkeypatch.delenv("LOYALTY_LOCAL_STACK")
    for name in ("LOYALTY_ADMIN_TOKEN", "LOYALTY_LINK_SIGNING_KEY", "LOYALTY_LINK_SIGNING_KEY_PREVIOUS"):
        monkeypatch.delenv(name, raising=False)
    deps = _cold_start()
    response = client.http.get("/admin/shops", headers={"Authorization": f"Bearer {LOCAL_ADMIN_TOKEN}"})
    assert response.status_code == 503
    refusal = json.loads(response.body)
    assert refusal["error"] == "not_configured" and "LOYALTY_ADMIN_TOKEN" in refusal["message"]
    assert LOCAL_ADMIN_TOKEN not in refusal["message"]
    signing_in = client.http.post("/admin/session", headers={"Content-Type": "application/json"},
                                  body=json.dumps({"key": LOCAL_ADMIN_TOKEN}).encode())
    assert signing_in.status_code == 503 and "set-cookie" not in {k.lower() for k in signing_in.headers}
    with pytest.raises(secrets.SecretUnavailable, match="LOYALTY_LINK_SIGNING_KEY is not configured"):
        deps.tokens.make_token("shop", "c_1")
    with pytest.raises(secrets.SecretUnavailable):
        deps.tokens.read_token("anything.at-all")


def test_an_explicit_token_works_without_the_switch(client, monkeypatch):
    monkeypatch.delenv("LOYALTY_LOCAL_STACK")
    _cold_start()
    assert _admin(client, "test-admin-token") == 200  # configured, not defaulted
    assert _admin(client, LOCAL_ADMIN_TOKEN) == 401


def test_the_local_stack_switch_turns_the_development_values_on(client, monkeypatch):
    monkeypatch.delenv("LOYALTY_ADMIN_TOKEN")
    monkeypatch.delenv("LOYALTY_LINK_SIGNING_KEY", raising=False)
    monkeypatch.setenv("LOYALTY_LOCAL_STACK", "1")
    deps = _cold_start()
    assert _admin(client, LOCAL_ADMIN_TOKEN) == 200
    assert deps.tokens.keys() == (DEV_SIGNING_KEY.encode(),)
    monkeypatch.setenv("LOYALTY_LOCAL_STACK", "yes")  # only the exact value counts
    _cold_start()
    assert _admin(client, LOCAL_ADMIN_TOKEN) == 503
