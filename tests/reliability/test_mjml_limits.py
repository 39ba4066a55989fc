"""No request can crash the process: MJML that kills the MJML compiler never reaches it.

mjml-python (MRML) dies with SIGSEGV on MJML nested about 2,000 deep or on 10,000 unclosed
``<div>`` in an ``mj-raw``: the first test shows it, in a subprocess. The service checks
depth and element count first and answers 400 naming the limit, through the workspace's
preview, save and test send; a hypothesis test sends deep, wide and unbalanced MJML through
the preview (only 200 or 400, never a 5xx), and the same shapes go to ``chalice local`` in a
process of its own, which must answer each and stay up (a crash is a dropped connection).
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.support.shops import confirm_test_recipient
from tests.support.chalice_local import chalice_local
from tests.support.workspace import ADMIN, workspace_headers

KILLERS = {
    # name → (MJML body of the e-mail, what the 400 says)
    "sections nested 3000 deep": ("<mj-wrapper>" * 3000 + "</mj-wrapper>" * 3000,
                                  "MJML nested 3000 levels deep, the limit is 100"),
    "30000 unclosed div in mj-raw": ("<mj-raw>" + "<div>" * 30_000 + "</mj-raw>",
                                     "MJML nested 30001 levels deep, the limit is 100"),
}
_RAW_COMPILE = """
import sys
from mjml import mjml2html
mjml2html("<mjml><mj-body>" + sys.stdin.read() + "</mj-body></mjml>", disable_comments=True, fonts={})
"""


@pytest.mark.parametrize("name", KILLERS)
def test_the_mjml_compiler_itself_dies_on_these(name):
    """Why the guard exists: the compiler called directly is killed by a signal."""
    done = subprocess.run([sys.executable, "-c", _RAW_COMPILE], input=KILLERS[name][0], text=True,
                          capture_output=True, timeout=120)
    assert done.returncode == -signal.SIGSEGV, (done.returncode, done.stderr[-500:])


@pytest.mark.parametrize("name", KILLERS)
def test_preview_save_and_test_send_answer_400_naming_the_limit(client, shopify_shop, moto_endpoint, name):
    body, words = KILLERS[name]
    confirm_test_recipient(client, shopify_shop.shop_id, "qa@agency.example", moto_endpoint)
    headers = workspace_headers(client, shopify_shop.shop_id)
    url = f"/admin/shops/{shopify_shop.shop_id}/templates/post_purchase"
    for method, path, extra in (("post", "/preview", {}), ("put", "", {"version": 0}),
                                ("post", "/test-send", {"to": "qa@agency.example"})):
        response = getattr(client.http, method)(url + path, headers=headers,
                                                body=json.dumps({"mjml": body, **extra}).encode())
        error = json.loads(response.body)
        assert response.status_code == 400 and error["field"] == "mjml", (path, error)
        assert words in error["message"], error["message"]


_CONTAINERS = st.sampled_from(["mj-section", "mj-wrapper", "mj-column", "mj-group", "mj-hero", "mj-text",
                               "mj-raw", "div", "table", "span"])
_RAW_PIECES = st.sampled_from(["<div>", "</div>", "<span>", "<table><tr><td>", "</td></tr></table>", "<br>", "<p>",
                               "</p>", "text", "<!--", "-->", "{{ 1 }}", "{%", "<", "&amp;", "<img src='x'>"])


@st.composite
def hostile_mjml(draw) -> str:
    """Deep, wide or unbalanced MJML (and mj-raw content), up to where MRML crashes and past it."""
    shape = draw(st.sampled_from(["deep", "wide", "unbalanced", "raw"]))
    if shape == "deep":
        tag, depth = draw(_CONTAINERS), draw(st.integers(1, 4000))
        closed = draw(st.sampled_from([depth, 0, depth // 2]))
        return f"<{tag}>" * depth + f"</{tag}>" * closed
    if shape == "wide":
        unit = draw(st.sampled_from(["<mj-section><mj-column><mj-text>x</mj-text></mj-column></mj-section>",
                                     "<mj-raw><br></mj-raw>", "<mj-spacer/>"]))
        return unit * draw(st.integers(1, 4000))
    if shape == "unbalanced":
        opened, closed = draw(st.integers(0, 50)), draw(st.integers(0, 50))
        return "<mj-section><mj-column>" + "<mj-text>" * opened + "x" + "</mj-text>" * closed
    pieces = draw(st.lists(st.tuples(_RAW_PIECES, st.integers(1, 30_000)), min_size=1, max_size=4))
    return "<mj-raw>" + "".join(piece * count for piece, count in pieces)[:190_000] + "</mj-raw>"


@pytest.fixture
def api_process(shopify_shop, moto_endpoint):
    with chalice_local(moto_endpoint) as server:
        yield server


_EXAMPLES = [example(mjml=body) for body, _ in KILLERS.values()]


def _with_killers(test):
    for add in _EXAMPLES:
        test = add(test)
    return test


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mjml=hostile_mjml())
@_with_killers
def test_hostile_mjml_through_the_preview_gets_200_or_400(client, shopify_shop, mjml):
    response = client.http.post(f"/admin/shops/{shopify_shop.shop_id}/templates/post_purchase/preview",
                                headers=ADMIN, body=json.dumps({"mjml": mjml, "locale": "en"}).encode())
    body = json.loads(response.body)
    assert response.status_code in (200, 400), (response.status_code, body)
    if response.status_code == 400:
        assert body["field"] == "mjml" and body["message"], body


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mjml=hostile_mjml())
@_with_killers
def test_the_api_process_answers_hostile_mjml_and_stays_up(api_process, shopify_shop, mjml):
    """``chalice local`` in its own process: a crash would drop the connection and end it."""
    base, process = api_process.base_url, api_process.process
    request = urllib.request.Request(f"{base}/admin/shops/{shopify_shop.shop_id}/templates/post_purchase/preview",
                                     method="POST", data=json.dumps({"mjml": mjml, "locale": "en"}).encode(),
                                     headers=ADMIN)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    assert status in (200, 400), status
    assert process.poll() is None, f"the API process died (exit code {process.poll()})"
