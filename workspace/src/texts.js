// The words of one e-mail in one language as a form: each text with the default as its
// placeholder, the {placeholders} it may use, plural forms where the language has them.
// The server checks every text again (on preview and save) and names the key it refuses.
import { api, enc } from "./api.js";
import { h, clear, reasonOf, showProblem } from "./dom.js";

const LABELS = {
  subject: "Subject", subject_no_points: "Subject (order without points)", preheader: "Preheader (inbox preview)",
  title: "Heading", intro: "First paragraph", cta: "Button", eyebrow: "Small line above the heading",
};

export function keyLabel(key) {
  const name = key.split(".").slice(1).join(".");
  return LABELS[name] || (name.charAt(0).toUpperCase() + name.slice(1)).replace(/_/g, " ");
}

function placeholdersIn(text) {
  return [...String(text).matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]);
}

// What is wrong with a text, in words, before the server is asked (it checks again).
export function problemOf(text, allowed) {
  if (!text) return null;
  const stripped = text.replace(/\{\{|\}\}/g, "");
  if ((stripped.match(/\{/g) || []).length !== (stripped.match(/\}/g) || []).length) return "a { or } is not closed";
  const used = placeholdersIn(stripped);
  const unknown = used.find((name) => !allowed.includes(name));
  if (unknown !== undefined) return `{${unknown}} is not a placeholder here; available: ${allowed.map((p) => `{${p}}`).join(", ") || "none"}`;
  const missing = allowed.find((name) => !used.includes(name));
  if (missing !== undefined) return `{${missing}} is missing: the e-mail would lose it`;
  return null;
}

export function textsForm({ shop, template, onInput }) {
  const base = `/admin/shops/${enc(shop)}/templates/${enc(template)}/texts`;
  const own = h("div", { class: "texts-own" });
  const shared = h("div", { class: "texts-shared" });
  const root = h("div", { class: "texts-form", id: "texts-form" }, own,
    h("details", { class: "shared-texts" }, h("summary", {}, "Texts shared by every e-mail (balance, offer, footer)"), shared));
  let inputs = [];
  let loaded = { version: 0, locale: null };
  let dirty = false;  // typed since the language's words were loaded or saved
  let wanted = null;  // the language asked for last: a slower answer for an earlier choice must not replace it

  function row(entry) {
    const forms = entry.plural_forms;
    const controls = (forms || [null]).map((form) => {
      const fallback = form ? (entry.default[form] || entry.default.other) : entry.default;
      const value = form ? (entry.value ? entry.value[form] : "") : (entry.value || "");
      const long = String(fallback).length > 70;
      const input = h(long ? "textarea" : "input", { class: "text-input", rows: long ? 3 : undefined, placeholder: fallback,
        "data-key": entry.key, "data-form": form || undefined, id: form ? undefined : `text-${entry.key.replace(/\./g, "-")}` });
      input.value = value || "";
      const message = h("small", { class: "text-problem field-problem" });
      const allowed = placeholdersIn(fallback);
      const check = () => showProblem(input, problemOf(input.value, allowed));
      input.addEventListener("input", () => { dirty = true; check(); onInput(); });
      inputs.push({ key: entry.key, form, input, message, check });
      return h("label", { class: "text-control" }, form ? h("span", { class: "form-name" }, form) : null, input, message);
    });
    const chips = entry.placeholders.length ? h("span", { class: "chips" }, entry.placeholders.map((p) => h("code", {}, `{${p}}`))) : null;
    return h("div", { class: "text-row", "data-key": entry.key },
      h("div", { class: "text-label" }, h("strong", {}, keyLabel(entry.key)), h("span", { class: "key" }, entry.key), chips), controls);
  }

  async function load(locale) {
    wanted = locale;
    const answer = await api("GET", `${base}/${enc(locale)}`);
    if (locale !== wanted) return answer;
    inputs = [];
    dirty = false;
    loaded = { version: answer.version, locale };
    clear(own, answer.texts.filter((t) => !t.shared).map(row));
    clear(shared, answer.texts.filter((t) => t.shared).map(row));
    return answer;
  }

  // The texts the marketer typed: a key with nothing typed keeps the default.
  function values() {
    const out = {};
    for (const { key, form, input } of inputs) {
      const text = input.value;
      if (!form) { if (text.trim()) out[key] = text; continue; }
      if (!text.trim()) continue;
      out[key] = { ...(out[key] || {}), [form]: text };
    }
    return out;
  }

  function markServerError(error) {
    const key = (error.body && error.body.field || "").replace(/^texts\./, "");
    for (const item of inputs) {
      if (item.key === key) showProblem(item.input, reasonOf(error));
    }
  }

  // the server's word on the fields replaced by the form's own checks of what is typed now
  function recheck() { for (const item of inputs) item.check(); }

  async function save(version) {
    const saved = await api("PUT", `${base}/${enc(loaded.locale)}`, { texts: values(), version });
    dirty = false;
    return saved;
  }

  async function reset() { return api("DELETE", `${base}/${enc(loaded.locale)}`); }

  return { root, load, values, save, reset, markServerError, recheck, locale: () => loaded.locale, version: () => loaded.version, dirty: () => dirty };
}
