"""Deployed stages read the admin token and the link-signing key from a secret store, cached,
with the previous value accepted during a rotation; local mode keeps plain environment values."""
from __future__ import annotations

import json
import uuid

import boto3
import pytest

from chalicelib import bootstrap, secrets
from chalicelib.mail import tokens


def _admin(client, token: str) -> int:
    return client.http.get("/admin/shops", headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.fixture
def admin_secret(table, monkeypatch):
    manager = boto3.client("secretsmanager")
    arn = manager.create_secret(Name=f"loyalty-mail/test/admin-token-{uuid.uuid4().hex[:8]}",
                                SecretString=json.dumps({"current": "deployed-token-1"}))["ARN"]
    monkeypatch.setenv("LOYALTY_ADMIN_TOKEN_SECRET_ARN", arn)
    bootstrap.reset()
    yield manager, arn
    secrets.forget()


def test_admin_token_comes_from_the_secret_not_the_environment(client, admin_secret):
    assert _admin(client, "deployed-token-1") == 200
    assert _admin(client, "test-admin-token") == 401  # the plain variable no longer counts


def test_rotation_accepts_current_and_previous_then_only_the_new_token(client, admin_secret, monkeypatch):
    manager, arn = admin_secret
    monkeypatch.setenv("LOYALTY_SECRET_CACHE_SECONDS", "0")
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
    secrets.forget()
    assert _admin(client, "deployed-token-9") == 200
    assert _admin(client, "deployed-token-1") == 401


def test_link_signing_key_from_parameter_store(table, monkeypatch):
    name = f"/loyalty-mail/test/link-key-{uuid.uuid4().hex[:8]}"
    boto3.client("ssm").put_parameter(Name=name, Type="SecureString", Value="k" * 64)
    monkeypatch.setenv("LOYALTY_LINK_SIGNING_KEY_PARAM", name)
    secrets.forget()
    token = tokens.make_token("shop", "c_1")
    assert tokens.read_token(token).customer_id == "c_1"
    assert tokens.signing_keys() == (b"k" * 64,)

    monkeypatch.delenv("LOYALTY_LINK_SIGNING_KEY_PARAM")
    assert tokens.read_token(token) is None  # the development key does not verify it


def test_an_empty_secret_is_an_error_that_does_not_show_the_value(table, monkeypatch):
    manager = boto3.client("secretsmanager")
    arn = manager.create_secret(Name=f"loyalty-mail/test/empty-{uuid.uuid4().hex[:8]}",
                                SecretString=json.dumps({"current": ""}))["ARN"]
    monkeypatch.setenv("LOYALTY_LINK_SIGNING_KEY_SECRET_ARN", arn)
    secrets.forget()
    with pytest.raises(secrets.SecretUnavailable, match="holds no value"):
        tokens.signing_keys()


def test_local_mode_reads_plain_variables_with_a_previous_key(monkeypatch):
    for name in ("LOYALTY_LINK_SIGNING_KEY_SECRET_ARN", "LOYALTY_LINK_SIGNING_KEY_PARAM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOYALTY_LINK_SIGNING_KEY", "new-key")
    monkeypatch.setenv("LOYALTY_LINK_SIGNING_KEY_PREVIOUS", "old-key")
    assert tokens.signing_keys() == (b"new-key", b"old-key")


def test_a_lambda_without_its_secrets_accepts_no_development_value(client, monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "loyalty-mail-prod-api_handler")
    for name in ("LOYALTY_ADMIN_TOKEN", "LOYALTY_LINK_SIGNING_KEY", "LOYALTY_LINK_SIGNING_KEY_PREVIOUS"):
        monkeypatch.delenv(name, raising=False)
    assert _admin(client, bootstrap.LOCAL_ADMIN_TOKEN) == 401
    with pytest.raises(secrets.SecretUnavailable):
        tokens.make_token("shop", "c_1")
