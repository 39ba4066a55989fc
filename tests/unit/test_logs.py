"""Log lines are JSON objects carrying the keys of the work they belong to."""
from __future__ import annotations

import logging
import threading

import pytest

from chalicelib.logs import current_keys, log_context
from tests.support.logs import json_log_lines

log = logging.getLogger("loyalty.test")


def test_lines_carry_the_keys_of_every_context_they_are_logged_in():
    with json_log_lines() as lines:
        with log_context(shop="shop-a", correlation_id="req-1"):
            with log_context(template="post_purchase", campaign=None, message_key="post_purchase:o-1"):
                log.warning("sent to %s", "olena@example.com")
            log.info("back in the request")
        log.info("outside")
    inner, outer, outside = lines
    assert inner["message"] == "sent to olena@example.com" and inner["level"] == "WARNING"
    assert {key: inner.get(key) for key in ("shop", "template", "message_key", "correlation_id", "campaign")} == {
        "shop": "shop-a", "template": "post_purchase", "message_key": "post_purchase:o-1",
        "correlation_id": "req-1", "campaign": None}
    assert "template" not in outer and outer["shop"] == "shop-a"
    assert not {"shop", "correlation_id"} & set(outside) and outside["service"] == "loyalty"


def test_an_unknown_key_is_refused():
    with pytest.raises(ValueError, match="customer_email"):
        with log_context(customer_email="olena@example.com"):
            pass


def test_each_thread_keeps_its_own_keys():
    seen = {}
    started = threading.Barrier(2)

    def work(shop):
        with log_context(shop=shop):
            started.wait()
            seen[shop] = current_keys()["shop"]

    threads = [threading.Thread(target=work, args=(shop,)) for shop in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"a": "a", "b": "b"} and current_keys() == {}
