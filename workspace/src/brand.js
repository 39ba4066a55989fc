// Brand without code: logo, colours, font, footer address lines and social links as a form,
// with one template's live preview rendered by the server with the brand as typed (not saved).
// The server checks every value again (on preview and save) and names the field it refuses.
import { api, enc } from "./api.js";
import { h, clear, debounce, field, errorText, notice } from "./dom.js";

// The same lists as chalicelib/domain/shops/brand.py (the server refuses anything else).
const FONTS = [
  ["system", "System (the reader's own UI font)"], ["arial", "Arial / Helvetica"], ["verdana", "Verdana"],
  ["trebuchet", "Trebuchet MS"], ["georgia", "Georgia (serif)"], ["palatino", "Palatino (serif)"],
  ["times", "Times New Roman (serif)"],
];
const NETWORKS = [
  ["instagram", "Instagram", "https://instagram.com/yourshop"], ["facebook", "Facebook", "https://facebook.com/yourshop"],
  ["tiktok", "TikTok", "https://tiktok.com/@yourshop"], ["youtube", "YouTube", "https://youtube.com/@yourshop"],
  ["x", "X", "https://x.com/yourshop"], ["pinterest", "Pinterest", "https://pinterest.com/yourshop"],
  ["linkedin", "LinkedIn", "https://linkedin.com/company/yourshop"], ["telegram", "Telegram", "https://t.me/yourshop"],
];
const COLORS = [
  ["primary_color", "Buttons and links"], ["accent_color", "Headings and shop name"],
  ["background_color", "Background around the e-mail"], ["text_color", "Body text"],
];
const HEX = /^#[0-9a-fA-F]{6}$/;
const LOCALES = ["en", "de", "ru", "uk"];

function colorControl(name, value, onChange) {
  const picker = h("input", { type: "color", value, id: `brand-${name}-picker`, "aria-label": `${name} picker` });
  const text = h("input", { type: "text", value, id: `brand-${name}`, maxlength: 7, size: 8, spellcheck: "false",
    "data-field": `brand.${name}` });
  picker.addEventListener("input", () => { text.value = picker.value; onChange(); });
  text.addEventListener("input", () => { if (HEX.test(text.value)) picker.value = text.value.toLowerCase(); onChange(); });
  return { text, root: h("span", { class: "color-control" }, picker, text) };
}

export async function brandView(main, shop) {
  const base = `/admin/shops/${enc(shop)}`;
  const [settings, list] = await Promise.all([api("GET", base), api("GET", `${base}/templates`).catch(() => null)]);
  const brand = settings.brand || {};
  const refresh = debounce(() => preview(), 300);

  const logo = h("input", { type: "url", id: "brand-logo_url", value: brand.logo_url || "", placeholder: "https://…/logo.png",
    "data-field": "brand.logo_url" });
  logo.addEventListener("input", refresh);
  const colors = Object.fromEntries(COLORS.map(([name]) => [name, colorControl(name, brand[name], refresh)]));
  const font = h("select", { id: "brand-font", "data-field": "brand.font" },
    FONTS.map(([value, label]) => h("option", { value, selected: value === brand.font }, label)));
  font.addEventListener("change", refresh);
  const address = h("textarea", { id: "brand-address_lines", rows: 4, "data-field": "brand.address_lines",
    placeholder: settings.address || "Company name\nStreet and number\nPostcode and city" });
  address.value = (brand.address_lines || []).join("\n");
  address.addEventListener("input", refresh);
  const social = Object.fromEntries(NETWORKS.map(([network, , example]) => {
    const input = h("input", { type: "url", id: `brand-social-${network}`, placeholder: example,
      value: (brand.social_links || {})[network] || "", "data-field": `brand.social_links.${network}` });
    input.addEventListener("input", refresh);
    return [network, input];
  }));

  const templates = (list && (list.templates || list.items) || []).map((t) => t.template || t.name || t).filter((t) => typeof t === "string");
  const template = h("select", { id: "brand-preview-template" },
    (templates.length ? templates : ["post_purchase"]).map((t) => h("option", { value: t, selected: t === "post_purchase" }, t)));
  const locale = h("select", { id: "brand-preview-locale" },
    LOCALES.map((l) => h("option", { value: l, selected: l === settings.default_locale }, l)));
  template.addEventListener("change", () => preview());
  locale.addEventListener("change", () => preview());
  const frame = h("iframe", { id: "brand-preview", class: "preview desktop", sandbox: "", title: "preview with the brand" });
  const problem = h("div", { id: "brand-problem" });
  const status = h("div", { id: "brand-status" });

  function values() {
    return {
      logo_url: logo.value.trim() || null,
      ...Object.fromEntries(COLORS.map(([name]) => [name, colors[name].text.value.trim()])),
      font: font.value,
      address_lines: address.value.split("\n").map((line) => line.trim()).filter(Boolean),
      social_links: Object.fromEntries(NETWORKS.map(([network]) => [network, social[network].value.trim() || null])),
    };
  }

  function mark(error) {
    for (const el of main.querySelectorAll("[data-field]")) el.classList.remove("invalid");
    const name = error && error.body && error.body.field;
    if (!name) return;
    const target = main.querySelector(`[data-field="${name}"]`);
    if (target) target.classList.add("invalid");
  }

  let run = 0;
  async function preview() {
    const mine = ++run;  // an older answer arriving late must not replace a newer one
    try {
      const result = await api("POST", `${base}/templates/${enc(template.value)}/preview`,
        { brand: values(), locale: locale.value });
      if (mine !== run) return;
      mark(null);
      if (!result.ok) { clear(problem, h("div", { class: "notice error" }, result.explanation || result.error)); return; }
      clear(problem);
      frame.srcdoc = result.html;
    } catch (error) {
      if (mine !== run) return;
      mark(error);
      clear(problem, h("div", { class: "notice error", id: "brand-error" }, errorText(error)));
    }
  }

  async function save(event) {
    event.preventDefault();
    try {
      // the other settings as they are now; what the GET adds besides the settings is left out
      const { shop_id, webhook_url_path, webhook_url, previous_secrets, created_at, updated_at, ...current } = await api("GET", base);
      await api("PUT", base, { ...current, brand: values() });
      mark(null);
      notice(status, "Saved: every e-mail now goes out with this brand.");
    } catch (error) {
      mark(error);
      notice(status, errorText(error), "error");
    }
  }

  const form = h("form", { class: "brand-form", id: "brand-form", onsubmit: save },
    h("h2", {}, "Brand"),
    h("p", { class: "hint" }, "How every e-mail looks. Leave a field as it is to keep the default look."),
    field("Logo (https image URL)", logo, "Shown at the top of every e-mail, 56 px wide."),
    COLORS.map(([name, label]) => field(label, colors[name].root)),
    field("Font", font, "Web-safe fonts only: every mail client can show them."),
    field("Footer address (one line each, up to 4)", address, "Shown under the shop name; the law asks for a postal address."),
    h("fieldset", { class: "social" }, h("legend", {}, "Social links in the footer"),
      NETWORKS.map(([network, label]) => field(label, social[network]))),
    h("button", { type: "submit", class: "primary", id: "brand-save" }, "Save brand"), status);
  clear(main, h("div", { class: "brand-page" }, form,
    h("section", { class: "brand-preview" },
      h("div", { class: "preview-controls" }, field("E-mail", template), field("Language", locale)),
      problem, frame)));
  await preview();
}
