import { api, enc } from "./api.js";
import { h, clear, errorText, field, notice } from "./dom.js";

// The shop's multi-step flows (docs/flows.md): the list, an editor for a flow's steps that saves
// through PUT /flow-definitions/{id} (the API names a bad field; it is shown at its step), and the
// per-step funnel from the runs' counters.

const CHECKS = ["not_ordered_since_start", "ordered_since_start", "points_above", "in_segment", "checkout_open"];
const PRESETS = ["second_purchase", "review_request", "checkout_reminder", "checkout_last_call", "custom"];
const LINKS = ["shop", "checkout", "review"];
const STEP_TYPES = ["wait", "condition", "send", "exit"];

let loads = 0; // a late answer for an older view never replaces a newer one

export function triggerText(trigger) {
  const t = trigger || {};
  if (t.kind === "date") {
    const day = t.date_field === "calendar" ? `calendar day ${t.calendar_date}` : t.date_field?.replaceAll("_", " ");
    const offset = t.offset_days ? `${Math.abs(t.offset_days)} days ${t.offset_days < 0 ? "before" : "after"} ` : "on ";
    return `${offset}${day}${t.local_hour !== undefined ? ` at ${t.local_hour}:00` : ""}`;
  }
  return (t.kind || "").replaceAll("_", " ") + (t.min_points ? ` (≥ ${t.min_points} points)` : "") + (t.tier ? ` (${t.tier})` : "");
}

export function stepText(step) {
  if (step.type === "wait") return `wait ${step.days ? `${step.days} d` : ""}${step.days && step.hours ? " " : ""}${step.hours ? `${step.hours} h` : ""}`;
  if (step.type === "condition") return `if ${step.check.replaceAll("_", " ")}${step.points !== undefined ? ` ${step.points}` : ""}`;
  if (step.type === "send") return `send ${step.preset}${step.offer ? " + code" : ""}`;
  return "exit";
}

// Per step: entered, sent, left by its condition, and still waiting there (entered, minus those who
// left, minus those who went on to the next step or finished).
export function funnelRows(flow) {
  const steps = flow.funnel?.steps || [];
  return steps.map((s, i) => {
    const onward = i + 1 < steps.length ? steps[i + 1].reached : flow.funnel.completed;
    return { step: i, type: s.type, entered: s.reached, sent: s.sent, exited: s.exited,
      waiting: Math.max(0, s.reached - s.exited - onward) };
  });
}

export async function flowsView(main, shop, flowId) {
  const load = ++loads;
  if (flowId) return editFlow(main, shop, flowId, load);
  const { flows } = await api("GET", `/admin/shops/${enc(shop)}/flow-definitions`);
  if (load !== loads) return;
  clear(main, h("h2", {}, "Flows"),
    h("p", { class: "hint" }, "Each flow is a trigger and steps; a customer who no longer meets a condition leaves the flow."),
    h("table", { class: "list", id: "flow-list" },
      h("thead", {}, h("tr", {}, ["Flow", "Trigger", "On", "Steps", "Started", "Completed"].map((t) => h("th", {}, t)))),
      h("tbody", {}, flows.map((f) => h("tr", { "data-flow": f.flow_id },
        h("td", {}, h("a", { href: `#/flows/${enc(f.flow_id)}` }, f.name)),
        h("td", {}, triggerText(f.trigger)),
        h("td", { class: "flow-on" }, f.enabled ? "on" : "off"),
        h("td", { class: "flow-steps" }, f.steps.map(stepText).join(" → ")),
        h("td", {}, String(f.funnel.started)), h("td", {}, String(f.funnel.completed)))))));
}

async function editFlow(main, shop, flowId, load) {
  const path = `/admin/shops/${enc(shop)}/flow-definitions/${enc(flowId)}`;
  const flow = await api("GET", path);
  if (load !== loads) return;
  let steps = flow.steps.map((s) => structuredClone(s));
  const message = h("div", { id: "flow-message" });
  const name = h("input", { id: "flow-name", value: flow.name, maxlength: 120 });
  const enabled = h("input", { type: "checkbox", id: "flow-enabled", checked: flow.enabled });
  const stepsBox = h("div", { id: "flow-steps" });
  const funnelBox = h("div", { id: "flow-funnel" });
  let version = flow.version;

  function number(value, attrs, onchange) {
    return h("input", { type: "number", value: value ?? "", ...attrs,
      onchange: (e) => onchange(e.target.value === "" ? undefined : Number(e.target.value)) });
  }
  function select(options, value, attrs, onchange) {
    return h("select", { ...attrs, onchange: (e) => onchange(e.target.value) },
      options.map((o) => h("option", { value: o, selected: o === value }, o.replaceAll("_", " "))));
  }

  function stepFields(step, i) {
    const set = (key) => (value) => { if (value === undefined || value === "") delete step[key]; else step[key] = value; };
    if (step.type === "wait") {
      return [field("Days", number(step.days, { min: 0, max: 365, class: "wait-days" }, set("days"))),
        field("Hours", number(step.hours, { min: 0, class: "wait-hours" }, set("hours")))];
    }
    if (step.type === "condition") {
      const segment = h("textarea", { rows: 3, class: "condition-segment", placeholder: '{"rules": {...}}',
        onchange: (e) => { try { step.segment = e.target.value ? JSON.parse(e.target.value) : undefined; } catch { step.segment = e.target.value; } } },
      step.segment ? JSON.stringify(step.segment) : "");
      return [field("Check", select(CHECKS, step.check, { class: "condition-check" }, (v) => { step.check = v; renderSteps(); })),
        step.check === "points_above" ? field("Points above", number(step.points, { min: 0, class: "condition-points" }, set("points"))) : null,
        step.check === "in_segment" ? field("Segment", segment) : null];
    }
    if (step.type === "send") {
      const offer = step.offer || {};
      return [field("Words", select(PRESETS, step.preset || "custom", { class: "send-preset" }, set("preset")),
        step.copy ? "the shop's own words per language" : "every language from the catalog"),
      field("Button leads to", select(LINKS, step.link || "shop", { class: "send-link" }, set("link"))),
      field("Code: % off", number(offer.discount_percent, { min: 0, max: 100, step: "any", class: "send-discount" }, (v) => {
        if (v === undefined) delete step.offer; else step.offer = { ...(step.offer || {}), discount_percent: String(v) };
      })),
      field("Recommendations", h("input", { type: "checkbox", class: "send-recommendations", checked: !!step.recommendations,
        onchange: (e) => { step.recommendations = e.target.checked; } }))];
    }
    return [h("span", { class: "hint" }, "the customer leaves the flow here")];
  }

  function renderSteps() {
    clear(stepsBox, steps.map((step, i) => h("fieldset", { class: "card flow-step", "data-step": i },
      h("legend", {}, `Step ${i + 1}: ${step.type}`),
      h("div", { class: "row" }, stepFields(step, i)),
      h("div", { class: "step-error", "data-step-error": i }),
      h("div", { class: "row" },
        h("button", { type: "button", class: "small", disabled: i === 0, onclick: () => { [steps[i - 1], steps[i]] = [steps[i], steps[i - 1]]; renderSteps(); } }, "Up"),
        h("button", { type: "button", class: "small", disabled: i === steps.length - 1, onclick: () => { [steps[i + 1], steps[i]] = [steps[i], steps[i + 1]]; renderSteps(); } }, "Down"),
        h("button", { type: "button", class: "small", onclick: () => { steps.splice(i, 1); renderSteps(); } }, "Remove")))));
  }

  function renderFunnel(current) {
    const rows = funnelRows(current);
    clear(funnelBox, h("h3", {}, "Funnel"),
      h("p", { class: "hint", id: "funnel-summary" }, `Started ${current.funnel.started} · completed ${current.funnel.completed}`),
      h("table", { class: "list", id: "funnel-table" },
        h("thead", {}, h("tr", {}, ["Step", "Entered", "Waiting", "Sent", "Left by condition"].map((t) => h("th", {}, t)))),
        h("tbody", {}, rows.map((r) => h("tr", { "data-step": r.step },
          h("td", {}, `${r.step + 1}. ${stepText(current.steps[r.step])}`), h("td", { class: "entered" }, String(r.entered)),
          h("td", { class: "waiting" }, String(r.waiting)), h("td", { class: "sent" }, String(r.sent)),
          h("td", { class: "exited" }, String(r.exited)))))));
  }

  function showError(error) {
    const where = (error.body?.field || "").match(/^steps\.(\d+)/);
    if (where) {
      const box = stepsBox.querySelector(`[data-step-error="${where[1]}"]`);
      if (box) notice(box, errorText(error), "error");
    }
    notice(message, errorText(error), "error");
  }

  const newType = select(STEP_TYPES, "wait", { id: "new-step-type" }, () => {});
  const addStep = h("button", { type: "button", id: "add-step", onclick: () => {
    const type = newType.value;
    steps.push(type === "wait" ? { type, days: 1 } : type === "condition" ? { type, check: CHECKS[0] }
      : type === "send" ? { type, preset: "second_purchase" } : { type });
    renderSteps();
  } }, "Add step");
  const save = h("button", { type: "button", class: "primary", id: "save-flow", onclick: async () => {
    stepsBox.querySelectorAll("[data-step-error]").forEach((box) => clear(box));
    const body = { ...flow, name: name.value, enabled: enabled.checked, steps, version };
    delete body.funnel;
    try {
      const saved = await api("PUT", path, body);
      if (load !== loads) return;
      version = saved.version;
      steps = saved.steps.map((s) => structuredClone(s));
      renderSteps();
      renderFunnel(saved);
      notice(message, `Saved (version ${saved.version}). Runs already under way keep the steps they started with.`);
    } catch (error) {
      showError(error);
    }
  } }, "Save");

  clear(main, h("p", {}, h("a", { href: "#/flows" }, "← All flows")),
    h("h2", {}, flow.name, " ", h("small", { class: "hint" }, `(${flow.flow_id}, ${triggerText(flow.trigger)})`)),
    h("div", { class: "row" }, field("Name", name), field("On", enabled)),
    stepsBox, h("div", { class: "row" }, newType, addStep, save), message, funnelBox);
  renderSteps();
  renderFunnel(flow);
}
