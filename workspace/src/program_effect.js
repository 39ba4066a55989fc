// The program's effect on the dashboard: redemption rate, ROI against the rewards' cost, the
// liability by the month points expire, revenue owed to flows and campaigns. Numbers, money and
// months in the marketer's locale (numbers.js); each figure's definition is the server's.
import { h } from "./dom.js";
import { formatMoney, formatNumber } from "./numbers.js";

const LOCALE = (typeof navigator !== "undefined" && navigator.language) || "en";
const pct = (v) => (v === null || v === undefined ? "–"
  : new Intl.NumberFormat(LOCALE, { style: "percent", maximumFractionDigits: 1 }).format(v));
const ratio = (v) => (v === null || v === undefined ? "–"
  : new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 2 }).format(v) + "×");
const monthName = (ym) => new Intl.DateTimeFormat(LOCALE, { year: "numeric", month: "short", timeZone: "UTC" })
  .format(new Date(`${ym}-01T00:00:00Z`));

function table(id, head, rows) {
  return h("table", { class: "list", id }, h("thead", {}, h("tr", {}, head.map((c) => h("th", {}, c)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))));
}

// One row per first-order month: members' and non-members' share ordering again 1, 2, … months later.
function retentionTable(retention) {
  const rows = retention.cohorts;
  if (!rows.length) return h("p", {}, "No customer's whole order history is in the last 12 months yet.");
  const span = Math.max(...rows.map((r) => r.members.ordered_again.length));
  const later = Array.from({ length: span }, (_, i) => `+${i + 1} mo`);
  const side = (row, name, label) => [`${monthName(row.cohort)} · ${label}`, formatNumber(row[name].customers),
    ...later.map((_, i) => (i < row[name].ordered_again.length ? pct(row[name].ordered_again[i]) : ""))];
  return h("div", {},
    table("cohort-retention", ["first order", "customers", ...later],
      rows.flatMap((r) => [side(r, "members", "members"), side(r, "non_members", "non-members")])),
    h("small", { class: "hint" }, `${formatNumber(retention.customers_counted)} of ${formatNumber(retention.customers_read)} customers read have their whole history in the last 12 months`
      + (retention.complete ? "" : " (stopped reading: the shop has more)")));
}

export function programEffectSection(d) {
  const money = (v) => formatMoney(v, d.currency);
  const rate = d.redemption_rate, roi = d.roi, owed = d.attributed_revenue, liability = d.liability_by_expiry_month;
  const stat = (label, value, sub, title) => h("div", { class: "card stat", title: title || "" },
    h("small", {}, label), h("strong", {}, value), h("span", {}, sub || ""));
  const attributedRows = [
    ...owed.flows.map((f) => [`flow · ${f.template}`, formatNumber(f.orders), money(f.revenue)]),
    ...owed.campaigns.map((c) => [`campaign · ${c.name}`, formatNumber(c.orders), money(c.revenue)])];
  return h("section", { id: "program-effect" },
    h("h3", {}, "The program's effect"),
    h("div", { class: "cards" },
      stat("Redemption rate", pct(rate.rate),
        `${formatNumber(rate.points_redeemed)} redeemed of ${formatNumber(rate.points_earned)} earned`,
        d.definitions.redemption_rate),
      stat("Program ROI", ratio(roi.roi),
        `members' revenue ${money(roi.member_revenue)} · reward cost ${money(roi.reward_cost)}`, d.definitions.roi),
      stat("Reward cost", money(roi.reward_cost),
        `points ${money(roi.redeemed_value)} · cashback ${money(roi.cashback_cost)} · codes' discounts ${money(roi.codes_discount)}`,
        d.definitions.reward_cost),
      stat("Liability", money(liability.value), `${formatNumber(liability.points)} points in customers' lots`,
        d.definitions.liability_by_expiry_month)),
    h("h4", {}, "Liability by expiry month"),
    liability.months.length
      ? table("liability-months", ["expires in", "points", "value"],
        liability.months.map((m) => [monthName(m.month), formatNumber(m.points), money(m.value)]))
      : h("p", {}, "No points outstanding."),
    h("small", { class: "hint" }, `read ${formatNumber(liability.customers_read)} customers`
      + (liability.complete ? "" : " (stopped there: the shop has more)")),
    h("h4", {}, "Customers ordering again, by first-order month"),
    retentionTable(d.cohort_retention),
    h("h4", {}, "Revenue attributed to e-mails"),
    attributedRows.length ? table("attributed-revenue", ["e-mail", "orders", "revenue"], attributedRows)
      : h("p", {}, "No orders attributed to e-mails yet."),
    h("details", {}, h("summary", {}, "How these figures are counted"),
      h("dl", {}, Object.entries(d.definitions).flatMap(([k, v]) => [h("dt", {}, k.replaceAll("_", " ")), h("dd", {}, v)]))));
}
