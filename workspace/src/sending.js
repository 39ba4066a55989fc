import { api, enc } from "./api.js";
import { h, clear, errorText, field, notice } from "./dom.js";
import { formatNumber, formatTime } from "./numbers.js";

// The shop's sending domain: the DNS records to publish, SES's status, held mail, and the
// addresses that may receive test e-mails (each confirmed by its owner).
export async function sendingView(main, shop) {
  const base = `/admin/shops/${enc(shop)}`;
  const message = h("div", { id: "sending-message" });
  const domainsBox = h("div", { id: "sender-domains" });
  const recipientsBox = h("div", { id: "test-recipients" });
  const zone = (await api("GET", base).catch(() => ({}))).timezone;

  async function loadDomains() {
    const view = await api("GET", `${base}/sender-domains`);
    const sending = view.sending;
    const banner = sending.status === "ready"
      ? h("div", { class: "notice ok", id: "sending-status" }, `Mail goes out from ${view.sender_email}.`)
      : h("div", { class: "notice error", id: "sending-status" },
        `Mail from ${view.sender_email} is held (${sending.reason.replaceAll("_", " ")}): ${formatNumber(sending.held_messages)} ${sending.held_messages === 1 ? "message waits" : "messages wait"}. ` +
        "Publish the records below; held mail goes out once SES has verified the domain.");
    clear(domainsBox, banner, view.domains.map(domainCard));
  }

  function domainCard(d) {
    const check = h("button", { class: "small", onclick: async () => {
      try { await api("GET", `${base}/sender-domains/${enc(d.domain)}`); await loadDomains(); }
      catch (error) { notice(message, errorText(error), "error"); }
    } }, "Check again");
    const remove = h("button", { class: "small", onclick: async () => {
      if (!confirm(`Remove ${d.display_name}? Its SES identity is deleted too.`)) return;
      try { await api("DELETE", `${base}/sender-domains/${enc(d.domain)}`); await loadDomains(); }
      catch (error) { notice(message, errorText(error), "error"); }
    } }, "Remove");
    return h("div", { class: "card domain", "data-domain": d.domain },
      h("h3", {}, d.display_name, d.display_name !== d.domain ? h("small", { class: "hint" }, ` (${d.domain})`) : null, " ",
        h("span", { class: `badge ${d.status}` }, d.status), " ", check, remove),
      h("p", { class: "hint" }, `DKIM ${d.dkim.status} · MAIL FROM ${d.mail_from.domain || "-"} ${d.mail_from.status || ""}` +
        (d.checked_at ? ` · checked ${formatTime(d.checked_at, zone)}${zone ? ` (${zone})` : ""}` : "")),
      d.note ? h("p", { class: "hint" }, d.note) : null,
      h("table", { class: "list records" },
        h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Type"), h("th", {}, "Value"), h("th", {}, "Why"))),
        h("tbody", {}, d.records.map((r) => h("tr", { class: r.required ? "" : "optional" },
          h("td", {}, h("code", {}, r.name)), h("td", {}, r.type), h("td", {}, h("code", {}, r.value)),
          h("td", { class: "hint" }, (r.required ? "" : "suggested · ") + r.purpose))))));
  }

  async function loadRecipients() {
    const { recipients, limit } = await api("GET", `${base}/test-recipients`);
    clear(recipientsBox, recipients.length
      ? h("table", { class: "list" }, h("tbody", {}, recipients.map((r) => h("tr", { "data-email": r.email },
        h("td", {}, r.email), h("td", { class: `status ${r.status}` }, r.status === "confirmed" ? "confirmed" : "waiting for the owner's confirmation"),
        h("td", {}, h("button", { class: "small", onclick: async () => {
          try { await api("DELETE", `${base}/test-recipients/${enc(r.email)}`); await loadRecipients(); }
          catch (error) { notice(message, errorText(error), "error"); }
        } }, "Remove"))))))
      : h("p", { class: "hint" }, "No test recipients yet."),
    h("p", { class: "hint" }, `At most ${formatNumber(limit)}. Each address gets one e-mail with a link; test e-mails go only to confirmed addresses.`));
  }

  const domain = h("input", { id: "new-domain", placeholder: "shop.example" });
  const mailFrom = h("input", { id: "new-mail-from", placeholder: "bounce", size: 10 });
  const register = h("form", { class: "row", onsubmit: async (event) => {
    event.preventDefault();
    try {
      await api("POST", `${base}/sender-domains`, { domain: domain.value, ...(mailFrom.value ? { mail_from_subdomain: mailFrom.value } : {}) });
      domain.value = ""; notice(message, "Registered: publish its records at your DNS host."); await loadDomains();
    } catch (error) { notice(message, errorText(error), "error"); }
  } }, field("Register a sending domain", domain), field("MAIL FROM subdomain", mailFrom), h("button", { type: "submit", id: "register-domain" }, "Register"));
  const email = h("input", { id: "new-test-recipient", type: "email", placeholder: "you@agency.example" });
  const addRecipient = h("form", { class: "row", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const added = await api("POST", `${base}/test-recipients`, { email: email.value });
      notice(message, added.status === "confirmed" ? `${added.email} is confirmed.` : `A confirmation e-mail went to ${added.email}.`);
      email.value = ""; await loadRecipients();
    } catch (error) { notice(message, errorText(error), "error"); }
  } }, field("Add a test recipient", email), h("button", { type: "submit", id: "add-test-recipient" }, "Add"));

  clear(main, h("h2", {}, "Sending domain"), message, domainsBox, register, h("h2", {}, "Test recipients"), recipientsBox, addRecipient);
  await Promise.all([loadDomains(), loadRecipients()]);
}
