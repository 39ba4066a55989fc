import { EditorView, basicSetup } from "codemirror";
import { Decoration } from "@codemirror/view";
import { StateEffect, StateField } from "@codemirror/state";
import { html } from "@codemirror/lang-html";
import { jinja } from "@codemirror/lang-jinja";
import { api, enc } from "./api.js";
import { h, clear, debounce, errorText, field, notice } from "./dom.js";
import { textsForm } from "./texts.js";
import { formatMoney, formatNumber, formatTime } from "./numbers.js";

const LOCALES = ["en", "de", "ru", "uk"];

// What sends each e-mail, in the words a marketer uses (the rules live in domain/mail/outbox.py,
// domain/lifecycle and the program's settings).
const TRIGGERS = {
  post_purchase: "after a paid order", points_expiring: "30 and 7 days before points lapse",
  special_day: "when you send a campaign or special day", tier_upgrade: "when a customer reaches a higher tier",
  reward_code: "when points are turned into a code", referral_reward: "when a referred friend orders",
  welcome: "when a customer joins the program", birthday: "on the customer's birthday",
  winback: (program) => `${program?.winback_after_days || 90} days after the last order`,
  tier_at_risk: "before a tier would drop", achievement: "when a customer earns an achievement",
  membership_reminder: "before a paid membership ends", shipment_update: "when the order ships or arrives",
  flow_message: "a step of a multi-step flow (switched per flow)",
  personal_offer: "when you e-mail an individual offer to its customers",
};

export async function templatesView(main, shop) {
  const [{ templates }, flows, program, settings] = await Promise.all([
    api("GET", `/admin/shops/${enc(shop)}/templates`),
    api("GET", `/admin/shops/${enc(shop)}/flows/stats`).catch(() => ({ flows: [] })),
    api("GET", `/admin/shops/${enc(shop)}/program`).catch(() => null),
    api("GET", `/admin/shops/${enc(shop)}`).catch(() => ({}))]);
  const zone = settings.timezone;
  const results = Object.fromEntries(flows.flows.map((f) => [f.template, f]));
  const trigger = (t) => (typeof TRIGGERS[t] === "function" ? TRIGGERS[t](program?.program || program) : TRIGGERS[t] || "");
  clear(main, h("h2", {}, "E-mails and what sends them"), h("table", { class: "list", id: "template-list" },
    h("thead", {}, h("tr", {}, ["E-mail", "Sent", "On", `Last sent (${zone || "UTC"})`, "Words and layout", "Results", `Last saved (${zone || "UTC"})`].map((t) => h("th", {}, t)))),
    h("tbody", {}, templates.map((t) => {
      const r = results[t.template];
      return h("tr", { "data-template": t.template },
        h("td", {}, h("a", { href: `#/templates/${enc(t.template)}` }, t.template)),
        h("td", {}, trigger(t.template)),
        h("td", { class: "flow-switch" }, r?.switchable ? flowSwitch(shop, t.template, r.on) : h("span", { class: "hint" }, "always")),
        h("td", { class: "last-sent" }, r?.last_sent_at ? formatTime(r.last_sent_at, zone) : "never"),
        h("td", {}, [t.overridden ? "own layout" : "default layout", t.own_texts?.length ? `own words: ${t.own_texts.join(", ")}` : null].filter(Boolean).join(" · "), t.version ? ` (v${t.version})` : ""),
        h("td", {}, r ? `${formatNumber(r.sent)} sent · ${formatNumber(r.unique_clicks)} clicked · ${formatNumber(r.orders)} orders · ${formatMoney(r.revenue, r.currency)}` : "–"),
        h("td", {}, t.updated_at ? formatTime(t.updated_at, zone) : "–"));
    }))));
}

// On: the shop sends it; off: none goes out (the daily jobs queue none, queued ones are skipped).
function flowSwitch(shop, template, on) {
  const box = h("input", { type: "checkbox", checked: on, "aria-label": `send ${template}`, "data-flow": template });
  const note = h("small", { class: "flow-note" }, on ? "on" : "off");
  box.addEventListener("change", async () => {
    box.disabled = true;
    try {
      const answer = await api("PUT", `/admin/shops/${enc(shop)}/flows/${enc(template)}/switch`, { on: box.checked });
      note.textContent = answer.on ? "on" : "off";
    } catch (error) {
      box.checked = !box.checked;
      note.textContent = errorText(error);
    } finally { box.disabled = false; }
  });
  return h("label", { class: "switch" }, box, " ", note);
}

// The line of the last render error, highlighted in the editor.
const setErrorLine = StateEffect.define();
const errorLine = StateField.define({
  create: () => Decoration.none,
  update(value, tr) {
    value = value.map(tr.changes);
    for (const effect of tr.effects) {
      if (!effect.is(setErrorLine)) continue;
      const line = effect.value;
      if (!line || line > tr.state.doc.lines) return Decoration.none;
      const from = tr.state.doc.line(line).from;
      return Decoration.set([Decoration.line({ class: "cm-error-line" }).range(from)]);
    }
    return value;
  },
  provide: (field) => EditorView.decorations.from(field),
});

export async function editorView(main, shop, name) {
  const base = `/admin/shops/${enc(shop)}/templates/${enc(name)}`;
  const [current, samples, shopView] = await Promise.all([
    api("GET", base), api("GET", "/admin/sample-customers"), api("GET", `/admin/shops/${enc(shop)}`)]);
  let version = current.version;
  const locale = h("select", { id: "preview-locale" }, LOCALES.map((l) => h("option", { value: l, selected: l === shopView.default_locale }, l)));
  const sample = h("select", { id: "preview-customer" }, samples.sample_customers.map((s) => h("option", { value: s.id, title: s.description }, s.description)));
  const status = h("div", { class: "status-line", id: "editor-status" });
  const subject = h("div", { class: "subject", id: "preview-subject" });
  const desktop = h("iframe", { id: "preview-desktop", class: "preview desktop", sandbox: "", title: "desktop preview" });
  const mobile = h("iframe", { id: "preview-mobile", class: "preview mobile", sandbox: "", title: "mobile preview" });
  const errorBox = h("div", { id: "preview-error" });
  const versionLabel = h("span", { id: "template-version" });
  const history = h("div", { class: "history", id: "template-history" });
  const testTo = h("input", { type: "email", id: "test-to", placeholder: "you@example.com" });
  const testResult = h("div", { id: "test-result" });
  const editorHost = h("div", { class: "editor", id: "mjml-editor" });
  let mode = "words";
  const refresh = debounce(() => preview(), 350);
  const texts = textsForm({ shop, template: name, onInput: refresh });
  const codePane = h("div", { class: "code-pane", hidden: true }, h("p", { class: "hint" },
    "The e-mail's layout in MJML and Jinja: for designers. The words are in the Words tab."), editorHost);
  const modeButtons = h("div", { class: "mode-tabs", role: "tablist" },
    h("button", { id: "mode-words", class: "tab active", onclick: () => setMode("words") }, "Words"),
    h("button", { id: "mode-code", class: "tab", onclick: () => setMode("code") }, "Code (MJML)"));
  function setMode(next) {
    mode = next;
    texts.root.hidden = next !== "words";
    codePane.hidden = next !== "code";
    modeButtons.querySelectorAll("button").forEach((b) => b.classList.toggle("active", b.id === `mode-${next}`));
  }
  const editor = new EditorView({
    doc: current.mjml,
    extensions: [basicSetup, jinja({ base: html() }), errorLine, EditorView.lineWrapping,
      EditorView.updateListener.of((update) => { if (update.docChanged) refresh(); })],
    parent: editorHost,
  });

  function showVersion() { versionLabel.textContent = version ? `version ${version}` : "default template"; }

  let previewRun = 0;
  async function preview() {
    const run = ++previewRun;  // an older answer arriving late must not mark the fields again
    try {
      const mjml = editor.state.doc.toString();
      const result = await api("POST", `${base}/preview`, { mjml: mjml === current.mjml ? undefined : mjml,
        texts: texts.locale() === locale.value ? texts.values() : undefined, locale: locale.value, sample_customer: sample.value });
      if (run !== previewRun) return;
      texts.recheck();
      if (!result.ok) {
        const said = result.explanation || result.error;
        clear(errorBox, h("div", { class: "notice error", id: "preview-error-message" },
          result.editor_line ? `Line ${result.editor_line}: ${said}` : said,
          result.explanation ? h("details", {}, h("summary", {}, "details"), result.error) : null));
        editor.dispatch({ effects: setErrorLine.of(result.editor_line) });
        return;
      }
      clear(errorBox);
      editor.dispatch({ effects: setErrorLine.of(null) });
      subject.textContent = result.subject;
      desktop.srcdoc = result.html;
      mobile.srcdoc = result.html;
    } catch (error) {
      if (run !== previewRun) return;
      clear(errorBox, h("div", { class: "notice error", id: "preview-error-message" }, errorText(error)));
      texts.markServerError(error);
    }
  }

  async function saveTexts() {
    try {
      const saved = await texts.save(version);
      version = saved.version;
      showVersion();
      await loadHistory();
      notice(status, `Saved the ${locale.value} texts as version ${version}.`);
    } catch (error) {
      notice(status, errorText(error), "error");
      texts.markServerError(error);
    }
  }

  async function save() {
    if (mode === "words") { await saveTexts(); return; }
    try {
      const saved = await api("PUT", base, { mjml: editor.state.doc.toString(), version });
      version = saved.version;
      current.mjml = editor.state.doc.toString();
      showVersion();
      notice(status, `Saved as version ${version}.`);
      loadHistory();
    } catch (error) {
      notice(status, errorText(error), "error");
      if (error.body && error.body.line) editor.dispatch({ effects: setErrorLine.of(error.body.line) });
    }
  }

  async function loadHistory() {
    const [{ revisions }, settings] = await Promise.all([api("GET", `${base}/revisions`),
      api("GET", `/admin/shops/${enc(shop)}`).catch(() => ({}))]);
    clear(history, h("h3", {}, "History"), revisions.length ? h("ul", {}, revisions.map((r) => h("li", { class: r.current ? "current" : "" },
      h("button", { class: "link", "data-version": r.version, onclick: () => showRevision(r.revision) }, `v${r.version}`),
      ` ${formatTime(r.saved_at, settings.timezone)} · ${r.saved_by || "?"}${r.note ? ` · ${r.note}` : ""}${r.current ? " · current" : ""}`))) : h("p", {}, "Not saved yet: the default template is in use."));
  }

  async function showRevision(revision) {
    let found;
    try { found = await api("GET", `${base}/revisions/${enc(revision)}`); }
    catch (error) { notice(status, errorText(error), "error"); return; }
    history.querySelector("#revision-diff")?.remove();
    const rollback = h("button", { id: "rollback", onclick: async () => {
      try {
        const saved = await api("POST", `${base}/revisions/${enc(revision)}/rollback`, { version });
        version = saved.version;
        current.mjml = found.mjml;
        editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: found.mjml } });
        await texts.load(locale.value);
        showVersion();
        notice(status, `Rolled back to version ${found.version}: saved as version ${version}.`);
        loadHistory();
      } catch (error) { notice(status, errorText(error), "error"); }
    } }, `Roll back to v${found.version}`);
    history.append(h("div", { class: "diff", id: "revision-diff" }, h("h4", {}, `Version ${found.version} against the current template`),
      h("pre", {}, found.diff ? found.diff.split("\n").map((line) => h("span", { class: line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : "" }, line + "\n")) : "The same layout."),
      found.texts_diff ? h("pre", { id: "texts-diff" }, found.texts_diff.split("\n").map((line) => h("span", { class: line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : "" }, line + "\n"))) : h("p", {}, "The same words."),
      rollback));
  }

  async function sendTest() {
    try {
      const mjml = editor.state.doc.toString();
      const sent = await api("POST", `${base}/test-send`, { mjml: mjml === current.mjml ? undefined : mjml, texts: texts.values(), locale: locale.value, sample_customer: sample.value, to: testTo.value });
      notice(testResult, `Sent “${sent.subject}” to ${sent.to}.`);
    } catch (error) { notice(testResult, errorText(error), "error"); }
  }

  // The form holds one language's words: another language's replace them, so words typed and not
  // saved are dropped only when the marketer says so (they vanished without a word).
  locale.addEventListener("change", async () => {
    if (texts.dirty() && !confirm(`Your ${texts.locale()} words are not saved. Switch to ${locale.value} and drop them?`)) {
      locale.value = texts.locale();
      return;
    }
    await texts.load(locale.value);
    preview();
  });
  sample.addEventListener("change", preview);
  showVersion();
  clear(main,
    h("div", { class: "editor-head" }, h("a", { href: "#/templates" }, "← Templates"), h("h2", {}, name), versionLabel,
      h("button", { class: "primary", id: "save-template", onclick: save }, "Save"),
      h("button", { id: "reset-texts", onclick: async () => {
        if (!confirm(`Use the default ${locale.value} texts again? The history stays.`)) return;
        try { await texts.reset(); await texts.load(locale.value); version = texts.version(); showVersion(); notice(status, `The ${locale.value} texts are the defaults again.`); preview(); loadHistory(); }
        catch (error) { notice(status, errorText(error), "error"); }
      } }, "Reset texts"),
      h("button", { id: "reset-template", onclick: async () => {
        if (!confirm("Go back to the default layout? Your texts and the history stay.")) return;
        await api("DELETE", base); location.reload();
      } }, "Default layout")),
    status,
    h("div", { class: "editor-grid" },
      h("section", {}, modeButtons, texts.root, codePane, errorBox, history),
      h("section", {},
        h("div", { class: "preview-controls" }, field("Language", locale), field("Sample customer", sample)),
        h("div", { class: "subject-line" }, h("span", {}, "Subject: "), subject),
        h("div", { class: "previews" }, h("figure", {}, h("figcaption", {}, "Desktop"), desktop), h("figure", {}, h("figcaption", {}, "Mobile"), mobile)),
        h("div", { class: "test-send" }, field("Send a test to", testTo, "a confirmed test recipient (Sending tab)"), h("button", { id: "send-test", onclick: sendTest }, "Send test"), testResult))));
  await texts.load(locale.value);
  await Promise.all([preview(), loadHistory()]);
}
