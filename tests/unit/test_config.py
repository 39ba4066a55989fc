"""config.py is the one door for the environment: its variables, typed, and docs/configuration.md
naming the same variables with the same types and defaults."""
from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from chalicelib.config import SECRETS, SETTINGS, Config
from chalicelib.domain.access import limits

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def _documented_rows() -> dict[str, list[str]]:
    rows = {}
    for line in DOC.read_text().splitlines():
        match = re.match(r"^\| `([A-Z_]+)` \|(.*)\|$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


def test_the_documented_table_is_the_code_s():
    rows = _documented_rows()
    for setting in SETTINGS:
        assert rows.pop(setting.variable) == [setting.kind, setting.default, setting.meaning], setting.variable
    for name, _, local_default, meaning in SECRETS:
        assert rows.pop(name) == ["yes" if local_default else "no", meaning], name
    for (action, scope), limit in limits.DEFAULTS.items():
        assert rows.pop(limits.variable_name(action, scope)) == [str(limit)]
    assert rows == {}, "documented but never read"


def test_every_setting_is_a_field_of_the_config():
    names = {field.name for field in fields(Config)}
    assert {setting.field for setting in SETTINGS} <= names


def test_values_are_parsed_to_their_types_and_defaults_hold_when_unset():
    config = Config.from_environ({
        "LOYALTY_TABLE": "loyalty-prod", "LOYALTY_PUBLIC_URL": "https://api.example.com/", "LOYALTY_SES_MAX_SEND_RATE": "2.5",
        "LOYALTY_TEST_SENDS_PER_HOUR": "7", "LOYALTY_UNSUBSCRIBE_MAILBOX": " ", "LOYALTY_CAMPAIGN_QUEUE_AHEAD": "",
        "LOYALTY_LIMIT_REDEEM_PER_KEY": "off", "LOYALTY_LIMIT_SIGN_IN_PER_ADDRESS": "3/60",
        "LOYALTY_LINK_SIGNING_KEY_SECRET_ARN": "arn:aws:secretsmanager:eu-central-1:1:secret:k",
    })
    assert config.table_name == "loyalty-prod" and config.public_url == "https://api.example.com"
    assert config.ses_max_send_rate == 2.5 and config.test_sends_per_hour == 7
    assert config.unsubscribe_mailbox is None and config.campaign_queue_ahead is None
    assert config.campaign_queue_limit == 1500  # ten minutes at the SES rate
    assert config.send_queue_name == "loyalty-mail-send" and config.mail_lease_seconds == 120.0
    assert config.limits[(limits.REDEEM, limits.PER_KEY)] is None
    assert config.limits[(limits.SIGN_IN, limits.PER_ADDRESS)] == limits.Limit(3, 60)
    assert config.link_signing_key.secret_arn.endswith(":secret:k") and config.link_signing_key.value is None


def test_the_local_stack_switch_never_counts_inside_lambda():
    assert Config.from_environ({"LOYALTY_LOCAL_STACK": "1"}).local_stack is True
    assert Config.from_environ({"LOYALTY_LOCAL_STACK": "1", "AWS_LAMBDA_FUNCTION_NAME": "send"}).local_stack is False
    assert Config.from_environ({}).local_stack is False


def test_a_malformed_value_names_its_variable():
    with pytest.raises(ValueError, match="LOYALTY_LIMIT_LOOKUP_PER_KEY"):
        Config.from_environ({"LOYALTY_LIMIT_LOOKUP_PER_KEY": "lots"})
