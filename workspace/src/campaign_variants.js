// The planner's A/B test: up to four variants of the campaign's words (subject, preheader, the
// heading and the sentence), the share of recipients they are tried on, what picks the winner and
// how long to wait before the rest get it. The API takes one text per variant field, used in every
// language; a field left empty keeps the campaign's own words (per language) for that variant.
import { h, clear, field } from "./dom.js";

export const MAX_VARIANTS = 4;
const LETTERS = "ABCD";
const FIELDS = [
  { key: "subject", label: "Subject", max: 200 },
  { key: "preheader", label: "Preheader", max: 200 },
  { key: "title", label: "Heading (the day's name)", max: 200 },
  { key: "description", label: "Sentence", max: 2000, textarea: true },
];

export function variantsEditor({ onChange = () => {} } = {}) {
  const rows = [];
  const list = h("div", { class: "variants", id: "variant-list" });
  const testPercent = h("input", { type: "number", id: "ab-test-percent", min: 2, max: 100, value: 20 });
  const winnerBy = h("select", { id: "ab-winner-by" }, h("option", { value: "click_rate" }, "click rate"),
    h("option", { value: "conversion_rate" }, "conversion rate (bought within the attribution window)"));
  const waitHours = h("input", { type: "number", id: "ab-wait-hours", min: 1, max: 168, value: 4 });
  const settings = h("div", { class: "row", id: "ab-settings", hidden: true },
    field("Test share %", testPercent, "tried first, split evenly between the variants"),
    field("Winner by", winnerBy), field("Wait (hours)", waitHours, "then the rest get the winner"));
  const add = h("button", { type: "button", class: "small", id: "add-variant", onclick: () => { addRow(); if (rows.length === 1) addRow(); changed(); } },
    "+ variant");
  const hint = h("small", { class: "hint", id: "variant-hint" });

  function changed() { refresh(); onChange(); }

  function refresh() {
    rows.forEach((row, index) => { row.letter.textContent = `Variant ${LETTERS[index]}`; row.root.dataset.variant = LETTERS[index]; });
    add.disabled = rows.length >= MAX_VARIANTS;
    add.textContent = rows.length ? "+ variant" : "Test variants (A/B)";
    settings.hidden = !rows.length;
    hint.textContent = rows.length === 1 ? "An A/B test needs a second variant." : "";
  }

  function addRow() {
    if (rows.length >= MAX_VARIANTS) return;
    const inputs = {};
    const controls = FIELDS.map((spec) => {
      inputs[spec.key] = h(spec.textarea ? "textarea" : "input", { rows: spec.textarea ? 2 : undefined, maxlength: spec.max,
        "data-field": spec.key, class: `variant-${spec.key}`, placeholder: "the campaign's own" });
      return field(spec.label, inputs[spec.key]);
    });
    const row = { inputs, letter: h("strong", {}) };
    row.root = h("div", { class: "variant card" }, h("div", { class: "row" }, row.letter,
      h("button", { type: "button", class: "small remove-variant", onclick: () => { rows.splice(rows.indexOf(row), 1); row.root.remove(); changed(); } }, "remove")),
      h("div", { class: "row" }, controls));
    rows.push(row);
    list.append(row.root);
  }

  refresh();
  return {
    root: h("div", {}, list, h("div", { class: "row" }, add, hint), settings),
    count: () => rows.length,
    // {variants, ab_test} for the campaign document, or {} when there is no test
    value() {
      if (!rows.length) return {};
      const variants = rows.map((row) => Object.fromEntries(FIELDS.map((spec) => [spec.key, row.inputs[spec.key].value.trim()])
        .filter(([, text]) => text)));
      return { variants, ab_test: { test_percent: Number(testPercent.value) || 20, winner_by: winnerBy.value,
        wait_hours: Number(waitHours.value) || 4 } };
    },
    clear() { rows.splice(0).forEach((row) => row.root.remove()); clear(list); changed(); },
  };
}
