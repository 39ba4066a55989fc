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
(default 300; chalicelib/config.py reads the variables, the composition root builds one ``Secrets``), so a rotation is picked up within minutes and a warm request costs no call.
Nothing here logs a value.
"""
from __future__ import annotations

import json
from typing import Callable, Optional

from chalicelib.caching import TTLCache
from chalicelib.config import LOCAL_STACK_SWITCH, Config, SecretSource


class SecretUnavailable(RuntimeError):
    """The configured secret could not be read or holds no value (never carries the value)."""


def not_configured_message(name: str) -> str:
    return (f"{name} is not configured: set {name}_SECRET_ARN (deployed stages), {name}_PARAM or {name}; "
            f"the development value applies only on the local stack ({LOCAL_STACK_SWITCH}=1)")


class Secrets:
    """The configured secrets' values, fetched on first use and kept for a while."""

    def __init__(self, config: Config, client: Callable[[str], object]):
        self._local_stack = config.local_stack
        self._client = client  # "secretsmanager" / "ssm" → a boto3 client (the composition root's)
        self._cache: TTLCache[tuple[str, ...]] = TTLCache(config.secret_cache_seconds)

    def values(self, source: SecretSource) -> tuple[str, ...]:
        """The secret's values, the current one first (then the previous one, if any); empty when
        it is not configured (its local default counts only on the local stack)."""
        if source.secret_arn:
            return self._cache.get_or_load(("secretsmanager", source.secret_arn),
                                           lambda: _parse(self._from_secrets_manager(source.secret_arn),
                                                          source.secret_arn))
        if source.parameter:
            return self._cache.get_or_load(("ssm", source.parameter),
                                           lambda: _parse(self._from_parameter_store(source.parameter),
                                                          source.parameter))
        current = source.value or (source.local_default if self._local_stack else None)
        return tuple(value for value in (current, source.previous) if value)

    def current(self, source: SecretSource) -> str:
        found = self.values(source)
        if not found:
            raise SecretUnavailable(not_configured_message(source.name))
        return found[0]

    def forget(self) -> None:
        """Drop cached values (a rotation that must apply at once)."""
        self._cache.clear()

    def _from_secrets_manager(self, arn: str) -> Optional[str]:
        return self._client("secretsmanager").get_secret_value(SecretId=arn).get("SecretString")

    def _from_parameter_store(self, name: str) -> str:
        return self._client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]


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
