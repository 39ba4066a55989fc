import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { api, enc } from "./api.js";
import { h, clear, errorText, latestOnly } from "./dom.js";
import { programEffectSection } from "./program_effect.js";
import { programHoldoutSection } from "./program_holdout.js";

const COLORS = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c"];
// Numbers and money as the marketer's browser writes them (1 234,50 €, $1,234.50).
const LOCALE = navigator.language || "en";
const num = (v) => (v === null || v === undefined || v === "" ? "–" : new Intl.NumberFormat(LOCALE).format(Number(v)));
const money = (v, currency) => (v === null || v === undefined || v === "" ? "–"
  : new Intl.NumberFormat(LOCALE, { style: "currency", currency }).format(Number(v)));
const compact = new Intl.NumberFormat(LOCALE, { notation: "compact", maximumFractionDigits: 1 });
// The charts' days (UTC calendar days, as the counters keep them) written the marketer's way: 14.03. / 14 бер.
const dayLabel = new Intl.DateTimeFormat(LOCALE, { day: "numeric", month: "short", timeZone: "UTC" });
const dayLong = new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeZone: "UTC" });
// The y axis as wide as its longest label: big revenue figures were cut off at a fixed 60 px.
const axisWidth = (u, values) => (values && values.length ? Math.max(...values.map((v) => String(v).length)) * 8 + 28 : 48);

function chart(title, days, series, id) {
  const host = h("div", { class: "chart card", id }, h("h3", {}, title));
  const x = days.map((d) => Date.parse(d.day + "T00:00:00Z") / 1000);
  const data = [x, ...series.map((s) => days.map((d) => Number(s.value(d))))];
  requestAnimationFrame(() => {
    const width = Math.max(280, host.clientWidth - 24);
    new uPlot({ width, height: 200, legend: { show: true }, scales: { x: { time: true } },
      series: [{ label: "day", value: (u, v) => (v === null || v === undefined ? "–" : dayLong.format(new Date(v * 1000))) },
        ...series.map((s, i) => ({ label: s.label, stroke: COLORS[i], width: 2, fill: s.fill ? COLORS[i] + "22" : undefined,
          value: (u, v) => num(v) }))],
      axes: [{ values: (u, splits) => splits.map((v) => dayLabel.format(new Date(v * 1000))) },
        { size: axisWidth, values: (u, splits) => splits.map((v) => compact.format(v)) }] }, data, host);
  });
  return host;
}

const pct = (v) => (v === null || v === undefined ? "–"
  : new Intl.NumberFormat(LOCALE, { style: "percent", maximumFractionDigits: 1 }).format(v));

export async function dashboardView(main, shop) {
  const range = h("select", { id: "dashboard-days" }, [30, 90, 365].map((d) => h("option", { value: d }, `last ${d} days`)));
  const body = h("div", { id: "dashboard" });
  const latest = latestOnly();
  async function load() {
    const ticket = latest.take();
    const d = await api("GET", `/admin/shops/${enc(shop)}/dashboard?days=${range.value}`);
    if (!latest.isLatest(ticket)) return;  // a later choice of days is loading: this answer is stale
    const p = d.period;
    const stat = (label, value, sub) => h("div", { class: "card stat" }, h("small", {}, label), h("strong", {}, value), h("span", {}, sub || ""));
    clear(body,
      h("div", { class: "cards" },
        stat("Customers", num(d.now.customers), `${num(d.now.members)} members (in a tier)`),
        stat("Points outstanding", num(d.now.points_outstanding), `liability ${money(d.now.outstanding_value, d.currency)}`),
        stat("Points issued", num(p.points_issued), `${num(p.points_redeemed)} redeemed · ${num(p.points_expired)} expired`),
        stat("Members: average order", money(p.member.average_order_value, d.currency), `repeat purchase ${pct(p.member.repeat_purchase_rate)} · ${num(p.member.orders)} orders`),
        stat("Non-members: average order", money(p.non_member.average_order_value, d.currency), `repeat purchase ${pct(p.non_member.repeat_purchase_rate)} · ${num(p.non_member.orders)} orders`)),
      h("div", { class: "charts" },
        chart("Customers, members, active buyers", d.days, [
          { label: "customers", value: (x) => x.customers }, { label: "members", value: (x) => x.members },
          { label: "active buyers (day)", value: (x) => x.active_customers }], "chart-members"),
        chart("Points issued, redeemed, expired", d.days, [
          { label: "issued", value: (x) => x.points_issued }, { label: "redeemed", value: (x) => x.points_redeemed },
          { label: "expired", value: (x) => x.points_expired }], "chart-points"),
        chart(`Outstanding points value (${d.currency})`, d.days, [{ label: "liability", value: (x) => x.outstanding_value, fill: true }], "chart-liability"),
        chart(`Revenue, members vs non-members (${d.currency})`, d.days, [
          { label: "members", value: (x) => x.revenue_member }, { label: "non-members", value: (x) => x.revenue_non_member }], "chart-revenue")),
      programEffectSection(d),
      programHoldoutSection(d),
      h("h3", {}, "Campaign funnels"),
      d.campaigns.length ? h("div", { class: "funnels", id: "funnels" }, d.campaigns.map((c) => {
        const top = Math.max(c.sent, 1);
        const bar = (label, n) => h("div", { class: "bar" }, h("span", { class: "label" }, label), h("span", { class: "fill", style: `width:${Math.round((n / top) * 100)}%` }), h("span", { class: "n" }, num(n)));
        return h("div", { class: "card funnel" }, h("h4", {}, `${c.name} · ${c.status}`), bar("sent", c.sent), bar("delivered", c.delivered), bar("clicked", c.unique_clicks), bar("ordered", c.orders),
          h("small", {}, `revenue ${money(c.revenue, d.currency)} · conversion ${pct(c.conversion_rate)} of sent`));
      })) : h("p", {}, "No campaigns yet."),
      h("ul", { class: "hint" }, d.notes.map((n) => h("li", {}, n))));
  }
  // A failed reload says so where the figures were (it was an uncaught error: the old figures stayed,
  // looking like the new period's).
  range.addEventListener("change", () => load().catch((error) => clear(body, h("div", { class: "notice error", id: "dashboard-error" }, errorText(error)))));
  clear(main, h("div", { class: "editor-head" }, h("h2", {}, "Dashboard"), range), body);
  await load();
}
