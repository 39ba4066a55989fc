"""SES set-up the local emulator needs (on AWS: verify the domain, see the deploy guide)."""
from __future__ import annotations

import os

DEFAULT_CONFIGURATION_SET = "loyalty-mail"


def configuration_set_name() -> str:
    return os.environ.get("LOYALTY_SES_CONFIGURATION_SET", DEFAULT_CONFIGURATION_SET)


def create_configuration_set(sesv2_client) -> None:
    try:
        sesv2_client.create_configuration_set(ConfigurationSetName=configuration_set_name())
    except sesv2_client.exceptions.AlreadyExistsException:
        pass


def verify_sender_domain(sesv2_client, sender_email: str) -> None:
    """The emulator, like SES, refuses unverified senders: verify the sender's domain."""
    domain = sender_email.rsplit("@", 1)[1]
    try:
        sesv2_client.create_email_identity(EmailIdentity=domain)
    except sesv2_client.exceptions.AlreadyExistsException:
        pass
