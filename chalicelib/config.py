"""Every environment variable the service reads, read once per cold start, typed.

``Config.from_environ()`` is called by the composition root (chalicelib/composition.py) and
nowhere else; services get the ``Config`` it returns. ``SETTINGS`` below is the one table of
variables: docs/configuration.md shows the same table (tests/unit/test_config.py keeps the two
in step), so a variable is added here, with its type, default and meaning, or not at all.

Chalice's test client applies ``.chalice/config.json`` only while its context is open, so
nothing here runs at import time.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional

from chalicelib.domain.access import limits as abuse_limits

DEFAULT_TABLE_NAME = "loyalty"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
LOCAL_STACK_SWITCH = "LOYALTY_LOCAL_STACK"
# The local stack's admin token and link-signing key: they count only where LOYALTY_LOCAL_STACK=1
# says so, and never inside a Lambda function (docs/security.md).
LOCAL_ADMIN_TOKEN = "local-admin-token"
DEV_SIGNING_KEY = "local-dev-link-signing-key-not-for-production"


@dataclass(frozen=True)
class SecretSource:
    """Where one secret comes from (chalicelib/secrets.py reads it): a Secrets Manager ARN, an SSM
    parameter, or the value itself (local mode and tests), with the previous value during a rotation."""

    name: str
    secret_arn: Optional[str] = None
    parameter: Optional[str] = None
    value: Optional[str] = None
    previous: Optional[str] = None
    local_default: Optional[str] = None  # counts only on the local stack


@dataclass(frozen=True)
class Setting:
    variable: str
    field: str
    kind: str  # what docs/configuration.md calls its type
    default: str  # as documented
    meaning: str
    parse: Callable[[str], object] = str


def _float(text: str) -> float:
    return float(text)


def _flag(text: str) -> bool:
    return text.strip() == "1"


def _optional(text: str) -> Optional[str]:
    return text.strip() or None


def _optional_int(text: str) -> Optional[int]:
    return int(text) if text.strip() else None


SETTINGS: tuple[Setting, ...] = (
    Setting("LOYALTY_TABLE", "table_name", "str", DEFAULT_TABLE_NAME, "the DynamoDB table of everything"),
    Setting("LOYALTY_SEND_QUEUE", "send_queue_name", "str", "loyalty-mail-send",
            "the SQS queue of e-mails to send"),
    Setting("LOYALTY_EVENTS_QUEUE", "events_queue_name", "str", "loyalty-mail-events",
            "the SQS queue of SES delivery events"),
    Setting("LOYALTY_PUBLIC_URL", "public_url", "str (URL)", DEFAULT_PUBLIC_URL,
            "where customers reach the API: unsubscribe, tracked and confirmation links",
            lambda text: (text.strip() or DEFAULT_PUBLIC_URL).rstrip("/")),
    Setting("LOYALTY_WEBHOOK_URL", "webhook_url", "str (URL) or empty", "(none)",
            "the webhooks' Lambda function URL (the stack's WebhookFunctionUrl), shown to shops as their webhook "
            "address; empty: the API's /webhooks route", lambda text: text.strip().rstrip("/") or None),
    Setting("LOYALTY_SHOP_CACHE_SECONDS", "shop_cache_seconds", "float", "30",
            "how long a Lambda container keeps a shop, its templates and its sender's verdict", _float),
    Setting("LOYALTY_KEY_LAST_USED_SECONDS", "key_last_used_seconds", "float", "60",
            "a key's last use is written at most this often", _float),
    Setting("LOYALTY_TEST_SENDS_PER_HOUR", "test_sends_per_hour", "int", "20",
            "test sends and test-recipient confirmations per shop and hour", int),
    Setting("LOYALTY_MAIL_LEASE_SECONDS", "mail_lease_seconds", "float", "120",
            "how long a sender's claim on one e-mail lasts before another may take it over", _float),
    Setting("LOYALTY_UNSUBSCRIBE_MAILBOX", "unsubscribe_mailbox", "str or empty", "(none)",
            "a mailto: address added to List-Unsubscribe; the service never reads that mailbox, so whoever "
            "runs it must act on each mail (subject \"unsubscribe TOKEN\"; POST the token to /u/)", _optional),
    Setting("LOYALTY_CAMPAIGN_QUEUE_AHEAD", "campaign_queue_ahead", "int or empty",
            "(10 minutes at the SES rate)", "messages a campaign may keep waiting in the send queue",
            _optional_int),
    Setting("LOYALTY_SES_MAX_SEND_RATE", "ses_max_send_rate", "float", "14",
            "the account's SES messages per second, shared by every sender", _float),
    Setting("LOYALTY_SES_CONFIGURATION_SET", "ses_configuration_set", "str or empty", "loyalty-mail",
            "the SES configuration set every e-mail goes through (empty: none)", _optional),
    Setting("LOYALTY_SES_REGION", "ses_region", "str or empty", "(the Lambda's region)",
            "the region of SES, where it differs", _optional),
    Setting("LOYALTY_SEND_FUNCTION", "send_function_name", "str or empty", "(none)",
            "the send Lambda whose concurrency size_sender sets from SES's rate (empty: it only reports)",
            _optional),
    Setting("LOYALTY_SEND_SECONDS_PER_EMAIL", "send_seconds_per_email", "float", "0.11",
            "one e-mail's time in the send Lambda (CPU, requests, SES's answer), for its concurrency", _float),
    Setting("LOYALTY_OUTBOX_STREAM", "outbox_stream", "flag (1)", "(off)",
            "outbox items reach the send queue through the table's DynamoDB Stream (deployed stages, make run); "
            "off: published right after the commit", _flag),
    Setting("LOYALTY_STAGE", "stage", "str", "local",
            "the deployed stage (dev, prod): the Stage dimension of the service's metrics"),
    Setting("LOYALTY_SECRET_CACHE_SECONDS", "secret_cache_seconds", "float", "300",
            "how long a fetched secret is kept per container (a rotation is picked up within this)", _float),
    Setting(LOCAL_STACK_SWITCH, "local_stack_switch", "flag (1)", "(off)",
            "the local stack: development token and signing key accepted (never inside Lambda)", _flag),
    Setting("AWS_LAMBDA_FUNCTION_NAME", "lambda_function_name", "str", "(set by Lambda)",
            "inside Lambda the local stack switch never counts", _optional),
    Setting("AWS_ENDPOINT_URL", "endpoint_url", "str (URL)", "(AWS)",
            "the emulator's endpoint locally and in tests (boto3 and PynamoDB read it too)", _optional),
)

# Secrets: each NAME is read from NAME_SECRET_ARN (Secrets Manager), NAME_PARAM (SSM), or NAME
# itself with NAME_PREVIOUS during a rotation (chalicelib/secrets.py).
SECRETS: tuple[tuple[str, str, Optional[str], str], ...] = (
    ("LOYALTY_ADMIN_TOKEN", "admin_token", LOCAL_ADMIN_TOKEN, "the operator's admin API token"),
    ("LOYALTY_LINK_SIGNING_KEY", "link_signing_key", DEV_SIGNING_KEY,
     "signs unsubscribe, tracked-link and confirmation tokens"),
)
SECRET_SUFFIXES = ("", "_PREVIOUS", "_SECRET_ARN", "_PARAM")
LIMIT_VARIABLES = "LOYALTY_LIMIT_<ACTION>_PER_<SCOPE>"


@dataclass(frozen=True)
class Config:
    table_name: str = DEFAULT_TABLE_NAME
    send_queue_name: str = "loyalty-mail-send"
    events_queue_name: str = "loyalty-mail-events"
    public_url: str = DEFAULT_PUBLIC_URL
    webhook_url: Optional[str] = None
    shop_cache_seconds: float = 30.0
    key_last_used_seconds: float = 60.0
    test_sends_per_hour: int = 20
    mail_lease_seconds: float = 120.0
    unsubscribe_mailbox: Optional[str] = None
    campaign_queue_ahead: Optional[int] = None
    ses_max_send_rate: float = 14.0
    ses_configuration_set: Optional[str] = "loyalty-mail"
    ses_region: Optional[str] = None
    secret_cache_seconds: float = 300.0
    stage: str = "local"
    outbox_stream: bool = False
    send_function_name: Optional[str] = None
    send_seconds_per_email: float = 0.11
    local_stack_switch: bool = False
    lambda_function_name: Optional[str] = None
    endpoint_url: Optional[str] = None
    admin_token: SecretSource = SecretSource("LOYALTY_ADMIN_TOKEN")
    link_signing_key: SecretSource = SecretSource("LOYALTY_LINK_SIGNING_KEY")
    # (action, scope) → Limit or None (off); the defaults are in chalicelib/domain/access/limits.py.
    limits: Mapping = field(default_factory=dict)

    @property
    def local_stack(self) -> bool:
        """The local stack says so (``LOYALTY_LOCAL_STACK=1``) and this is not a Lambda function."""
        return self.local_stack_switch and not self.lambda_function_name

    @property
    def campaign_queue_limit(self) -> int:
        """Messages a campaign may keep waiting in the send queue: ten minutes at the SES rate
        unless LOYALTY_CAMPAIGN_QUEUE_AHEAD says."""
        return self.campaign_queue_ahead if self.campaign_queue_ahead is not None \
            else int(self.ses_max_send_rate * 600)

    @classmethod
    def from_environ(cls, environ: Optional[Mapping[str, str]] = None) -> "Config":
        environ = dict(os.environ if environ is None else environ)
        values: dict = {}
        for setting in SETTINGS:
            if setting.variable in environ:
                values[setting.field] = setting.parse(environ[setting.variable])
        for name, attribute, local_default, _ in SECRETS:
            values[attribute] = SecretSource(
                name, secret_arn=environ.get(f"{name}_SECRET_ARN") or None,
                parameter=environ.get(f"{name}_PARAM") or None, value=environ.get(name) or None,
                previous=environ.get(f"{name}_PREVIOUS") or None, local_default=local_default)
        values["limits"] = abuse_limits.configured(environ)
        return cls(**values)
