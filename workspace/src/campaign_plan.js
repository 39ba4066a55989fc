// The planner's forecast of a campaign before it is scheduled (POST …/campaigns/preview → plan):
// who can get it, the holdouts, the A/B shares, when each time zone gets it and what the quiet
// hours and the marketing cap will hold back.
import { api, enc } from "./api.js";
import { h, clear, errorText } from "./dom.js";
import { formatNumber, formatTime } from "./numbers.js";

const n = formatNumber;

// ``zone``: the shop's time zone, in which the planner's times are read.
export function planPanel(shop, documentOf, zone) {
  const out = h("div", { class: "plan", id: "campaign-plan" });
  async function check() {
    let doc;
    try { doc = documentOf(); } catch (error) { clear(out, h("p", { class: "error" }, String(error.message || error))); return; }
    try {
      const { plan } = await api("POST", `/admin/shops/${enc(shop)}/campaigns/preview`, doc);
      clear(out, render(plan, zone));
    } catch (error) { clear(out, h("p", { class: "error" }, errorText(error))); }
  }
  const button = h("button", { type: "button", class: "small", id: "check-plan", onclick: check }, "Check the plan");
  return h("fieldset", {}, h("legend", {}, "Plan"), button, out);
}

const pct = (v) => new Intl.NumberFormat(navigator.language || "en", { style: "percent", maximumFractionDigits: 1 }).format(Number(v) / 100);

function render(plan, zone) {
  const shopTime = (iso) => (iso ? `${formatTime(iso, zone)}${zone ? ` (${zone})` : ""}` : "");
  const why = Object.entries(plan.not_sendable).map(([reason, count]) => `${n(count)} ${reason.replace(/_/g, " ")}`).join(", ");
  const lines = [
    `${n(plan.sendable)} of ${n(plan.segment_members)} customers can get it${why ? ` (not: ${why})` : ""}.`,
    plan.program_holdout.percent ? `${n(plan.program_holdout.customers)} are in the program holdout (${pct(plan.program_holdout.percent)}) and get no marketing mail.` : null,
    plan.holdout.percent ? `Holdout ${pct(plan.holdout.percent)}: about ${n(plan.holdout.expected_recipients)} kept back to measure the lift; about ${n(plan.expected_to_send)} sent.` : `About ${n(plan.expected_to_send)} sent (no holdout).`,
    `The cap (${n(plan.cap.max_messages)} in ${n(plan.cap.per_days)} days) will defer ${n(plan.cap.will_defer)}.`,
    plan.quiet_hours ? `Quiet hours ${plan.quiet_hours.start}–${plan.quiet_hours.end} on each customer's clock hold ${n(plan.quiet_hours.will_defer)} until their morning.` : "No quiet hours.",
  ].filter(Boolean).map((text) => h("p", {}, text));
  const ab = plan.ab_test ? h("div", { id: "plan-ab" }, h("p", {}, plan.ab_test.note),
    h("ul", {}, plan.ab_test.variants.map((v) => h("li", {}, `Variant ${String.fromCharCode(65 + v.variant)}: ${v.subject || v.title || v.preheader || ""} (about ${n(v.expected_recipients)})`)))) : null;
  const zones = h("table", { class: "list", id: "plan-zones" },
    h("thead", {}, h("tr", {}, ["Time zone", "Recipients", "Their time", `Sent at (${zone || "UTC"})`, "Quiet hours", "Cap defers"].map((t) => h("th", {}, t)))),
    h("tbody", {}, plan.send_window.map((w) => h("tr", { "data-zone": w.zone },
      h("td", {}, w.zone), h("td", {}, n(w.recipients)), h("td", {}, `${formatTime(w.sends_at, w.zone)} (${w.utc_offset})`),
      h("td", {}, formatTime(w.sends_at, zone)), h("td", {}, w.quiet_hours ? `waits until ${shopTime(w.deferred_to)}` : "–"),
      h("td", {}, n(w.cap_deferred))))));
  return h("div", {}, lines, ab, zones);
}
