// The campaign planner: who gets it (a segment from rows), what it says (a form generated from
// what the template needs, per language), what it gives (the offer); then the e-mail as each
// language's recipients will see it, who will actually receive it, a test send, and Schedule or
// Send now. All times are the shop's (its time zone is named).
import { api, enc } from "./api.js";
import { h, clear, debounce, errorText, field, latestOnly, markServerProblem, notice, showProblem } from "./dom.js";
import { segmentBuilder } from "./segments.js";
import { formatMoney, formatNumber, formatTime } from "./numbers.js";
import { planPanel } from "./campaign_plan.js";
import { variantsEditor } from "./campaign_variants.js";
import { campaignResults } from "./campaign_results.js";

const LOCALES = ["en", "de", "ru", "uk"];
const LANGUAGE = { en: "English", de: "Deutsch", ru: "Русский", uk: "Українська" };
// What each campaign template needs from the marketer (the rest comes from the offer, the shop
// and each customer). "localized" texts take one value per language, the shop's default as fallback.
const TEMPLATE_FIELDS = {
  special_day: [
    { key: "title", label: "Name of the day (shown as the heading)", type: "text", localized: true, required: true },
    { key: "description", label: "A sentence about it", type: "textarea", localized: true },
    { key: "starts_at", label: "First day", type: "date", required: true },
    { key: "ends_at", label: "Last day", type: "date", required: true },
  ],
  winback: [],
  // No "points" field: a campaign credits nothing, so its mail may not say points were given
  // (the server refuses data.bonus_points); a birthday campaign gives its offer's code.
  birthday: [],
  welcome: [],
  points_expiring: [],
};
const TEMPLATE_LABELS = { special_day: "Special day", winback: "We miss you (win-back)", birthday: "Birthday", welcome: "Welcome", points_expiring: "Points expiring" };
const ACTIONS = { scheduled: ["pause", "cancel"], sending: ["pause", "cancel"], paused: ["resume", "cancel"] };

function shopLocalInput(date, timeZone) {
  // "YYYY-MM-DDTHH:MM" of ``date`` in the shop's zone, for a datetime-local input
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
    .formatToParts(date).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

function dataForm(template, shopLocales, defaultLocale) {
  const inputs = [];
  const fields = TEMPLATE_FIELDS[template] || [];
  const root = h("div", { class: "data-form", id: "data-form" }, fields.length ? null : h("p", { class: "hint" }, "This e-mail needs nothing more: the offer and each customer's own numbers fill it."));
  for (const spec of fields) {
    const locales = spec.localized ? shopLocales : [null];
    const controls = locales.map((locale) => {
      const input = h(spec.type === "textarea" ? "textarea" : "input", { type: spec.type === "textarea" ? undefined : spec.type, rows: 2,
        id: `data-${spec.key}${locale ? `-${locale}` : ""}`, "data-key": spec.key, "data-locale": locale || undefined,
        placeholder: locale && locale !== defaultLocale ? `falls back to ${LANGUAGE[defaultLocale]}` : "" });
      inputs.push({ spec, locale, input });
      return field(locale ? `${spec.label} · ${LANGUAGE[locale]}${locale === defaultLocale ? " (default)" : ""}` : spec.label, input);
    });
    root.append(h("div", { class: "row" }, controls));
  }
  return {
    root,
    inputs,
    value() {
      const data = {};
      for (const { spec, locale, input } of inputs) {
        const raw = input.value.trim();
        if (!raw) continue;
        const value = spec.type === "number" ? Number(raw) : raw;
        if (locale) data[spec.key] = { ...(data[spec.key] || {}), [locale]: value };
        else data[spec.key] = value;
      }
      return data;
    },
    missing() {
      return fields.filter((s) => s.required).filter((s) => !inputs.some((i) => i.spec === s && i.input.value.trim()
        && (!s.localized || i.locale === defaultLocale))).map((s) => s.label);
    },
  };
}

export async function campaignsView(main, shop) {
  const base = `/admin/shops/${enc(shop)}/campaigns`;
  const shopView = await api("GET", `/admin/shops/${enc(shop)}`);
  const zone = shopView.timezone || "UTC";
  const defaultLocale = shopView.default_locale || "en";
  const shopLocales = [defaultLocale, ...LOCALES.filter((l) => l !== defaultLocale)];
  const list = h("div", { id: "campaign-list" });
  const message = h("div", { id: "campaign-message" });
  const tomorrow = new Date(Date.now() + 86400000);
  const start = shopLocalInput(tomorrow, zone).slice(0, 11) + "10:00";
  const end = shopLocalInput(new Date(tomorrow.getTime() + 2 * 86400000), zone).slice(0, 11) + "23:59";

  const name = h("input", { id: "campaign-name", required: true, placeholder: "e.g. Free shipping day" });
  const template = h("select", { id: "campaign-template" }, Object.keys(TEMPLATE_FIELDS).map((t) => h("option", { value: t }, TEMPLATE_LABELS[t])));
  const sendAt = h("input", { type: "datetime-local", id: "campaign-send-at", value: start });
  const localTime = h("input", { type: "checkbox", id: "campaign-local-time" });
  const holdout = h("input", { type: "number", id: "campaign-holdout", min: 0, max: 50, value: 0 });
  const codes = h("select", { id: "offer-codes" }, h("option", { value: "" }, "no code"), h("option", { value: "per_customer" }, "one code per customer"), h("option", { value: "shared" }, "one shared code"));
  const discount = h("input", { type: "number", id: "offer-discount", min: 0, max: 100, placeholder: "none" });
  const freeShipping = h("input", { type: "checkbox", id: "offer-free-shipping" });
  const minOrder = h("input", { type: "number", id: "offer-min-order", min: 0, placeholder: "none" });
  const bonus = h("input", { type: "number", id: "offer-bonus", min: 0, value: 0 });
  const validFrom = h("input", { type: "datetime-local", id: "offer-from", value: start });
  const validUntil = h("input", { type: "datetime-local", id: "offer-until", value: end });
  const previewHost = h("div", { class: "campaign-previews", id: "campaign-previews" });
  const audienceHost = h("div", { class: "audience", id: "campaign-audience" });
  const previewLocales = h("div", { class: "preview-locales", id: "preview-locales" }, LOCALES.map((l) => h("label", {}, h("input", { type: "checkbox", value: l, checked: l === defaultLocale }), ` ${l}`)));
  const testTo = h("input", { type: "email", id: "campaign-test-to", placeholder: "you@example.com" });
  const testLocale = h("select", { id: "campaign-test-locale" }, LOCALES.map((l) => h("option", { value: l, selected: l === defaultLocale }, l)));
  const testResult = h("div", { id: "campaign-test-result" });
  const dataHost = h("div");
  // An A/B test is sent at one moment so the variants compare fairly: the API refuses local_time with
  // variants, so the checkbox is off while there are variants.
  const variants = variantsEditor({ onChange: () => {
    localTime.disabled = variants.count() > 0;
    if (localTime.disabled) localTime.checked = false;
  } });
  const results = campaignResults({ shop, zone });
  let data = dataForm(template.value, shopLocales, defaultLocale);
  const segment = segmentBuilder({ shop, initial: { rules: { all: [{ field: "marketing_consent", op: "=", value: true }] } } });
  // saved, named segments: load one into the rows, or save the rows under a name
  const savedPick = h("select", { id: "saved-segments" }, h("option", { value: "" }, "saved segments…"));
  const saveName = h("input", { id: "segment-save-name", placeholder: "name, e.g. Gold buyers of 60 days" });
  const savedNote = h("small", { id: "segment-save-note" });
  let saved = [];
  async function loadSaved() {
    saved = (await api("GET", `/admin/shops/${enc(shop)}/segments`).catch(() => ({ segments: [] }))).segments;
    clear(savedPick, h("option", { value: "" }, "saved segments…"), saved.map((sg) => h("option", { value: sg.segment_id }, sg.name)));
  }
  savedPick.addEventListener("change", () => {
    const found = saved.find((sg) => sg.segment_id === savedPick.value);
    if (found) { segment.set(found.rules); saveName.value = found.name; }
  });
  async function saveSegment() {
    const label = saveName.value.trim();
    if (!label) { savedNote.textContent = "give it a name"; return; }
    const id = label.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64) || `segment-${Date.now()}`;
    const existing = saved.find((sg) => sg.segment_id === id);
    try {
      await api("PUT", `/admin/shops/${enc(shop)}/segments/${enc(id)}`, { name: label, rules: segment.value().rules, version: existing ? existing.version : 0 });
      savedNote.textContent = `Saved “${label}”.`;
      await loadSaved(); savedPick.value = id;
    } catch (error) { savedNote.textContent = errorText(error); }
  }
  const savedRow = h("div", { class: "row saved-segments" }, field("Start from", savedPick), field("Save these rows as", saveName),
    h("button", { type: "button", id: "save-segment", onclick: saveSegment }, "Save segment"), savedNote);
  loadSaved();
  // A special day's days are the offer's window (the server refuses other dates): the day fields
  // and the offer's dates move together, the offer keeping its times of day.
  const offerWindow = { starts_at: validFrom, ends_at: validUntil };
  const dayInput = (key) => data.inputs.find((i) => i.spec.key === key)?.input;
  function linkDays() {
    for (const [key, offerInput] of Object.entries(offerWindow)) {
      const day = dayInput(key);
      if (!day) continue;
      day.value = offerInput.value.slice(0, 10);
      day.addEventListener("input", () => { if (day.value) offerInput.value = day.value + offerInput.value.slice(10); });
    }
  }
  for (const [key, offerInput] of Object.entries(offerWindow)) {
    offerInput.addEventListener("input", () => { const day = dayInput(key); if (day && offerInput.value) day.value = offerInput.value.slice(0, 10); });
  }
  template.addEventListener("change", () => { data = dataForm(template.value, shopLocales, defaultLocale); linkDays(); clear(dataHost, data.root); });
  linkDays();
  clear(dataHost, data.root);

  const form = h("form", { class: "card planner", id: "campaign-form", onsubmit: (e) => { e.preventDefault(); create(false); } },
      h("h3", {}, "Plan a campaign or special day"),
      h("div", { class: "row" }, field("Name", name), field("E-mail", template), field(`Send at (shop time, ${zone})`, sendAt),
        field("At this time on each customer's clock", localTime), field("Holdout %", holdout)),
      h("fieldset", {}, h("legend", {}, "Who gets it"), savedRow, segment.root),
      h("fieldset", {}, h("legend", {}, "What it says"), dataHost),
      h("fieldset", {}, h("legend", {}, "A/B test"), variants.root),
      h("fieldset", {}, h("legend", {}, "What it gives"), h("div", { class: "row" }, field("Code", codes), field("Discount %", discount),
        field("Free shipping", freeShipping), field(`Minimum order (${shopView.currency || ""})`, minOrder), field("Bonus points (claimed once)", bonus),
        field(`Valid from (${zone})`, validFrom), field(`Valid until (${zone})`, validUntil))),
      h("fieldset", {}, h("legend", {}, "Before it goes"),
        h("div", { class: "row" }, h("span", {}, "Preview in "), previewLocales, h("button", { type: "button", id: "preview-campaign", onclick: preview }, "Preview")),
        audienceHost, planPanel(shop, () => documentOf(), zone, markProblem), previewHost,
        h("div", { class: "row" }, field("Send a test to", testTo, "a confirmed test recipient (Sending tab)"), field("in", testLocale),
          h("button", { type: "button", id: "campaign-send-test", onclick: sendTest }, "Send test"), testResult)),
      message,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "create-campaign" }, "Schedule"),
        h("button", { type: "button", id: "send-now", onclick: () => { if (confirm("Send this campaign now?")) create(true); } }, "Send now")));

  // A 400 naming a field (the API's name: "send_at", "offer.valid_until", "data.title.de") marks
  // that input and says why beside it; editing the input clears the mark.
  const byField = { name, template, send_at: sendAt, local_time: localTime, holdout_percent: holdout, offer: codes,
    "offer.codes": codes, "offer.discount_percent": discount, "offer.free_shipping": freeShipping, "offer.min_order": minOrder,
    "offer.bonus_points": bonus, "offer.valid_from": validFrom, "offer.valid_until": validUntil,
    segment: segment.root, variants: variants.root, ab_test: variants.root, data: dataHost };
  const marked = new Set();
  function inputFor(fieldName) {
    const dataField = fieldName.match(/^data\.([^.]+)(?:\.([a-z]{2}))?$/);
    const found = dataField ? data.inputs.find((i) => i.spec.key === dataField[1] && (i.locale || null) === (i.spec.localized ? dataField[2] || defaultLocale : null)) : null;
    return found ? found.input : byField[fieldName];
  }
  function markProblem(error) {
    for (const input of marked) showProblem(input, null);
    marked.clear();
    markServerProblem(error, (fieldName) => { const input = inputFor(fieldName); if (input) marked.add(input); return input; });
  }
  form.addEventListener("input", (event) => {
    for (const input of marked) if (input === event.target || input.contains(event.target)) { showProblem(input, null); marked.delete(input); }
  });

  function documentOf(now = false) {
    const offered = codes.value || Number(bonus.value) > 0;
    const offer = offered ? {
      codes: codes.value || null, discount_percent: codes.value && discount.value ? Number(discount.value) : null,
      free_shipping: !!codes.value && freeShipping.checked, min_order: codes.value && minOrder.value ? Number(minOrder.value) : null,
      bonus_points: Number(bonus.value) > 0 ? Number(bonus.value) : null, valid_from: validFrom.value, valid_until: validUntil.value } : null;
    const values = data.value();
    // what the mail says about the offer (free shipping, minimum, dates) the server fills from the offer
    return { name: name.value.trim(), template: template.value, segment: segment.value(), data: values, offer,
      send_at: now ? "now" : sendAt.value,  // "now": at the service's time (a past send_at is refused)
      local_time: !now && localTime.checked, holdout_percent: Number(holdout.value) || 0, ...variants.value() };
  }

  function checkFilled() {
    const missing = data.missing();
    if (!name.value.trim()) missing.unshift("Name");
    if (missing.length) { notice(message, `Fill in: ${missing.join(", ")}`, "error"); return false; }
    return true;
  }

  async function preview() {
    if (!checkFilled()) return;
    const locales = [...previewLocales.querySelectorAll("input:checked")].map((i) => i.value);
    try {
      const answer = await api("POST", `/admin/shops/${enc(shop)}/campaign-preview`, { ...documentOf(), locales });
      clear(message);
      const a = answer.audience;
      const skipped = Object.entries(a.skipped).map(([reason, n]) => `${formatNumber(n)} ${reason.replace(/_/g, " ")}`);
      clear(audienceHost, h("div", { class: "card" },
        h("strong", { id: "audience-receiving" }, `${formatNumber(a.receiving)} of ${formatNumber(a.members)} customers will get it`),
        skipped.length ? h("div", {}, `Not sent: ${skipped.join(", ")}`) : null,
        h("div", {}, "By language: ", Object.entries(a.by_locale).map(([l, n]) => `${LANGUAGE[l] || l} ${formatNumber(n)}`).join(" · ") || "nobody"),
        a.complete ? null : h("div", { class: "hint" }, `Counted over the first ${formatNumber(a.members)} members.`),
        h("div", { id: "campaign-times" }, `Goes out ${formatTime(answer.times.send_at.utc, zone)} (${zone})`,
          answer.times.offer_from ? ` · offer ${formatTime(answer.times.offer_from.utc, zone)} – ${formatTime(answer.times.offer_until.utc, zone)}` : "")));
      clear(previewHost, Object.entries(answer.previews).map(([locale, p]) => h("figure", { class: "campaign-preview", "data-locale": locale },
        h("figcaption", {}, h("strong", {}, LANGUAGE[locale] || locale), " · ", p.ok ? (p.sample ? "a sample customer (nobody in the segment speaks it)" : `as ${p.recipient} will get it`) : ""),
        p.ok ? [h("div", { class: "subject-line" }, "Subject: ", h("span", { class: "subject" }, p.subject)), h("div", { class: "hint" }, p.preheader),
          h("iframe", { class: "preview mobile", sandbox: "", srcdoc: p.html, title: `${locale} preview` })]
          : h("div", { class: "notice error" }, p.error))));
      markProblem(null);
    } catch (error) { markProblem(error); notice(message, errorText(error), "error"); }
  }

  async function sendTest() {
    if (!checkFilled()) return;
    try {
      const sent = await api("POST", `/admin/shops/${enc(shop)}/campaign-test-send`, { ...documentOf(), locale: testLocale.value, to: testTo.value });
      notice(testResult, `Sent “${sent.subject}” to ${sent.to}.`);
      markProblem(null);
    } catch (error) { markProblem(error); notice(testResult, errorText(error), "error"); }
  }

  async function create(now) {
    if (!checkFilled()) return;
    try {
      const created = await api("POST", base, documentOf(now));
      notice(message, now ? `“${created.name}” goes out now.` : `Planned “${created.name}” for ${formatTime(created.send_at, zone)} (${zone}).`);
      markProblem(null);
      loadList();
    } catch (error) { markProblem(error); notice(message, errorText(error), "error"); }
  }

  async function act(id, action) {
    try { await api("POST", `${base}/${enc(id)}/${action}`); loadList(); }
    catch (error) { notice(message, errorText(error), "error"); }
  }

  const latestList = latestOnly();  // a list asked for earlier (the 5 s refresh) must not replace a newer one
  async function loadList() {
    const ticket = latestList.take();
    const { campaigns } = await api("GET", base);
    campaigns.sort((a, b) => b.send_at.localeCompare(a.send_at));
    const rows = await Promise.all(campaigns.map(async (c) => {
      const stats = ["sending", "done", "stopped", "paused", "cancelled"].includes(c.status)
        ? await api("GET", `${base}/${enc(c.campaign_id)}/stats`).catch(() => null) : null;
      return h("tr", { "data-campaign": c.campaign_id },
        h("td", {}, h("a", { href: "#", class: "campaign-results-link", onclick: (event) => { event.preventDefault(); results.show(c.campaign_id); } }, c.name),
          c.variants && c.variants.length ? h("small", {}, ` · A/B ${c.variants.length}`) : null,
          c.holdout_percent ? h("small", {}, ` · holdout ${c.holdout_percent} %`) : null),
        h("td", {}, TEMPLATE_LABELS[c.template] || c.template), h("td", {}, formatTime(c.send_at, zone)),
        h("td", { class: `status ${c.status}` }, c.status),
        h("td", {}, `${formatNumber(c.queued)} queued`, stats ? ` · ${formatNumber(stats.sent)} sent` : ""),
        h("td", {}, stats ? `${formatNumber(stats.delivered)} delivered · ${formatNumber(stats.unique_clicks)} clicked · ${formatNumber(stats.orders)} orders · ${formatMoney(stats.revenue, stats.currency)}` : "–"),
        h("td", {}, (ACTIONS[c.status] || []).map((a) => h("button", { class: "small", "data-action": a, onclick: () => act(c.campaign_id, a) }, a))));
    }));
    if (!latestList.isLatest(ticket)) return;
    clearTimeout(loadList.timer);
    if (campaigns.some((c) => ["sending", "scheduled"].includes(c.status)) && document.body.contains(list)) {
      loadList.timer = setTimeout(() => loadList().catch(() => {}), 5000);
    }
    clear(list, campaigns.length ? h("table", { class: "list" },
      h("thead", {}, h("tr", {}, ["Name", "E-mail", `Send at (${zone})`, "Status", "Progress", "Results", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, rows)) : h("p", {}, "No campaigns yet."));
  }

  clear(main, h("h2", {}, "Campaigns"), list, results.root, form);
  await loadList();
}
