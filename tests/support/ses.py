"""SES as the tests talk to it: a messenger straight to the emulator's SES v2 (no rate pacing)."""
from __future__ import annotations


def ses_messenger():
    import boto3

    from chalicelib.composition import boto_config
    from chalicelib.mail.messenger import SesMessenger

    return SesMessenger(boto3.client("sesv2", config=boto_config()))
