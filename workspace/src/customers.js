import { api, enc } from "./api.js";
import { h, clear, errorText, field, notice } from "./dom.js";

export async function customersView(main, shop, initial) {
  const email = h("input", { type: "email", id: "customer-email", value: initial, placeholder: "customer@example.com" });
  const out = h("div", { id: "customer" });
  const base = () => `/admin/shops/${enc(shop)}/customers/${enc(email.value.trim())}`;

  async function look(event) {
    event?.preventDefault();
    if (!email.value.trim()) return;
    try {
      const [c, history] = await Promise.all([api("GET", base()), api("GET", `${base()}/history?limit=50`)]);
      const points = h("input", { type: "number", id: "adjust-points" });
      const reason = h("input", { id: "adjust-reason", placeholder: "why (shown in the history)" });
      const message = h("div", { id: "adjust-message" });
      const adjust = async (e) => {
        e.preventDefault();
        try {
          await api("POST", `${base()}/adjustments`, { points: Number(points.value), reason: reason.value, request_id: crypto.randomUUID() });
          await look();
        } catch (error) { notice(message, errorText(error), "error"); }
      };
      clear(out,
        h("div", { class: "cards" },
          h("div", { class: "card stat" }, h("small", {}, "Balance"), h("strong", { id: "customer-balance" }, `${c.points_balance} points`), h("span", {}, `worth ${c.points_value} ${c.currency}`)),
          h("div", { class: "card stat" }, h("small", {}, "Tier"), h("strong", {}, c.tier || "no tier"), h("span", {}, c.next_tier ? `${c.spend_to_next_tier} to ${c.next_tier}` : "")),
          h("div", { class: "card stat" }, h("small", {}, "Cashback"), h("strong", {}, c.cashback_balance), h("span", {}, `${c.orders_count} orders, ${c.lifetime_spend} spent`))),
        h("h3", {}, "Point lots"), c.expiring.length ? h("ul", {}, c.expiring.map((l) => h("li", {}, `${l.points} points until ${l.expires_at.slice(0, 10)}`))) : h("p", {}, "None."),
        h("form", { class: "card row", id: "adjust-form", onsubmit: adjust }, field("Adjust points (+/−)", points), field("Reason", reason), h("button", { class: "primary", type: "submit" }, "Adjust"), message),
        h("h3", {}, "History"),
        h("table", { class: "list", id: "customer-history" }, h("thead", {}, h("tr", {}, ["When", "What", "Points", "Cashback", "Details"].map((t) => h("th", {}, t)))),
          h("tbody", {}, history.entries.map((e) => h("tr", {}, h("td", {}, e.created_at.replace("T", " ").slice(0, 16)), h("td", {}, e.kind), h("td", { class: "num" }, e.points),
            h("td", { class: "num" }, e.cashback), h("td", {}, e.detail?.reason ? `${e.detail.reason} (by ${e.detail.by || "?"})` : e.detail?.order_name || e.cause))))),
        h("p", { class: "hint" }, "E-mails sent to a customer are not listed here yet: the send log is kept per message, not per customer."));
    } catch (error) { notice(out, errorText(error), "error"); }
  }
  clear(main, h("h2", {}, "Customer lookup"), h("form", { class: "row", onsubmit: look }, field("E-mail", email), h("button", { type: "submit", id: "look-up" }, "Look up")), out);
  if (initial) await look();
}
