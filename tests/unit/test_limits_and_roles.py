"""The rules behind the abuse limits and the roles, without I/O."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.domain.access import limits
from chalicelib.domain.access import roles
from chalicelib.errors import TooManyRequests
from chalicelib.services.access import throttle

AT = datetime(2031, 3, 14, 9, 30, 30, 250000, tzinfo=timezone.utc)


def test_windows_are_the_same_for_every_instance_and_retry_after_rounds_up():
    window = limits.Limit(10, 60).window(AT)
    assert window.index == int(AT.timestamp()) // 60
    assert window.ends_at == (window.index + 1) * 60
    assert window.retry_after == 30  # 29.75 s left: a client that waits that long gets through
    five_minutes = limits.Limit(10, 300).window(AT)
    assert five_minutes.retry_after == 270 and five_minutes.ends_at % 300 == 0
    edge = limits.Limit(1, 60).window(datetime(2031, 3, 14, 9, 31, tzinfo=timezone.utc))
    assert edge.retry_after == 60


@pytest.mark.parametrize("text,expected", [("120/60", limits.Limit(120, 60)), (" 5/300 ", limits.Limit(5, 300)),
                                           ("off", None), ("OFF", None), ("0", None)])
def test_limits_are_read_as_count_per_seconds_or_off(text, expected):
    assert limits.parse_limit(text, "LOYALTY_LIMIT_LOOKUP_PER_KEY") == expected


@pytest.mark.parametrize("text", ["120", "a/60", "10/0", "-1/60", "10/60/2", "1e3/60"])
def test_a_wrong_limit_names_its_variable(text):
    with pytest.raises(ValueError, match="LOYALTY_LIMIT_LOOKUP_PER_KEY"):
        limits.parse_limit(text, "LOYALTY_LIMIT_LOOKUP_PER_KEY")


def test_every_limit_has_a_default_and_a_variable():
    configured = limits.configured({"LOYALTY_LIMIT_SIGN_IN_PER_ADDRESS": "3/60", "LOYALTY_LIMIT_ADMIN_PER_ADDRESS": "off",
                                    "LOYALTY_LIMIT_LOOKUP_PER_KEY": ""})
    assert configured[(limits.SIGN_IN, limits.PER_ADDRESS)] == limits.Limit(3, 60)
    assert configured[(limits.ADMIN, limits.PER_ADDRESS)] is None
    assert configured[(limits.LOOKUP, limits.PER_KEY)] == limits.DEFAULTS[(limits.LOOKUP, limits.PER_KEY)]
    assert limits.variable_name(limits.CODE_CHECK, limits.PER_ADDRESS) == "LOYALTY_LIMIT_CODE_CHECK_PER_ADDRESS"


class _Counters:
    """In memory, the same contract as store.rate_counters: refuse once the window is full."""

    def __init__(self):
        self.hits: dict[tuple[str, int], int] = {}

    def take(self, name, window, limit, window_ends_at):
        if self.hits.get((name, window), 0) >= limit:
            return False
        self.hits[(name, window)] = self.hits.get((name, window), 0) + 1
        return True


def test_addresses_and_keys_are_counted_as_hashes_each_on_its_own(deps):
    counters = _Counters()
    configured = {(limits.LOOKUP, limits.PER_ADDRESS): limits.Limit(1, 60)}
    throttle.enforce(deps, limits.LOOKUP, limits.PER_ADDRESS, "203.0.113.9", now=AT, configured=configured,
                     counters=counters)
    throttle.enforce(deps, limits.LOOKUP, limits.PER_ADDRESS, "203.0.113.10", now=AT, configured=configured,
                     counters=counters)
    with pytest.raises(TooManyRequests) as refused:
        throttle.enforce(deps, limits.LOOKUP, limits.PER_ADDRESS, "203.0.113.9", now=AT, configured=configured,
                         counters=counters)
    assert refused.value.status == 429 and refused.value.headers == {"Retry-After": "30"}
    assert "from this address" in refused.value.message
    assert not any("203.0.113" in name for name, _ in counters.hits)
    # a limit that is off, or a request without an address, counts nothing
    throttle.enforce(deps, limits.LOOKUP, limits.PER_KEY, "k", now=AT, configured=configured, counters=counters)
    throttle.enforce(deps, limits.LOOKUP, limits.PER_ADDRESS, None, now=AT, configured=configured, counters=counters)
    assert len(counters.hits) == 2


@pytest.mark.parametrize("granter,role,allowed", [
    (roles.OPERATOR, roles.OWNER, True), (roles.OPERATOR, roles.MARKETER, True),
    (roles.OWNER, roles.OWNER, True), (roles.OWNER, roles.MARKETER, True),
    (roles.MARKETER, roles.MARKETER, False), (roles.MARKETER, roles.OWNER, False),
    (roles.OPERATOR, roles.OPERATOR, False),  # the operator is the admin token, never a key
])
def test_who_may_grant_which_role(granter, role, allowed):
    assert roles.may_grant(granter, role) is allowed


def test_a_stored_key_without_a_known_role_is_a_marketers():
    assert roles.key_role(None) == roles.key_role("operator") == roles.key_role("") == roles.MARKETER
    assert roles.key_role(roles.OWNER) == roles.OWNER
