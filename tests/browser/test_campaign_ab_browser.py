"""A campaign with two subjects and a 10 % holdout, planned in the workspace and read back as results
(issue 18, items 2 and 6), in Chromium against ``chalice local``:

1. the planner: two variants, the test share, the winner metric and the wait, a 10 % holdout;
   "Check the plan" shows the variants with their expected shares, the holdout, the send window per
   time zone and what the cap defers. The first plan (holdout 5 %, no variants) answers late, after
   the marketer changed the form and asked again: the late answer must not replace the newer plan;
2. Send now; the test e-mails go out (the scheduler and the send queue's Lambda, run here), every
   recipient of subject B follows its link, nobody of subject A does; after the wait the sender
   decides the winner;
3. the campaign's results page: the variants with their click rates and the decision with its
   margin in plain words; the holdout groups, and instead of a lift the reason there is none yet
   (a demo shop is far below the 100 recipients a group needs). Results of another campaign,
   opened first and answering late, must not replace them.

Screenshots in ``out/screenshots/``; with ``UPDATE_DOCS_SCREENSHOTS=1`` also in
``docs/screenshots/workspace-campaign-ab-*.png`` (linked from docs/workspace.md).
"""
from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

from tests.support.browser import _call, _outbox, _shot, chromium_page, needs_chromium, sign_in

pytestmark = needs_chromium

SUBJECT_A = "Coffee weekend: 10 % off every bag"
SUBJECT_B = "Olena, your coffee weekend starts tomorrow"

# window.__slowOnce holds [fragment, until] pairs: the first answer whose URL contains ``fragment`` is
# handed to the page only after an answer to a later request whose URL contains ``until`` was (a
# newer answer overtaking an older one, as on a busy machine); html[data-slow-delivered] counts the
# late answers the page has been given.
SLOW_ONCE = """
window.__slowOnce = [];
const realFetch = window.fetch;
const arrived = [];
window.fetch = async (url, options) => {
  const index = window.__slowOnce.findIndex(([fragment]) => String(url).includes(fragment));
  const held = index >= 0 ? window.__slowOnce.splice(index, 1)[0] : null;
  const seen = arrived.length;  // answers to requests made after this one count, whenever they came
  const response = await realFetch(url, options);
  if (!held) {
    arrived.push(String(url));
    return response;
  }
  for (let waited = 0; waited < 30000 && !arrived.slice(seen).some((u) => u.includes(held[1])); waited += 50) {
    await new Promise((done) => setTimeout(done, 50));
  }
  await new Promise((done) => setTimeout(done, 300));  // the newer answer is on the page by now
  setTimeout(() => {  // after the page used the late answer
    const root = document.documentElement;
    root.dataset.slowDelivered = String(Number(root.dataset.slowDelivered || 0) + 1);
  });
  return response;
};
"""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _follow(link: str) -> int:
    """A recipient clicks: GET the tracked link (its redirect to the shop is not followed)."""
    try:
        with urllib.request.build_opener(_NoRedirect).open(link, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _run_sender(deps, now: datetime | None = None):
    """What the one-minute schedule and the send queue's Lambda do on AWS."""
    from chalice.test import Client

    from app import app
    from chalicelib.services.campaigns.campaigns import run_due_campaigns
    from tests.support.lambda_queue import drain

    report = run_due_campaigns(deps, now)
    with Client(app, stage_name="local") as client:
        outcomes = drain(client, os.environ["LOYALTY_SEND_QUEUE"])
    return report, outcomes


def test_marketer_plans_an_ab_test_with_a_holdout_and_reads_the_decision(api_server, shop, demo_shop, deps,
                                                                          chromium_browser):
    from playwright.sync_api import expect

    later = datetime.now(timezone.utc) + timedelta(days=20)
    other = _call(api_server, "POST", f"/admin/shops/{shop}/campaigns", {
        "name": "Autumn roast (planned)", "template": "special_day",
        "segment": {"rules": {"field": "marketing_consent", "op": "=", "value": True}}, "send_at": later.isoformat(),
        "data": {"title": {"uk": "Осіннє обсмаження"}, "starts_at": later.date().isoformat(),
                 "ends_at": (later + timedelta(days=1)).date().isoformat()}})
    with chromium_page(chromium_browser, 1600, 1000, timeout_ms=30_000) as opened:
        page, errors = opened.page, opened.errors
        page.on("dialog", lambda dialog: dialog.accept())
        page.add_init_script(SLOW_ONCE)
        sign_in(page, api_server, demo_shop, shop)

        # 1. plan: first a plan with a 5 % holdout and no test, answered late ...
        page.click("nav >> text=Campaigns")
        expect(page.locator("#segment-count")).to_contain_text("customers")
        page.fill("#campaign-name", "Coffee weekend")
        page.fill("#data-title-uk", "Кавові вихідні")
        page.fill("#data-starts_at", (datetime.now() + timedelta(days=1)).date().isoformat())
        page.fill("#data-ends_at", (datetime.now() + timedelta(days=3)).date().isoformat())
        page.fill("#campaign-holdout", "5")
        page.evaluate("window.__slowOnce.push(['/campaigns/preview', '/campaigns/preview'])")
        page.click("#check-plan")
        # ... while the marketer adds two subjects and a 10 % holdout and asks again
        page.click("#add-variant")
        expect(page.locator("#variant-list .variant")).to_have_count(2)
        expect(page.locator("#campaign-local-time")).to_be_disabled()  # a test goes out at one moment
        page.locator("#variant-list .variant[data-variant=A] .variant-subject").fill(SUBJECT_A)
        page.locator("#variant-list .variant[data-variant=B] .variant-subject").fill(SUBJECT_B)
        page.locator("#variant-list .variant[data-variant=B] .variant-preheader").fill("Three days, free delivery")
        page.fill("#ab-test-percent", "100")
        page.select_option("#ab-winner-by", "click_rate")
        page.fill("#ab-wait-hours", "2")
        page.fill("#campaign-holdout", "10")
        page.click("#check-plan")
        page.wait_for_selector("html[data-slow-delivered='1']", state="attached")
        plan = page.locator("#campaign-plan")
        expect(plan).to_have_attribute("data-state", "shown")
        expect(page.locator("#plan-holdout")).to_contain_text(re.compile(r"Holdout 10\s?%"))
        expect(page.locator("#plan-ab")).to_contain_text(re.compile(r"100\s?% of those sent get the variants first"))
        expect(page.locator("#plan-ab")).to_contain_text("after 2 h the variant with the best click rate")
        expect(page.locator("#plan-variants tr[data-variant=A]")).to_contain_text(SUBJECT_A)
        expect(page.locator("#plan-variants tr[data-variant=B]")).to_contain_text(SUBJECT_B)
        expect(page.locator("#plan-variants tr[data-variant=B]")).to_contain_text("Three days, free delivery")
        expect(page.locator("#plan-zones tr[data-zone='Europe/Kyiv']")).to_be_visible()
        expect(page.locator("#plan-cap")).to_contain_text("will defer 0")
        sendable = int(re.match(r"(\d+) of", page.locator("#plan-sendable").inner_text()).group(1))
        assert sendable >= 10
        _shot(page, "campaign-ab-plan", "workspace-campaign-ab-plan")

        # 2. send now; B's recipients click, A's do not; after the wait the sender decides
        page.click("#send-now")
        expect(page.locator("#campaign-message")).to_contain_text("goes out now")
        before = len(_outbox())
        report, outcomes = _run_sender(deps)
        assert set(outcomes) == {"ok"}, (report, outcomes)
        mails = _outbox()[before:]
        by_subject = {SUBJECT_A: [], SUBJECT_B: []}
        for mail in mails:  # the queue also held the demo orders' own e-mails
            by_subject.get(mail.subject, []).append(mail)
        assert by_subject[SUBJECT_A] and by_subject[SUBJECT_B], [m.subject for m in mails]
        for mail in by_subject[SUBJECT_B]:
            # the tracked link as the e-mail has it, followed on the server (its path: whatever host it names)
            path = re.search(r"""https?://[^/"'\s]+(/r/[^"'\s<>]+)""", mail.part("text/html")).group(1)
            assert _follow(api_server + path) in (301, 302, 303, 307)
        _run_sender(deps, datetime.now(timezone.utc) + timedelta(hours=3))

        # 3. the results page; the planned campaign's results, opened first, answer late
        page.reload()
        page.click("nav >> text=Campaigns")
        (coffee,) = [c for c in _call(api_server, "GET", f"/admin/shops/{shop}/campaigns")["campaigns"]
                     if c["name"] == "Coffee weekend"]
        page.evaluate(f"window.__slowOnce.push(['/campaigns/{other['campaign_id']}/stats', "
                      f"'/campaigns/{coffee['campaign_id']}/stats'])")
        page.locator("#campaign-list tr", has_text="Autumn roast").locator(".campaign-results-link").click()
        page.locator("#campaign-list tr", has_text="Coffee weekend").locator(".campaign-results-link").click()
        page.wait_for_selector("html[data-slow-delivered='1']", state="attached")
        results = page.locator("#campaign-results")
        expect(results).to_have_attribute("data-state", "shown")
        expect(results).to_contain_text("Results: Coffee weekend")
        b_sent, a_sent = len(by_subject[SUBJECT_B]), len(by_subject[SUBJECT_A])
        expect(page.locator("#results-variants tr[data-variant=B]")).to_contain_text("winner")
        expect(page.locator("#results-variants tr[data-variant=B]")).to_contain_text("100 %")
        expect(page.locator("#results-variants tr[data-variant=A]")).to_contain_text("0 %")
        expect(page.locator("#results-decision")).to_contain_text(
            f"Variant B had the best click rate: 100.0 % ({b_sent} of {b_sent}) against 0.0 % for variant A (0 of {a_sent})")
        expect(page.locator("#results-decision")).to_contain_text("points ahead (95 % interval")
        expect(page.locator("#results-groups tr[data-group=sent]")).to_contain_text(str(a_sent + b_sent))
        expect(page.locator("#results-lift li[data-metric=conversion_rate]")).to_contain_text(
            "no number yet, not enough data (sent:")
        expect(page.locator("#results-lift li[data-metric=conversion_rate]")).to_contain_text("of the 100 needed")
        _shot(page, "campaign-ab-results", "workspace-campaign-ab-results")
        assert not errors, errors
