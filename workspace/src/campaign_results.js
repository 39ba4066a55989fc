// A campaign's results page (GET …/campaigns/{id}/stats): the funnel, the A/B test's variants with
// the decision and its margin in plain words, and the holdout groups with the lift of each metric
// and its 95 % interval, or, when the sample is too small, why there is no number yet.
import { api, enc } from "./api.js";
import { h, clear, latestOnly, showLatest } from "./dom.js";
import { formatMoney, formatNumber } from "./numbers.js";

const percent = (rate) => (rate === null || rate === undefined ? "–" : `${formatNumber(Math.round(rate * 1000) / 10)} %`);
const points = (value) => `${value > 0 ? "+" : ""}${formatNumber(Math.round(value * 1000) / 10)}`;
const signed = (value, digits) => `${value > 0 ? "+" : ""}${formatNumber(Number(value.toFixed(digits)))}`;

// How each lift reads: the absolute difference in the metric's own unit, then relative.
const METRICS = [
  { key: "conversion_rate", label: "Conversion rate", absolute: (v) => `${points(v)} points` },
  { key: "revenue_per_recipient", label: "Revenue per recipient", absolute: (v, currency) => `${signed(v, 2)} ${currency}` },
  { key: "orders_per_recipient", label: "Orders per recipient", absolute: (v) => signed(v, 3) },
];

export function campaignResults({ shop, zone }) {
  const root = h("section", { class: "card campaign-results", id: "campaign-results", hidden: true });
  const latest = latestOnly();  // the campaign opened last: a slow answer for an earlier one is dropped

  async function show(campaignId) {
    const ticket = latest.take();
    root.hidden = false;
    root.dataset.campaign = campaignId;
    root.dataset.state = "loading";
    clear(root, h("p", { class: "hint" }, "Loading the results…"));
    const shown = await showLatest(latest, ticket, root,
                                   () => api("GET", `/admin/shops/${enc(shop)}/campaigns/${enc(campaignId)}/stats`),
                                   (stats) => render(stats, zone), "notice error");
    if (shown) root.dataset.state = "shown";
  }
  return { root, show };
}

function render(stats) {
  const close = h("button", { type: "button", class: "small", id: "close-results",
    onclick: (event) => { event.target.closest("section").hidden = true; } }, "close");
  return [
    h("div", { class: "row" }, h("h3", {}, `Results: ${stats.name}`), h("span", { class: `status ${stats.status}` }, stats.status), close),
    h("p", { id: "results-funnel" }, `${formatNumber(stats.sent)} sent · ${formatNumber(stats.delivered)} delivered · `
      + `${formatNumber(stats.unique_clicks)} clicked (${percent(stats.rates.click_rate)}) · ${formatNumber(stats.converters)} bought after a click `
      + `(${percent(stats.rates.conversion_rate)}) · ${formatNumber(stats.orders)} orders · ${formatMoney(stats.revenue, stats.currency)}`),
    deferrals(stats),
    stats.ab_test ? abTestResults(stats.ab_test, stats.currency) : null,
    stats.groups ? holdoutResults(stats) : null,
  ];
}

function deferrals(stats) {
  const waited = stats.deferred || stats.deferred_quiet_hours || stats.sent_after_deferral || stats.expired_in_queue;
  if (!waited) return null;
  return h("p", { id: "results-deferred" }, `The cap or quiet hours held ${formatNumber((stats.deferred || 0) + (stats.deferred_quiet_hours || 0))}: `
    + `${formatNumber(stats.sent_after_deferral || 0)} sent later, ${formatNumber(stats.expired_in_queue || 0)} expired while waiting.`);
}

function abTestResults(test, currency) {
  const measure = test.winner_by === "conversion_rate" ? "conversion rate" : "click rate";
  const winner = test.winner;
  const phase = { testing: `testing: the rest get the variant with the best ${measure} after ${test.wait_hours} h`,
    "sending the winner": "the winner is going to the rest", done: "done" }[test.phase] || test.phase;
  return h("div", { id: "results-ab" },
    h("h4", {}, `A/B test (${test.test_percent} % tested, by ${measure}): ${phase}`),
    h("table", { class: "list", id: "results-variants" },
      h("thead", {}, h("tr", {}, ["Variant", "Subject / words", "Sent", "Clicked", "Click rate", "Bought", "Conversion rate", "Revenue", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, test.variants.map((v, index) => h("tr", { "data-variant": v.name, class: winner && winner.variant === index ? "winner" : undefined },
        h("td", {}, v.name), h("td", {}, v.subject || v.title || v.preheader || v.description || "the campaign's own"),
        h("td", {}, formatNumber(v.sent)), h("td", {}, formatNumber(v.unique_clicks)), h("td", {}, percent(v.click_rate)),
        h("td", {}, formatNumber(v.converters)), h("td", {}, percent(v.conversion_rate)), h("td", {}, formatMoney(v.revenue, currency)),
        h("td", {}, winner && winner.variant === index ? "winner" : ""))))),
    h("p", { id: "results-decision", class: "decision" }, winner ? winner.explanation
      : `No decision yet: after the wait the variant with the best ${measure} is chosen and sent to the rest.`));
}

function holdoutResults(stats) {
  const { sent, holdout } = stats.groups;
  const groupRow = (label, g, id) => h("tr", { "data-group": id }, h("td", {}, label), h("td", {}, formatNumber(g.recipients)),
    h("td", {}, formatNumber(g.converters)), h("td", {}, percent(g.conversion_rate)), h("td", {}, formatNumber(g.orders)),
    h("td", {}, formatMoney(g.revenue, stats.currency)),
    h("td", {}, g.revenue_per_recipient === null ? "–" : formatMoney(g.revenue_per_recipient, stats.currency)));
  return h("div", { id: "results-holdout" },
    h("h4", {}, `Holdout ${stats.holdout_percent} %: what the e-mail changed (orders within ${stats.attribution_days} days, clicked or not)`),
    h("table", { class: "list", id: "results-groups" },
      h("thead", {}, h("tr", {}, ["Group", "Recipients", "Bought", "Conversion", "Orders", "Revenue", "Per recipient"].map((t) => h("th", {}, t)))),
      h("tbody", {}, groupRow("Sent the e-mail", sent, "sent"), groupRow("Held back", holdout, "holdout"))),
    h("ul", { id: "results-lift" }, METRICS.map((metric) => h("li", { "data-metric": metric.key }, liftSentence(metric, stats.lift[metric.key], stats.currency)))));
}

// One metric's lift in plain words: the estimate, the 95 % interval, and whether it is more than chance.
function liftSentence(metric, row, currency) {
  if (!row || row.estimate === null || row.estimate === undefined) {
    return `${metric.label}: no number yet, ${row && row.note ? row.note : "not enough data"}.`;
  }
  const rel = row.relative || {};
  const relative = rel.estimate === null || rel.estimate === undefined ? ""
    : `, ${points(rel.estimate)} % relative (${points(rel.low)} % to ${points(rel.high)} %)`;
  const verdict = row.low > 0 ? "The e-mail raised it: more than chance alone could give."
    : row.high < 0 ? "The e-mail lowered it: more than chance alone could give."
      : "The interval includes zero: the difference may be chance.";
  return `${metric.label}: ${metric.absolute(row.estimate, currency)} with the e-mail (95 % interval ${metric.absolute(row.low, currency)} `
    + `to ${metric.absolute(row.high, currency)})${relative}. ${verdict}`;
}
