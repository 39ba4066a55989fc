// The planner's forecast of a campaign before it is scheduled (POST …/campaigns/preview → plan):
// who can get it, the holdouts, the A/B shares, when each time zone gets it and what the quiet
// hours and the marketing cap will hold back.
import { api, enc } from "./api.js";
import { h, clear, latestOnly, showLatest } from "./dom.js";
import { formatNumber, formatTime } from "./numbers.js";

const n = formatNumber;

// ``zone``: the shop's time zone, in which the planner's times are read; ``markProblem`` shows a
// refusal naming a field at the planner's input (null: the plan was made, nothing is refused).
export function planPanel(shop, documentOf, zone, markProblem = () => {}) {
  const out = h("div", { class: "plan", id: "campaign-plan" });
  const latest = latestOnly();  // the plan of the form as it was at the last click, never an older one
  async function check() {
    const ticket = latest.take();
    let doc;
    try { doc = documentOf(); } catch (error) { clear(out, h("p", { class: "error" }, String(error.message || error))); return; }
    out.dataset.state = "checking";
    const ask = () => api("POST", `/admin/shops/${enc(shop)}/campaigns/preview`, doc)
      .catch((error) => { if (latest.isLatest(ticket)) markProblem(error); throw error; });
    const shown = await showLatest(latest, ticket, out, ask,
                                   ({ plan }) => { markProblem(null); return render(plan, zone); });
    if (shown) out.dataset.state = "shown";
  }
  const button = h("button", { type: "button", class: "small", id: "check-plan", onclick: check }, "Check the plan");
  return h("fieldset", {}, h("legend", {}, "Plan"), button, out);
}

const pct = (v) => new Intl.NumberFormat(navigator.language || "en", { style: "percent", maximumFractionDigits: 1 }).format(Number(v) / 100);

function render(plan, zone) {
  const shopTime = (iso) => (iso ? `${formatTime(iso, zone)}${zone ? ` (${zone})` : ""}` : "");
  const why = Object.entries(plan.not_sendable).map(([reason, count]) => `${n(count)} ${reason.replace(/_/g, " ")}`).join(", ");
  const lines = [
    ["plan-sendable", `${n(plan.sendable)} of ${n(plan.segment_members)} customers can get it${why ? ` (not: ${why})` : ""}.`],
    ["plan-program-holdout", plan.program_holdout.percent ? `${n(plan.program_holdout.customers)} are in the program holdout (${pct(plan.program_holdout.percent)}) and get no marketing mail.` : null],
    ["plan-holdout", plan.holdout.percent ? `Holdout ${pct(plan.holdout.percent)}: about ${n(plan.holdout.expected_recipients)} kept back to measure the lift; about ${n(plan.expected_to_send)} sent.` : `About ${n(plan.expected_to_send)} sent (no holdout).`],
    ["plan-cap", `The cap (${n(plan.cap.max_messages)} in ${n(plan.cap.per_days)} days) will defer ${n(plan.cap.will_defer)}.`],
    ["plan-quiet", plan.quiet_hours ? `Quiet hours ${plan.quiet_hours.start}–${plan.quiet_hours.end} on each customer's clock hold ${n(plan.quiet_hours.will_defer)} until their morning.` : "No quiet hours."],
  ].filter(([, text]) => text).map(([id, text]) => h("p", { id }, text));
  const ab = plan.ab_test ? abTest(plan.ab_test) : null;
  const zones = h("table", { class: "list", id: "plan-zones" },
    h("thead", {}, h("tr", {}, ["Time zone", "Recipients", "Their time", `Sent at (${zone || "UTC"})`, "Quiet hours", "Cap defers"].map((t) => h("th", {}, t)))),
    h("tbody", {}, plan.send_window.map((w) => h("tr", { "data-zone": w.zone },
      h("td", {}, w.zone), h("td", {}, n(w.recipients)), h("td", { class: w.late ? "late" : null }, `${formatTime(w.sends_at, w.zone)} (${w.utc_offset})`,
        w.late ? h("small", {}, " · the time had passed there: at once") : null),
      h("td", {}, formatTime(w.sends_at, zone)), h("td", {}, w.quiet_hours ? `waits until ${shopTime(w.deferred_to)}` : "–"),
      h("td", {}, n(w.cap_deferred))))));
  return h("div", {}, lines, ab, h("p", {}, h("strong", {}, "When each time zone gets it")), zones);
}

const WORDS = [["subject", "subject"], ["preheader", "preheader"], ["title", "heading"], ["description", "sentence"]];

function abTest(test) {
  const measure = test.winner_by === "conversion_rate" ? "conversion rate" : "click rate";
  return h("div", { id: "plan-ab" },
    h("p", {}, `A/B test: ${pct(test.test_percent)} of those sent get the variants first, split evenly; after ${n(test.wait_hours)} h `
      + (test.rest_expected_recipients ? `the variant with the best ${measure} goes to the other ${n(test.rest_expected_recipients)}.`
        : `the variant with the best ${measure} is chosen (everyone is in the test, so nobody is left to send it to).`)),
    h("table", { class: "list", id: "plan-variants" },
      h("thead", {}, h("tr", {}, ["Variant", "Its own words", "Recipients in the test"].map((t) => h("th", {}, t)))),
      h("tbody", {}, test.variants.map((v) => h("tr", { "data-variant": String.fromCharCode(65 + v.variant) },
        h("td", {}, String.fromCharCode(65 + v.variant)),
        h("td", {}, WORDS.filter(([key]) => v[key]).map(([key, label]) => h("div", {}, `${label}: `, h("q", {}, v[key])))),
        h("td", {}, `about ${n(v.expected_recipients)}`))))));
}
