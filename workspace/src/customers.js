// Each customer's story: found by the start of their e-mail or name; balance, tier, referral and
// achievements; one timeline of orders, points, codes, e-mails (status, opens, clicks),
// unsubscribes and adjustments. An adjustment is sent once however often Adjust is pressed.
import { api, enc } from "./api.js";
import { h, clear, debounceLatest, errorText, field, notice } from "./dom.js";
import { formatMoney, formatNumber, formatTime } from "./numbers.js";

const EVENT_LABELS = { order: "Order", points: "Points", code: "Code", adjustment: "Adjustment", email: "E-mail", unsubscribe: "Unsubscribed", resubscribe: "Subscribed again", tier: "Tier" };
// The ledger's kinds in words (an unknown kind: its name with spaces).
const KIND_LABELS = { earn: "paid order", reverse: "refund or cancellation", cashback: "credited to the wallet", redeem: "points turned into a code",
  release: "unused code's points given back", expire: "points expired", adjust: "adjusted by hand", bonus: "bonus",
  code_discount: "free order with a code", erase: "data erased", withdrawal_paid: "cashback paid out",
  withdrawal_returned: "cashback withdrawal returned", membership_end: "membership ended" };

function describe(event, currency) {
  if (event.type === "email") {
    const engagement = event.status === "skipped" || event.status === "failed" ? (event.reason || "").replace(/_/g, " ")
      : `${formatNumber(event.opens)} opens · ${formatNumber(event.clicks)} clicks`;
    return `${event.template.replace(/_/g, " ")} · ${event.status} · ${engagement}`;
  }
  if (event.type === "unsubscribe") return `from ${event.source || "a link"}`;
  if (event.type === "resubscribe") return "";
  if (event.type === "tier") return `${event.tier_from || "no tier"} → ${event.tier_to || "no tier"}`;
  const parts = [KIND_LABELS[event.kind] || String(event.kind || "").replace(/_/g, " ")];
  if (event.order) parts.push(event.order);
  if (event.code) parts.push(event.code);
  if (Number(event.spend)) parts.push(`spent ${formatMoney(event.spend, currency)}`);
  if (Number(event.cashback)) parts.push(`cashback ${formatMoney(event.cashback, currency)}`);
  for (const [code, amount] of Object.entries(event.code_discounts || {})) parts.push(`${code} took off ${formatMoney(amount, currency)}`);
  if (event.reason) parts.push(`“${event.reason}”${event.by ? ` by ${event.by}` : ""}`);
  return parts.join(" · ");
}

// ``role``: the session's; a marketer reads customers but may not adjust points (docs/security.md),
// so the form is not offered to them (pressing Adjust only ever answered 403).
export async function customersView(main, shop, initial, role) {
  const query = h("input", { type: "search", id: "customer-email", value: initial, placeholder: "start of an e-mail or a name", autocomplete: "off" });
  const matches = h("ul", { class: "matches", id: "customer-matches" });
  const out = h("div", { id: "customer" });
  const baseOf = (email) => `/admin/shops/${enc(shop)}/customers/${enc(email)}`;
  const zone = (await api("GET", `/admin/shops/${enc(shop)}`).catch(() => ({}))).timezone;

  const search = debounceLatest(async (isLatest) => {
    const q = query.value.trim();
    if (q.length < 2 || q.includes("@") && q.split("@")[1].includes(".")) { clear(matches); return; }
    try {
      const found = await api("GET", `/admin/shops/${enc(shop)}/customers?q=${encodeURIComponent(q)}`);
      if (!isLatest()) return;
      clear(matches, found.customers.map((c) => h("li", {}, h("button", { type: "button", class: "link", onclick: () => { query.value = c.email; clear(matches); look(); } },
        `${[c.first_name, c.last_name].filter(Boolean).join(" ") || "—"} · ${c.email} · ${c.tier || "no tier"} · ${formatNumber(c.points_balance)} points`))),
        found.more ? h("li", { class: "hint" }, "More match: type more of the name or e-mail.") : null);
    } catch (error) { if (isLatest()) clear(matches, h("li", { class: "hint" }, errorText(error))); }
  }, 250);
  query.addEventListener("input", search);

  async function look(event) {
    event?.preventDefault();
    const email = query.value.trim();
    if (!email) return;
    clear(matches);
    try {
      const [c, story] = await Promise.all([api("GET", baseOf(email)), api("GET", `${baseOf(email)}/timeline`)]);
      const points = h("input", { type: "number", id: "adjust-points" });
      const reason = h("input", { id: "adjust-reason", placeholder: "why (shown in the history)" });
      const message = h("div", { id: "adjust-message" });
      const button = h("button", { class: "primary", type: "submit" }, "Adjust");
      // one request id per adjustment the marketer means: a double click repeats the same request
      let pending = null;
      const adjust = async (e) => {
        e.preventDefault();
        if (pending) return;
        pending = { points: Number(points.value), reason: reason.value, request_id: crypto.randomUUID() };
        button.disabled = true;
        try {
          await api("POST", `${baseOf(email)}/adjustments`, pending);
          pending = null;
          await look();
        } catch (error) { notice(message, errorText(error), "error"); pending = null; button.disabled = false; }
      };
      const currency = c.currency;
      clear(out,
        h("div", { class: "cards" },
          h("div", { class: "card stat" }, h("small", {}, "Balance"), h("strong", { id: "customer-balance" }, `${formatNumber(c.points_balance)} points`), h("span", {}, `worth ${formatMoney(c.points_value, currency)}`)),
          h("div", { class: "card stat" }, h("small", {}, "Tier"), h("strong", {}, c.tier || "no tier"), h("span", {}, c.next_tier ? `${formatMoney(c.spend_to_next_tier, currency)} to ${c.next_tier}` : "")),
          h("div", { class: "card stat" }, h("small", {}, "Cashback"), h("strong", {}, formatMoney(c.cashback_balance, currency)), h("span", {}, `${formatNumber(c.orders_count)} orders, ${formatMoney(c.lifetime_spend, currency)} spent`)),
          h("div", { class: "card stat" }, h("small", {}, "Referral and achievements"), h("strong", {}, c.referral?.code || "no referral code"),
            h("span", {}, [story.referred ? "came by a friend's referral" : null, c.achievements.length ? `achievements: ${c.achievements.join(", ")}` : "no achievements yet",
              story.unsubscribed ? "unsubscribed from marketing" : story.marketing_consent ? "agreed to marketing" : "no marketing consent"].filter(Boolean).join(" · ")))),
        h("h3", {}, "Point lots"), c.expiring.length ? h("ul", {}, c.expiring.map((l) => h("li", {}, `${formatNumber(l.points)} points until ${formatTime(l.expires_at, zone)}`))) : h("p", {}, "None."),
        role === "marketer" ? h("p", { class: "hint", id: "adjust-needs-owner" }, "Adjusting points needs the shop owner's key.")
          : h("form", { class: "card row", id: "adjust-form", onsubmit: adjust }, field("Adjust points (+/−)", points), field("Reason", reason), button, message),
        h("h3", {}, "Timeline"),
        h("table", { class: "list", id: "customer-timeline" }, h("thead", {}, h("tr", {}, [`When (${zone || "UTC"})`, "What", "Points", "Details"].map((t) => h("th", {}, t)))),
          h("tbody", {}, story.events.map((e) => h("tr", { class: `event ${e.type}`, "data-type": e.type },
            h("td", {}, formatTime(e.at, zone)), h("td", {}, EVENT_LABELS[e.type] || e.type),
            h("td", { class: "num" }, e.points ? formatNumber(e.points) : ""), h("td", {}, describe(e, currency)))))));
    } catch (error) { notice(out, errorText(error), "error"); }
  }
  clear(main, h("h2", {}, "Customers"), h("form", { class: "row", onsubmit: look }, field("Find a customer", query), h("button", { type: "submit", id: "look-up" }, "Open")), matches, out);
  if (initial) await look();
}
