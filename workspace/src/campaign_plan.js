// The planner's forecast of a campaign before it is scheduled (POST …/campaigns/preview → plan):
// who can get it, the holdouts, the A/B shares, when each time zone gets it and what the quiet
// hours and the marketing cap will hold back.
import { api, enc } from "./api.js";
import { h, clear, errorText } from "./dom.js";

const utc = (iso) => (iso ? iso.replace("T", " ").slice(0, 16) + " UTC" : "");

export function planPanel(shop, documentOf) {
  const out = h("div", { class: "plan", id: "campaign-plan" });
  async function check() {
    let doc;
    try { doc = documentOf(); } catch (error) { clear(out, h("p", { class: "error" }, String(error.message || error))); return; }
    try {
      const { plan } = await api("POST", `/admin/shops/${enc(shop)}/campaigns/preview`, doc);
      clear(out, render(plan));
    } catch (error) { clear(out, h("p", { class: "error" }, errorText(error))); }
  }
  const button = h("button", { type: "button", class: "small", id: "check-plan", onclick: check }, "Check the plan");
  return h("fieldset", {}, h("legend", {}, "Plan"), button, out);
}

function render(plan) {
  const why = Object.entries(plan.not_sendable).map(([reason, n]) => `${n} ${reason.replace("_", " ")}`).join(", ");
  const lines = [
    `${plan.sendable} of ${plan.segment_members} customers can get it${why ? ` (not: ${why})` : ""}.`,
    plan.program_holdout.percent ? `${plan.program_holdout.customers} are in the program holdout (${plan.program_holdout.percent} %) and get no marketing mail.` : null,
    plan.holdout.percent ? `Holdout ${plan.holdout.percent} %: about ${plan.holdout.expected_recipients} kept back to measure the lift; about ${plan.expected_to_send} sent.` : `About ${plan.expected_to_send} sent (no holdout).`,
    `The cap (${plan.cap.max_messages} in ${plan.cap.per_days} days) will defer ${plan.cap.will_defer}.`,
    plan.quiet_hours ? `Quiet hours ${plan.quiet_hours.start}–${plan.quiet_hours.end} on each customer's clock hold ${plan.quiet_hours.will_defer} until their morning.` : "No quiet hours.",
  ].filter(Boolean).map((text) => h("p", {}, text));
  const ab = plan.ab_test ? h("div", { id: "plan-ab" }, h("p", {}, plan.ab_test.note),
    h("ul", {}, plan.ab_test.variants.map((v) => h("li", {}, `Variant ${String.fromCharCode(65 + v.variant)}: ${v.subject || v.title || v.preheader || ""} (about ${v.expected_recipients})`)))) : null;
  const zones = h("table", { class: "list", id: "plan-zones" },
    h("thead", {}, h("tr", {}, ["Time zone", "Recipients", "Their time", "Sent at", "Quiet hours", "Cap defers"].map((t) => h("th", {}, t)))),
    h("tbody", {}, plan.send_window.map((w) => h("tr", { "data-zone": w.zone },
      h("td", {}, w.zone), h("td", {}, String(w.recipients)), h("td", {}, `${w.local_time.replace("T", " ")} (${w.utc_offset})`),
      h("td", {}, utc(w.sends_at)), h("td", {}, w.quiet_hours ? `waits until ${utc(w.deferred_to)}` : "–"),
      h("td", {}, String(w.cap_deferred))))));
  return h("div", {}, lines, ab, zones);
}
