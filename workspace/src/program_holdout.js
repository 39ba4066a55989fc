// The program holdout's answer on the dashboard (issue 18): what the program's e-mails add, as the
// incremental revenue with its 95 % interval, or, while the groups are too small, the plain-words
// reason no number is given yet. Money and numbers in the marketer's locale (numbers.js).
import { h } from "./dom.js";
import { formatChange, formatMoney, formatMonth, formatNumber, formatPercent } from "./numbers.js";

function groupsTable(program, money) {
  const row = (label, g) => h("tr", {}, h("td", {}, label), h("td", {}, formatNumber(g.customers)),
    h("td", {}, formatNumber(g.buyers)), h("td", {}, money(g.revenue)));
  return h("table", { class: "list", id: "program-groups" },
    h("thead", {}, h("tr", {}, ["group", "customers", "buyers", "revenue"].map((c) => h("th", {}, c)))),
    h("tbody", {}, row("get marketing e-mail", program.groups.mailed), row("holdout (no marketing e-mail)", program.groups.holdout)));
}

export function programHoldoutSection(d) {
  const program = d.program;
  if (!program) return null;
  const money = (v) => formatMoney(v, d.currency);
  const stat = (id, label, value, sub) => h("div", { class: "card stat", id },
    h("small", {}, label), h("strong", {}, value), h("span", {}, sub || ""));
  const months = program.months.map(formatMonth).join(", ");
  const intro = h("p", { class: "hint" },
    `${formatPercent(program.holdout_percent / 100)} of customers (the program holdout) get no marketing e-mail. `
    + `Their revenue per customer against everyone else's, over the paid days in ${months}, is what the program's e-mails add.`);
  let answer;
  if (program.note || program.incremental_revenue.estimate === null) {
    answer = h("p", { class: "notice warn", id: "program-note", role: "status" },
      `No number yet: ${program.note || "too few customers to tell yet"}.`);
  } else {
    const rev = program.incremental_revenue, per = program.revenue_per_customer, buyers = program.buyer_rate;
    answer = h("div", { class: "cards" },
      stat("program-increment", "Incremental revenue", money(rev.estimate),
        `95 % interval: ${money(rev.low)} to ${money(rev.high)}`),
      stat("program-per-customer", "Revenue per customer, mailed against the holdout",
        per.estimate < 0 ? `${money(-per.estimate)} less` : `${money(per.estimate)} more`,
        `${formatChange(per.relative.estimate)} (${formatChange(per.relative.low)} to ${formatChange(per.relative.high)})`),
      stat("program-buyers", "Share of customers buying: difference", formatChange(buyers.estimate),
        `percentage points; 95 % interval: ${formatChange(buyers.low)} to ${formatChange(buyers.high)}`));
  }
  return h("section", { id: "program-holdout" },
    h("h3", {}, "What the program adds"), intro, answer, groupsTable(program, money),
    program.method ? h("small", { class: "hint" }, program.method) : null);
}
