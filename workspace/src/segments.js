// A segment built from rows: field / operator / value, rows joined by AND or OR, groups of rows
// inside; the live count and a few matching customers as you edit; the JSON as an advanced view.
import { EditorView, basicSetup } from "codemirror";
import { json } from "@codemirror/lang-json";
import { api, enc } from "./api.js";
import { h, clear, debounceLatest, errorText } from "./dom.js";
import { formatNumber } from "./numbers.js";

const NUMBER_OPS = [["=", "is"], ["!=", "is not"], [">", "more than"], [">=", "at least"], ["<", "less than"], ["<=", "at most"]];
const TEXT_OPS = [["=", "is"], ["!=", "is not"], ["in", "is one of"], ["not_in", "is none of"], ["exists", "is set"]];
export const FIELDS = {
  tier: { label: "Tier", kind: "text", ops: TEXT_OPS },
  days_since_last_order: { label: "Days since last order", kind: "number", ops: NUMBER_OPS },
  orders_count: { label: "Orders", kind: "number", ops: NUMBER_OPS },
  lifetime_spend: { label: "Lifetime spend", kind: "number", ops: NUMBER_OPS },
  points_balance: { label: "Points balance", kind: "number", ops: NUMBER_OPS },
  cashback_balance: { label: "Cashback balance", kind: "number", ops: NUMBER_OPS },
  marketing_consent: { label: "Agreed to marketing", kind: "bool", ops: [["=", "is"]] },
  member: { label: "Paid member", kind: "bool", ops: [["=", "is"]] },
  locale: { label: "Language", kind: "text", ops: TEXT_OPS },
  email_domain: { label: "E-mail domain", kind: "text", ops: TEXT_OPS },
  bought_category: { label: "Bought from category", kind: "bought", ops: [["contains", "includes"], ["exists", "anything"]] },
  bought_sku: { label: "Bought product (SKU)", kind: "bought", ops: [["contains", "includes"], ["exists", "anything"]] },
  rfm_score: { label: "RFM score (e.g. 555)", kind: "text", ops: [["=", "is"], ["!=", "is not"], ["in", "is one of"], ["not_in", "is none of"]] },
  recency_score: { label: "Recency score (1-5)", kind: "number", ops: NUMBER_OPS },
  frequency_score: { label: "Frequency score (1-5)", kind: "number", ops: NUMBER_OPS },
  monetary_score: { label: "Monetary score (1-5)", kind: "number", ops: NUMBER_OPS },
};

function parseValue(field, op, raw) {
  const kind = FIELDS[field].kind;
  if (op === "exists") return true;
  if (kind === "bool") return raw === "true";
  if (op === "in" || op === "not_in") return raw.split(",").map((v) => v.trim()).filter(Boolean).map((v) => (kind === "number" ? Number(v) : v));
  if (kind === "number") return raw === "" ? null : Number(raw);
  return raw;
}

function showValue(value) { return Array.isArray(value) ? value.join(", ") : value === undefined || value === null ? "" : String(value); }

// rules ⇄ model: { join: "all"|"any", items: [condition | { join, items }] }; null when the rules do not fit rows.
export function toModel(rules) {
  if (!rules) return { join: "all", items: [] };
  if (rules.field) return { join: "all", items: [{ ...rules }] };
  const join = rules.all ? "all" : rules.any ? "any" : null;
  if (!join) return null;
  const items = [];
  for (const rule of rules[join]) {
    if (rule.field) { items.push({ ...rule }); continue; }
    const inner = toModel(rule);
    if (!inner || inner.items.some((i) => !i.field)) return null;
    items.push(inner);
  }
  return { join, items };
}

export function toRules(model) {
  const items = model.items.map((item) => (item.field ? { field: item.field, op: item.op, value: item.value } : toRules(item))).filter(Boolean);
  if (!items.length) return null;
  return { [model.join]: items };
}

export function segmentBuilder({ shop, initial, onChange }) {
  let model = toModel(initial?.rules) || { join: "all", items: [] };
  const rowsHost = h("div", { class: "segment-rows", id: "segment-rows" });
  const count = h("span", { class: "count", id: "segment-count" }, "…");
  const sample = h("div", { class: "segment-sample", id: "segment-sample" });
  const jsonHost = h("div", { class: "editor small", id: "segment-editor" });
  const jsonNote = h("small", { class: "hint" });
  let jsonView = null;
  const advanced = h("details", { class: "segment-json" }, h("summary", {}, "Advanced: the segment as JSON"), jsonNote, jsonHost);

  const recount = debounceLatest(async (isLatest) => {
    const rules = toRules(model);
    if (!rules) { count.textContent = "every customer: add a condition"; clear(sample); return; }
    try {
      const preview = await api("POST", `/admin/shops/${enc(shop)}/segments/preview`, { rules });
      if (!isLatest()) return;
      count.textContent = `${formatNumber(preview.count)} customers`;
      clear(sample, preview.sample.length ? h("ul", {}, preview.sample.map((c) => h("li", {}, `${c.first_name || ""} ${c.email} · ${c.tier || "no tier"} · ${formatNumber(c.points_balance)} points`))) : null);
    } catch (error) { if (isLatest()) { count.textContent = errorText(error); clear(sample); } }
  }, 300);

  function changed(fromJson = false) {
    if (!fromJson && jsonView) {
      const text = JSON.stringify({ rules: toRules(model) }, null, 2);
      jsonView.dispatch({ changes: { from: 0, to: jsonView.state.doc.length, insert: text } });
    }
    recount();
    onChange?.();
  }

  function conditionRow(item, list, index) {
    const field = h("select", { class: "seg-field" }, Object.entries(FIELDS).map(([name, f]) => h("option", { value: name, selected: name === item.field }, f.label)));
    const op = h("select", { class: "seg-op" });
    const valueHost = h("span", { class: "seg-value" });
    function fillOps() {
      clear(op, FIELDS[item.field].ops.map(([value, label]) => h("option", { value, selected: value === item.op }, label)));
      if (!FIELDS[item.field].ops.some(([v]) => v === item.op)) item.op = FIELDS[item.field].ops[0][0];
      op.value = item.op;
    }
    function fillValue() {
      const kind = FIELDS[item.field].kind;
      let input;
      if (item.op === "exists") input = null;
      else if (kind === "bool") input = h("select", { class: "seg-input" }, h("option", { value: "true", selected: item.value === true }, "yes"), h("option", { value: "false", selected: item.value === false }, "no"));
      else input = h("input", { class: "seg-input", type: kind === "number" && !["in", "not_in"].includes(item.op) ? "number" : "text", value: showValue(item.value),
        placeholder: ["in", "not_in"].includes(item.op) ? "a, b, c" : "" });
      if (input) input.addEventListener("input", () => { item.value = parseValue(item.field, item.op, input.value); changed(); });
      if (input && kind === "bool") input.addEventListener("change", () => { item.value = input.value === "true"; changed(); });
      if (kind === "bool" && item.value === undefined) item.value = true;
      item.value = item.op === "exists" ? true : item.value;
      clear(valueHost, input);
    }
    field.addEventListener("change", () => { item.field = field.value; item.value = FIELDS[item.field].kind === "bool" ? true : ""; fillOps(); fillValue(); changed(); });
    op.addEventListener("change", () => { item.op = op.value; if (op.value === "exists") item.value = true; fillValue(); changed(); });
    fillOps(); fillValue();
    return h("div", { class: "seg-row" }, field, op, valueHost,
      h("button", { type: "button", class: "small", title: "remove", onclick: () => { list.items.splice(index, 1); render(); changed(); } }, "✕"));
  }

  function groupView(group, parent, index) {
    const join = h("select", { class: "seg-join" }, h("option", { value: "all", selected: group.join === "all" }, "all of (AND)"), h("option", { value: "any", selected: group.join === "any" }, "any of (OR)"));
    join.addEventListener("change", () => { group.join = join.value; changed(); });
    const rows = group.items.map((item, i) => (item.field ? conditionRow(item, group, i) : groupView(item, group, i)));
    return h("div", { class: parent ? "seg-group nested" : "seg-group" },
      h("div", { class: "seg-group-head" }, h("span", {}, parent ? "a group matching" : "Customers matching"), join,
        parent ? h("button", { type: "button", class: "small", onclick: () => { parent.items.splice(index, 1); render(); changed(); } }, "remove group") : null),
      rows,
      h("div", { class: "seg-actions" },
        h("button", { type: "button", class: "small add-condition", onclick: () => { group.items.push({ field: "tier", op: "=", value: "" }); render(); changed(); } }, "+ condition"),
        parent ? null : h("button", { type: "button", class: "small add-group", onclick: () => { group.items.push({ join: group.join === "all" ? "any" : "all", items: [{ field: "tier", op: "=", value: "" }] }); render(); changed(); } }, "+ group")));
  }

  function render() { clear(rowsHost, groupView(model, null, 0)); }

  function mountJson() {
    jsonView = new EditorView({ doc: JSON.stringify({ rules: toRules(model) }, null, 2), parent: jsonHost, extensions: [basicSetup, json(),
      EditorView.updateListener.of((u) => {
        if (!u.docChanged || !u.transactions.some((t) => t.isUserEvent("input") || t.isUserEvent("delete") || t.isUserEvent("paste"))) return;
        let parsed;
        try { parsed = JSON.parse(jsonView.state.doc.toString()); } catch { jsonNote.textContent = "not valid JSON yet"; return; }
        const next = toModel(parsed.rules);
        if (!next) { jsonNote.textContent = "this segment nests deeper than rows can show: it is used as written"; model = { join: "all", items: [], raw: parsed.rules }; changed(true); return; }
        jsonNote.textContent = "";
        model = next; render(); changed(true);
      })] });
  }

  render(); mountJson(); recount();
  const root = h("div", { class: "segment-builder" }, h("div", { class: "seg-title" }, h("strong", {}, "Who gets it "), count), rowsHost, sample, advanced);
  return {
    root,
    value: () => ({ rules: model.raw || toRules(model) || { field: "orders_count", op: ">=", value: 0 } }),
    set(rules) { model = toModel(rules) || { join: "all", items: [], raw: rules }; render(); changed(); },
  };
}
