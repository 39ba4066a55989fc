"""SES v2 domain identities: the ``Identities`` port and its adapter.

A shop's sending domain is one SES identity with Easy DKIM (SES keeps the keys and
rotates them; the shop publishes three CNAMEs) and a custom MAIL FROM subdomain (bounces
return through it and SPF aligns with the From domain). SES verifies the domain itself
by looking up the DKIM records, for up to 72 hours.
"""
from __future__ import annotations

from typing import Optional, Protocol


class IdentityError(Exception):
    """SES refused or could not be reached; the message is safe to show."""


class Identities(Protocol):
    region: str

    def create_domain(self, domain: str) -> tuple[dict, bool]:
        """Create the domain identity with Easy DKIM. Returns SES's view of it and whether it
        was created now (False: the account had it already)."""

    def get(self, domain: str) -> Optional[dict]:
        """GetEmailIdentity's answer, or None when the account has no such identity."""

    def set_mail_from(self, domain: str, mail_from_domain: str) -> None: ...

    def delete(self, domain: str) -> None: ...


class SesIdentities:
    def __init__(self, client):
        self.client = client  # the composition root's SES v2 client

    @property
    def region(self) -> str:
        return self.client.meta.region_name

    def create_domain(self, domain: str) -> tuple[dict, bool]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            # NextSigningKeyLength alone means Easy DKIM (SES makes and rotates the keys).
            answer = self.client.create_email_identity(
                EmailIdentity=domain, DkimSigningAttributes={"NextSigningKeyLength": "RSA_2048_BIT"})
        except ClientError as error:
            if _code(error) == "AlreadyExistsException":
                existing = self.get(domain)
                if existing is not None:
                    return existing, False
            raise IdentityError(_message(error)) from error
        except BotoCoreError as error:
            raise IdentityError(f"SES not reachable: {error}") from error
        return self.get(domain) or answer, True

    def get(self, domain: str) -> Optional[dict]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.get_email_identity(EmailIdentity=domain)
        except ClientError as error:
            if _code(error) in ("NotFoundException", "NotFound"):
                return None
            raise IdentityError(_message(error)) from error
        except BotoCoreError as error:
            raise IdentityError(f"SES not reachable: {error}") from error

    def set_mail_from(self, domain: str, mail_from_domain: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            # USE_DEFAULT_VALUE: until the MX is published, bounces use SES's own MAIL FROM (mail still goes).
            self.client.put_email_identity_mail_from_attributes(
                EmailIdentity=domain, MailFromDomain=mail_from_domain, BehaviorOnMxFailure="USE_DEFAULT_VALUE")
        except ClientError as error:
            raise IdentityError(_message(error)) from error
        except BotoCoreError as error:
            raise IdentityError(f"SES not reachable: {error}") from error

    def delete(self, domain: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_email_identity(EmailIdentity=domain)
        except ClientError as error:
            if _code(error) not in ("NotFoundException", "NotFound"):
                raise IdentityError(_message(error)) from error
        except BotoCoreError as error:
            raise IdentityError(f"SES not reachable: {error}") from error


def _code(error) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _message(error) -> str:
    details = error.response.get("Error", {})
    return f"SES {details.get('Code', '')}: {details.get('Message', '')}".strip()

