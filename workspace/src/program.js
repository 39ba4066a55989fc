import { api, enc } from "./api.js";
import { h, clear, errorText, field, notice } from "./dom.js";
import { earnRateText, formatMoney, formatNumber } from "./numbers.js";

export async function programView(main, shop) {
  const base = `/admin/shops/${enc(shop)}/program`;
  const current = await api("GET", base);
  const p = current.program;
  const input = (id, value, attrs = {}) => h("input", { id, value: value ?? "", ...attrs });
  const f = {
    earn_rate: input("earn-rate", p.earn_rate, { inputmode: "decimal" }),
    point_value: input("point-value", p.point_value, { inputmode: "decimal" }),
    min_redeem_points: input("min-redeem", p.min_redeem_points, { type: "number", min: 1 }),
    points_validity_months: input("validity-months", p.points_validity_months, { type: "number", min: 1, max: 120 }),
    cashback_percent: input("cashback", p.cashback_percent, { inputmode: "decimal" }),
    birthday_bonus_points: input("birthday-bonus", p.birthday_bonus_points, { type: "number", min: 0 }),
    winback_after_days: input("winback-days", p.winback_after_days, { type: "number", min: 7 }),
  };
  const PERIODS = { lifetime: "all spend ever", rolling_12_months: "spend in the last 12 months" };
  const period = h("select", { id: "tier-period" }, Object.entries(PERIODS).map(([v, label]) => h("option", { value: v, selected: v === p.tier_period }, label)));
  const capMessages = input("cap-messages", current.marketing_cap?.max_messages, { type: "number", min: 0 });
  const capDays = input("cap-days", current.marketing_cap?.per_days, { type: "number", min: 1 });
  const warnings = input("warning-days", (current.expiry_warning_days || []).join(", "));
  const tiersBody = h("tbody", { id: "tiers" });
  const addTier = (t = { name: "", min_spend: "", discount_percent: "0" }) => {
    const row = h("tr", {}, h("td", {}, h("input", { class: "tier-name", value: t.name })), h("td", {}, h("input", { class: "tier-spend", value: t.min_spend })),
      h("td", {}, h("input", { class: "tier-discount", value: t.discount_percent })),
      h("td", {}, h("button", { type: "button", class: "small", onclick: () => row.remove() }, "remove")));
    tiersBody.append(row);
  };
  p.tiers.forEach(addTier);
  // the rate as people say it ("5 points per 100 UAH"), following the field
  const rateText = h("small", { id: "earn-rate-text" });
  const showRate = () => { rateText.textContent = earnRateText(f.earn_rate.value, current.currency || p.currency); };
  f.earn_rate.addEventListener("input", showRate);
  showRate();
  // the point's worth in money, following the field ("1 point = 0,50 ₴")
  const worthText = h("small", { id: "point-value-text" });
  const showWorth = () => { worthText.textContent = Number.isFinite(Number(f.point_value.value)) && f.point_value.value !== ""
    ? `1 point = ${formatMoney(f.point_value.value, current.currency || p.currency)}` : ""; };
  f.point_value.addEventListener("input", showWorth);
  showWorth();
  const impact = h("div", { id: "program-impact" });
  const message = h("div", { id: "program-message" });
  const save = h("button", { class: "primary", id: "save-program", disabled: true }, "Save");

  const body = () => ({
    program: { ...p, ...Object.fromEntries(Object.entries(f).map(([k, el]) => [k, el.type === "number" ? Number(el.value) : el.value])),
      tier_period: period.value,
      tiers: [...tiersBody.rows].map((r) => ({ name: r.querySelector(".tier-name").value, min_spend: r.querySelector(".tier-spend").value, discount_percent: r.querySelector(".tier-discount").value })) },
    marketing_cap: { max_messages: Number(capMessages.value), per_days: Number(capDays.value) },
    expiry_warning_days: warnings.value.split(",").map((s) => s.trim()).filter(Boolean).map(Number),
  });

  async function preview(event) {
    event?.preventDefault();
    try {
      const r = await api("POST", `${base}/preview`, body());
      clear(impact, h("div", { class: "card impact" }, h("h3", {}, "What changes for existing customers"),
        h("p", {}, `${formatNumber(r.tier_changes)} of ${formatNumber(r.customers_read)} customers change tier (${formatNumber(r.tier_ups)} up, ${formatNumber(r.tier_downs)} down)${r.truncated ? ` · only the first ${formatNumber(r.limit)} customers were read` : ""}.`),
        r.moves.length ? h("ul", {}, r.moves.map((m) => h("li", {}, `${m.move}: ${formatNumber(m.customers)}`))) : null,
        h("p", {}, `Outstanding points: ${formatNumber(r.points_outstanding)}, worth ${formatMoney(r.outstanding_value_before, r.currency)} → ${formatMoney(r.outstanding_value_after, r.currency)} (change ${formatMoney(r.outstanding_value_change, r.currency)}).`)));
      save.disabled = false;
    } catch (error) { save.disabled = true; notice(impact, errorText(error), "error"); }
  }
  save.addEventListener("click", async (event) => {
    event.preventDefault();
    try { await api("PUT", base, body()); notice(message, "Saved. New orders earn under these rules."); save.disabled = true; }
    catch (error) { notice(message, errorText(error), "error"); }
  });
  const form = h("form", { class: "card", id: "program-form", oninput: () => { save.disabled = true; } },
    h("div", { class: "row" }, h("div", {}, field("Earn rate (points per currency unit)", f.earn_rate), rateText), h("div", {}, field("Point value", f.point_value), worthText),
      field("Smallest redemption", f.min_redeem_points), field("Points valid (months)", f.points_validity_months)),
    h("div", { class: "row" }, field("Cashback %", f.cashback_percent), field("Tier period", period), field("Birthday bonus", f.birthday_bonus_points), field("Win-back after (days)", f.winback_after_days)),
    h("h3", {}, "Tiers"), h("table", { class: "list" }, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "From spend"), h("th", {}, "Discount %"), h("th", {}))), tiersBody),
    h("button", { type: "button", class: "small", onclick: () => addTier() }, "Add tier"),
    h("h3", {}, "Marketing e-mail cap and expiry warnings"),
    h("div", { class: "row" }, field("Messages at most", capMessages), field("per days", capDays), field("Warn days before expiry", warnings)),
    h("div", { class: "actions" }, h("button", { id: "preview-program", onclick: preview }, "Preview the change"), save));
  clear(main, h("h2", {}, "Program settings"), form, impact, message);
}
