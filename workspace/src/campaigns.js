import { EditorView, basicSetup } from "codemirror";
import { json } from "@codemirror/lang-json";
import { api, enc } from "./api.js";
import { h, clear, debounce, errorText, field, notice } from "./dom.js";
import { planPanel } from "./campaign_plan.js";

const MARKETING = ["special_day", "winback", "birthday", "reward_code", "welcome"];
const STARTER_DATA = {
  special_day: (from, until) => ({ title: "Coffee weekend", starts_at: from.slice(0, 10), ends_at: until.slice(0, 10) }),
};
const ACTIONS = { scheduled: ["pause", "cancel"], sending: ["pause", "cancel"], paused: ["resume", "cancel"] };

function localInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function jsonEditor(doc, onChange, id) {
  const host = h("div", { class: "editor small", id });
  const view = new EditorView({ doc, parent: host, extensions: [basicSetup, json(),
    EditorView.updateListener.of((u) => { if (u.docChanged) onChange(); })] });
  return { host, text: () => view.state.doc.toString() };
}

export async function campaignsView(main, shop) {
  const base = `/admin/shops/${enc(shop)}/campaigns`;
  const list = h("div", { id: "campaign-list" });
  const message = h("div", { id: "campaign-message" });
  const tomorrow = new Date(Date.now() + 86400000); tomorrow.setHours(10, 0, 0, 0);
  const weekLater = new Date(tomorrow.getTime() + 3 * 86400000);

  const name = h("input", { id: "campaign-name", value: "Coffee weekend", required: true });
  const template = h("select", { id: "campaign-template" }, MARKETING.map((t) => h("option", { value: t }, t)));
  const sendAt = h("input", { type: "datetime-local", id: "campaign-send-at", value: localInput(tomorrow) });
  const count = h("span", { class: "count", id: "segment-count" }, "…");
  const codes = h("select", { id: "offer-codes" }, h("option", { value: "" }, "no code"), h("option", { value: "per_customer" }, "one code per customer"), h("option", { value: "shared" }, "one shared code"));
  const discount = h("input", { type: "number", id: "offer-discount", min: 1, max: 100, value: 10 });
  const freeShipping = h("input", { type: "checkbox", id: "offer-free-shipping" });
  const bonus = h("input", { type: "number", id: "offer-bonus", min: 0, value: 0 });
  const validFrom = h("input", { type: "datetime-local", id: "offer-from", value: localInput(tomorrow) });
  const validUntil = h("input", { type: "datetime-local", id: "offer-until", value: localInput(weekLater) });
  const localTime = h("input", { type: "checkbox", id: "campaign-local-time" });
  const holdout = h("input", { type: "number", id: "campaign-holdout", min: 0, max: 50, value: 0 });

  const countSegment = debounce(async () => {
    let segment;
    try { segment = JSON.parse(segmentEditor.text()); } catch { count.textContent = "not valid JSON"; return; }
    try {
      const preview = await api("POST", `/admin/shops/${enc(shop)}/segments/preview`, segment);
      count.textContent = `${preview.count} customers`;
    } catch (error) { count.textContent = errorText(error); }
  }, 300);
  const segmentEditor = jsonEditor(JSON.stringify({ rules: { all: [{ field: "marketing_consent", op: "=", value: true }] } }, null, 2), countSegment, "segment-editor");
  const dataEditor = jsonEditor(JSON.stringify(STARTER_DATA.special_day(validFrom.value, validUntil.value), null, 2), () => {}, "data-editor");

  function campaignDocument() {
    let segment, data;
    try { segment = JSON.parse(segmentEditor.text()); data = JSON.parse(dataEditor.text()); }
    catch { throw new Error("segment and data must be JSON"); }
    const offer = codes.value || Number(bonus.value) > 0 ? {
      codes: codes.value || null, discount_percent: codes.value ? Number(discount.value) : null,
      free_shipping: freeShipping.checked, bonus_points: Number(bonus.value) > 0 ? Number(bonus.value) : null,
      valid_from: validFrom.value, valid_until: validUntil.value } : null;
    return { name: name.value, template: template.value, segment, data, offer, send_at: sendAt.value,
      local_time: localTime.checked, holdout_percent: Number(holdout.value) || 0 };
  }

  async function create(event) {
    event.preventDefault();
    let doc;
    try { doc = campaignDocument(); } catch (error) { notice(message, error.message, "error"); return; }
    try {
      const created = await api("POST", base, doc);
      notice(message, `Planned “${created.name}” for ${created.send_at}.`);
      loadList();
    } catch (error) { notice(message, errorText(error), "error"); }
  }

  async function act(id, action) {
    try { await api("POST", `${base}/${enc(id)}/${action}`); loadList(); }
    catch (error) { notice(message, errorText(error), "error"); }
  }

  async function loadList() {
    const { campaigns } = await api("GET", base);
    campaigns.sort((a, b) => b.send_at.localeCompare(a.send_at));
    const rows = await Promise.all(campaigns.map(async (c) => {
      const stats = ["sending", "done", "stopped", "paused", "cancelled"].includes(c.status)
        ? await api("GET", `${base}/${enc(c.campaign_id)}/stats`).catch(() => null) : null;
      return h("tr", { "data-campaign": c.campaign_id },
        h("td", {}, c.name), h("td", {}, c.template), h("td", {}, c.send_at.replace("T", " ").slice(0, 16) + " UTC"),
        h("td", { class: `status ${c.status}` }, c.status),
        h("td", {}, `${c.queued} queued`, stats ? ` · ${stats.sent} sent` : ""),
        h("td", {}, stats ? `${stats.delivered} delivered · ${stats.unique_clicks} clicked · ${stats.orders} orders · ${stats.revenue} ${stats.currency}` : "–"),
        h("td", {}, (ACTIONS[c.status] || []).map((a) => h("button", { class: "small", "data-action": a, onclick: () => act(c.campaign_id, a) }, a))));
    }));
    // Progress while sending: read again every few seconds while this page is shown.
    clearTimeout(loadList.timer);
    if (campaigns.some((c) => c.status === "sending") && document.body.contains(list)) {
      loadList.timer = setTimeout(() => loadList().catch(() => {}), 5000);
    }
    clear(list, campaigns.length ? h("table", { class: "list" },
      h("thead", {}, h("tr", {}, ["Name", "Template", "Send at", "Status", "Progress", "Results", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, rows)) : h("p", {}, "No campaigns yet."));
  }

  clear(main, h("h2", {}, "Campaigns"), list, message,
    h("form", { class: "card planner", id: "campaign-form", onsubmit: create },
      h("h3", {}, "Plan a campaign or special day"),
      h("div", { class: "row" }, field("Name", name), field("Template", template), field("Send at (shop time)", sendAt),
        field("At this time on each customer's clock", localTime), field("Holdout %", holdout)),
      h("div", { class: "row" }, h("div", { class: "field grow" }, h("span", {}, "Segment "), count, segmentEditor.host),
        h("div", { class: "field grow" }, h("span", {}, "Template data"), dataEditor.host)),
      h("fieldset", {}, h("legend", {}, "Offer"), h("div", { class: "row" }, field("Code", codes), field("Discount %", discount),
        field("Free shipping", freeShipping), field("Bonus points (claimed once)", bonus), field("Valid from", validFrom), field("Valid until", validUntil))),
      planPanel(shop, campaignDocument),
      h("button", { type: "submit", class: "primary", id: "create-campaign" }, "Schedule")));
  countSegment();
  await loadList();
}
