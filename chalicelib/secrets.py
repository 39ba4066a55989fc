"""Secrets (admin token, link-signing key) from the environment or a secret store.

Each secret ``LOYALTY_<NAME>`` is read, in this order, from:

- ``LOYALTY_<NAME>_SECRET_ARN``: an AWS Secrets Manager secret (what the deployed stages use);
- ``LOYALTY_<NAME>_PARAM``: an SSM Parameter Store parameter (SecureString, decrypted);
- ``LOYALTY_<NAME>`` (and ``LOYALTY_<NAME>_PREVIOUS``): the value itself (local mode and tests).

The local default a caller passes (a well-known development value: the admin token
``local-admin-token``, the development link-signing key) applies only where the local stack
says so explicitly, ``LOYALTY_LOCAL_STACK=1`` (set by ``make run`` / devstack, the CLI's local
mode and the tests), and never inside a Lambda function even then. Anything else without
configuration gets nothing: the admin API answers 503 naming the missing setting, signing
a link raises ``SecretUnavailable``. A deployment that lost its secret configuration refuses
rather than accepting the development token or signing with the development key.

A stored secret is either the value as plain text or JSON ``{"current": "...", "previous": "..."}``:
during a rotation both are accepted (verification), the current one is used to sign.
Values are fetched on first use and kept per Lambda container for ``LOYALTY_SECRET_CACHE_SECONDS``
(default 300), so a rotation is picked up within minutes and a warm request costs no call.
Nothing here logs a value.
"""
from __future__ import annotations

import json
import os
import threading
import time
from typing import Optional

_cache: dict[tuple[str, str, str], tuple[float, tuple[str, ...]]] = {}
_lock = threading.Lock()
_DEFAULT_TTL = 300.0


class SecretUnavailable(RuntimeError):
    """The configured secret could not be read or holds no value (never carries the value)."""


LOCAL_STACK_SWITCH = "LOYALTY_LOCAL_STACK"


def local_stack() -> bool:
    """True only when the local stack says so (``LOYALTY_LOCAL_STACK=1``) outside Lambda."""
    return os.environ.get(LOCAL_STACK_SWITCH, "").strip() == "1" and not os.environ.get("AWS_LAMBDA_FUNCTION_NAME")


def values(name: str, local_default: Optional[str] = None) -> tuple[str, ...]:
    """The secret's values, the current one first (then the previous one, if any); empty when
    it is not configured (``local_default`` counts only on the local stack)."""
    arn = os.environ.get(f"{name}_SECRET_ARN")
    param = os.environ.get(f"{name}_PARAM")
    if arn:
        return _cached(("secretsmanager", arn, os.environ.get("AWS_ENDPOINT_URL", "")), _from_secrets_manager)
    if param:
        return _cached(("ssm", param, os.environ.get("AWS_ENDPOINT_URL", "")), _from_parameter_store)
    current = os.environ.get(name) or (local_default if local_stack() else None)
    previous = os.environ.get(f"{name}_PREVIOUS")
    return tuple(value for value in (current, previous) if value)


def not_configured_message(name: str) -> str:
    return (f"{name} is not configured: set {name}_SECRET_ARN (deployed stages), {name}_PARAM or {name}; "
            f"the development value applies only on the local stack ({LOCAL_STACK_SWITCH}=1)")


def current(name: str, local_default: Optional[str] = None) -> str:
    found = values(name, local_default)
    if not found:
        raise SecretUnavailable(not_configured_message(name))
    return found[0]


def forget() -> None:
    """Drop cached values (tests; a rotation that must apply at once)."""
    with _lock:
        _cache.clear()


def _cached(key: tuple[str, str, str], fetch) -> tuple[str, ...]:
    ttl = float(os.environ.get("LOYALTY_SECRET_CACHE_SECONDS", _DEFAULT_TTL))
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
        if hit is not None and now - hit[0] < ttl:
            return hit[1]
    found = _parse(fetch(key[1]), key[1])
    with _lock:
        _cache[key] = (now, found)
    return found


def _parse(raw: Optional[str], where: str) -> tuple[str, ...]:
    text = (raw or "").strip()
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            raise SecretUnavailable(f"the secret {where} is not valid JSON") from None
        found = tuple(str(document[key]) for key in ("current", "previous") if document.get(key))
    else:
        found = (text,) if text else ()
    if not found:
        raise SecretUnavailable(f"the secret {where} holds no value")
    return found


def _from_secrets_manager(arn: str) -> str:
    import boto3

    return boto3.client("secretsmanager").get_secret_value(SecretId=arn).get("SecretString")


def _from_parameter_store(name: str) -> str:
    import boto3

    return boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
