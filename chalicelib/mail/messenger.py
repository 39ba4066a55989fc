"""Sending one raw message: the ``Messenger`` port and its SES v2 adapter.

Errors are sorted by what the caller should do:

- ``TransientSendError``: try again later (throttling, sending quota, SES 5xx,
  network trouble). The queue's redelivery is the retry.
- ``PermanentSendError``: this message will never go out as it is (rejected
  content, unverified sender or MAIL FROM domain, suspended account, a bad
  address). Record it and move on.
"""
from __future__ import annotations

import re
from typing import Optional, Protocol

_TAG_CHARS = re.compile(r"[^A-Za-z0-9_-]")
_MAX_TAG_LENGTH = 256

_TRANSIENT_CODES = frozenset({
    "TooManyRequestsException", "Throttling", "ThrottlingException", "LimitExceededException", "LimitExceeded",
    "SendingPausedException", "ServiceUnavailable", "ServiceUnavailableException", "InternalFailure",
    "InternalServerError", "RequestTimeout", "RequestTimeoutException",
    # The configuration set is missing: a deployment problem, not this message's fault; keep it queued.
    "NotFoundException", "ConfigurationSetDoesNotExistException",
})
_PERMANENT_CODES = frozenset({
    "MessageRejected", "MailFromDomainNotVerifiedException", "MailFromDomainNotVerified",
    "AccountSuspendedException", "BadRequestException", "InvalidParameterValue", "ValidationException",
})


class SendError(Exception):
    def __init__(self, message: str, *, code: str = ""):
        super().__init__(message)
        self.code = code


class TransientSendError(SendError):
    """Not sent this time; the same message may succeed later."""


class PermanentSendError(SendError):
    """Not sent, and sending it again would fail the same way."""


class Messenger(Protocol):
    def send_raw(self, *, sender: str, recipient: str, raw: bytes, configuration_set: Optional[str],
                 tags: dict[str, str]) -> str:
        """Send ``raw`` (a complete MIME message) and return the provider's message id."""


def sanitize_tag(value: Optional[str]) -> str:
    """A value SES accepts as a message tag: ASCII letters, digits, ``_`` and ``-``, at most 256."""
    cleaned = _TAG_CHARS.sub("_", str(value or ""))[:_MAX_TAG_LENGTH]
    return cleaned or "none"


class SesMessenger:
    """Amazon SES v2 ``SendEmail`` with raw content, on the client the composition root made (few,
    quick attempts: the queue retries with backoff, and a SendEmail retried after a read timeout is
    exactly how duplicates happen)."""

    def __init__(self, client):
        self.client = client

    def send_raw(self, *, sender: str, recipient: str, raw: bytes, configuration_set: Optional[str],
                 tags: dict[str, str]) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        from chalicelib.mail.mime import InvalidAddress, envelope_address

        try:  # SES speaks no SMTPUTF8: the envelope spells the domains as the headers do
            sender, recipient = envelope_address(sender), envelope_address(recipient)
        except InvalidAddress as error:
            raise PermanentSendError(str(error), code="InvalidAddress") from error
        request = {
            "FromEmailAddress": sender,
            "Destination": {"ToAddresses": [recipient]},
            "Content": {"Raw": {"Data": raw}},
            "EmailTags": [{"Name": sanitize_tag(name), "Value": sanitize_tag(value)} for name, value in tags.items()],
        }
        if configuration_set:
            request["ConfigurationSetName"] = configuration_set
        try:
            response = self.client.send_email(**request)
        except ClientError as error:
            raise classify_client_error(error) from error
        except BotoCoreError as error:  # connection refused/closed, timeouts, ...
            raise TransientSendError(f"SES not reachable: {error}", code=type(error).__name__) from error
        return response["MessageId"]


def classify_client_error(error) -> SendError:
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    message = f"SES {code}: {details.get('Message', '')}".strip()
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code in _TRANSIENT_CODES:
        return TransientSendError(message, code=code)
    if code in _PERMANENT_CODES:
        return PermanentSendError(message, code=code)
    if status >= 500 or status == 429 or status == 0:
        return TransientSendError(message, code=code)
    return PermanentSendError(message, code=code)
