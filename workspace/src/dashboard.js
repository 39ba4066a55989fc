import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { api, enc } from "./api.js";
import { h, clear } from "./dom.js";

const COLORS = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c"];

function chart(title, days, series, id) {
  const host = h("div", { class: "chart card", id }, h("h3", {}, title));
  const x = days.map((d) => Date.parse(d.day + "T00:00:00Z") / 1000);
  const data = [x, ...series.map((s) => days.map((d) => Number(s.value(d))))];
  requestAnimationFrame(() => {
    const width = Math.max(280, host.clientWidth - 24);
    new uPlot({ width, height: 200, legend: { show: true }, scales: { x: { time: true } },
      series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: COLORS[i], width: 2, fill: s.fill ? COLORS[i] + "22" : undefined }))],
      axes: [{}, { size: 60 }] }, data, host);
  });
  return host;
}

const pct = (v) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)} %`);

export async function dashboardView(main, shop) {
  const range = h("select", { id: "dashboard-days" }, [30, 90, 365].map((d) => h("option", { value: d }, `last ${d} days`)));
  const body = h("div", { id: "dashboard" });
  async function load() {
    const d = await api("GET", `/admin/shops/${enc(shop)}/dashboard?days=${range.value}`);
    const p = d.period;
    const stat = (label, value, sub) => h("div", { class: "card stat" }, h("small", {}, label), h("strong", {}, value), h("span", {}, sub || ""));
    clear(body,
      h("div", { class: "cards" },
        stat("Customers", d.now.customers, `${d.now.members} members (in a tier)`),
        stat("Points outstanding", d.now.points_outstanding, `liability ${d.now.outstanding_value} ${d.currency}`),
        stat("Points issued", p.points_issued, `${p.points_redeemed} redeemed · ${p.points_expired} expired`),
        stat("Members: average order", p.member.average_order_value ?? "–", `repeat purchase ${pct(p.member.repeat_purchase_rate)} · ${p.member.orders} orders`),
        stat("Non-members: average order", p.non_member.average_order_value ?? "–", `repeat purchase ${pct(p.non_member.repeat_purchase_rate)} · ${p.non_member.orders} orders`)),
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
      h("h3", {}, "Campaign funnels"),
      d.campaigns.length ? h("div", { class: "funnels", id: "funnels" }, d.campaigns.map((c) => {
        const top = Math.max(c.sent, 1);
        const bar = (label, n) => h("div", { class: "bar" }, h("span", { class: "label" }, label), h("span", { class: "fill", style: `width:${Math.round((n / top) * 100)}%` }), h("span", { class: "n" }, n));
        return h("div", { class: "card funnel" }, h("h4", {}, `${c.name} · ${c.status}`), bar("sent", c.sent), bar("delivered", c.delivered), bar("clicked", c.unique_clicks), bar("ordered", c.orders),
          h("small", {}, `revenue ${c.revenue} ${d.currency}`));
      })) : h("p", {}, "No campaigns yet."),
      h("ul", { class: "hint" }, d.notes.map((n) => h("li", {}, n))));
  }
  range.addEventListener("change", load);
  clear(main, h("div", { class: "editor-head" }, h("h2", {}, "Dashboard"), range), body);
  await load();
}
