"""The secret ring: which secrets verify a delivery at a given time, over saves and rotations."""
from __future__ import annotations

from datetime import timedelta

from hypothesis import given, strategies as st

from chalicelib.domain.shops.webhook_secrets import MAX_PREVIOUS, PreviousSecret, SecretRing
from tests.support.clock import T0

WEEK = timedelta(days=7)
secrets = st.sampled_from([f"secret-{n:02d}-0123456789" for n in range(6)])


def test_saving_the_same_or_no_secret_keeps_the_previous_one():
    ring = SecretRing("a").saved("b", T0, WEEK)
    assert ring.saved("b", T0 + timedelta(hours=1), WEEK) == ring
    assert ring.saved(None, T0 + timedelta(hours=1), WEEK) == ring
    assert ring.accepted(T0 + WEEK - timedelta(microseconds=1)) == ("b", "a")
    assert ring.accepted(T0 + WEEK) == ("b",)


def test_retired_and_lapsed_secrets_are_dropped_on_save():
    ring = SecretRing("a").saved("b", T0, WEEK)
    assert ring.retired().accepted(T0) == ("b",)
    assert ring.saved("b", T0 + WEEK, WEEK).previous == ()


def test_a_legacy_previous_secret_gets_a_retire_time_at_the_next_save():
    ring = SecretRing("b", (PreviousSecret("a", None),))
    assert ring.accepted(T0 + timedelta(days=1000)) == ("b", "a")
    assert ring.saved(None, T0, WEEK).previous == (PreviousSecret("a", T0 + WEEK),)


@given(st.lists(st.tuples(st.one_of(st.none(), secrets), st.integers(1, 10 * 24)), max_size=12))
def test_any_sequence_of_saves(saves):
    """The current secret always verifies; a replaced one verifies exactly until its grace
    period (counted from when it was replaced) ends, unless more than MAX_PREVIOUS newer
    ones pushed it out; nothing is ever accepted twice."""
    ring, moment, replaced_at = SecretRing("first-secret-0123456789"), T0, {}
    for secret, hours in saves:
        moment += timedelta(hours=hours)
        before = ring.current
        ring = ring.saved(secret, moment, WEEK)
        if secret and secret != before:
            replaced_at[before] = moment
        replaced_at.pop(ring.current, None)
        accepted = ring.accepted(moment)
        assert accepted[0] == ring.current and len(set(accepted)) == len(accepted)
        assert len(ring.previous) <= MAX_PREVIOUS
        for old in accepted[1:]:
            assert replaced_at[old] + WEEK > moment
        live = sorted((at, s) for s, at in replaced_at.items() if at + WEEK > moment)
        assert {s for _, s in live[-MAX_PREVIOUS:]} <= set(accepted)
