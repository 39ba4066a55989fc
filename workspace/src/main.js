import "./style.css";
import { api, setCsrf, SESSION_ENDED } from "./api.js";
import { h, clear, errorText } from "./dom.js";
import { templatesView, editorView } from "./templates.js";
import { campaignsView } from "./campaigns.js";
import { programView } from "./program.js";
import { dashboardView } from "./dashboard.js";
import { customersView } from "./customers.js";
import { sendingView } from "./sending.js";
import { brandView } from "./brand.js";
import { flowsView } from "./flows.js";

const root = document.getElementById("app");
const state = { session: null, shop: null, ended: false };

const TABS = [
  ["dashboard", "Dashboard"], ["templates", "Templates"], ["campaigns", "Campaigns"], ["flows", "Flows"],
  ["program", "Program"], ["brand", "Brand"], ["customers", "Customers"], ["sending", "Sending"],
];

async function start() {
  try {
    state.session = await api("GET", "/admin/session");
    setCsrf(state.session.csrf_token);
  } catch {
    state.session = null;
  }
  render();
}

function signInView() {
  const key = h("input", { type: "password", id: "signin-key", autocomplete: "current-password", required: true,
    placeholder: "admin token or your shop's admin key" });
  const message = h("div", { class: "signin-message", id: "signin-message" }, state.ended
    ? h("div", { class: "notice error", role: "status" }, "Your session has ended (after 12 hours, on signing out elsewhere or when the key is revoked): sign in again to go on.")
    : null);
  const form = h("form", { class: "signin", onsubmit: async (event) => {
    event.preventDefault();
    try {
      state.session = await api("POST", "/admin/session", { key: key.value });
      setCsrf(state.session.csrf_token);
      state.ended = false;
      // back where the session ended, or the dashboard on a first sign-in
      if (!location.hash.startsWith("#/")) location.hash = "#/dashboard";
      render();
    } catch (error) {
      clear(message, h("div", { class: "notice error" }, errorText(error)));
    }
  } },
  h("h1", {}, "Loyalty mail"), h("p", {}, "Sign in to your shop's workspace."),
  h("label", { class: "field" }, h("span", {}, "Key"), key), h("button", { type: "submit", class: "primary" }, "Sign in"),
  message);
  return h("main", { class: "signin-page" }, form);
}

function render() {
  if (!state.session) { clear(root, signInView()); return; }
  const shops = state.session.shops || [];
  const wanted = new URLSearchParams(location.hash.split("?")[1] || "").get("shop");
  state.shop = shops.find((s) => s.shop_id === wanted)?.shop_id || state.shop || state.session.shop_id || shops[0]?.shop_id;
  const [, tab = "dashboard", ...rest] = (location.hash.split("?")[0] || "#/dashboard").split("/");
  const shopPicker = shops.length > 1 && !state.session.shop_id
    ? h("select", { id: "shop-picker", onchange: (e) => { state.shop = e.target.value; render(); } },
      shops.map((s) => h("option", { value: s.shop_id, selected: s.shop_id === state.shop }, s.shop_id)))
    : h("strong", { id: "shop-name" }, state.shop || "no shop");
  const nav = h("nav", {}, TABS.map(([id, label]) => h("a", { href: `#/${id}`, class: id === tab ? "active" : "" }, label)));
  const header = h("header", { class: "top" }, h("span", { class: "brand" }, "Loyalty mail"), shopPicker, nav,
    h("span", { class: "who" }, state.session.label),
    h("button", { class: "link", onclick: async () => { await api("DELETE", "/admin/session").catch(() => {}); state.session = null; render(); } }, "Sign out"));
  const main = h("main", { class: "content" });
  clear(root, header, main);
  if (!state.shop) { main.append(h("p", {}, "No shop yet: create one with PUT /admin/shops/{shop_id}.")); return; }
  const views = {
    dashboard: () => dashboardView(main, state.shop),
    templates: () => (rest[0] ? editorView(main, state.shop, decodeURIComponent(rest[0])) : templatesView(main, state.shop)),
    campaigns: () => campaignsView(main, state.shop),
    flows: () => flowsView(main, state.shop, rest[0] ? decodeURIComponent(rest[0]) : ""),
    program: () => programView(main, state.shop),
    customers: () => customersView(main, state.shop, rest[0] ? decodeURIComponent(rest[0]) : "", state.session.role),
    sending: () => sendingView(main, state.shop),
    brand: () => brandView(main, state.shop),
  };
  (views[tab] || views.dashboard)().catch((error) => main.append(h("div", { class: "notice error" }, errorText(error))));
}

window.addEventListener("hashchange", render);
window.addEventListener(SESSION_ENDED, () => {
  if (!state.session) return;
  state.session = null;
  state.ended = true;
  render();
});
start();
