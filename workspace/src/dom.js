// A tiny element builder: h("div", {class: "x", onclick: f}, child, ...).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "value") el.value = value;
    else if (key === "checked") el.checked = !!value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el, ...children) { el.replaceChildren(); for (const c of children.flat()) if (c) el.append(c); return el; }

export function debounce(fn, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

// A debounced async call whose answer counts only while it is the latest call: ``fn(isLatest, ...args)``
// checks ``isLatest()`` after each await, so a slow answer to an earlier keystroke never replaces a newer one.
export function debounceLatest(fn, ms) {
  const latest = latestOnly();
  return debounce((...args) => { const ticket = latest.take(); return fn(() => latest.isLatest(ticket), ...args); }, ms);
}

export function field(label, input, hint) {
  return h("label", { class: "field" }, h("span", {}, label), input, hint ? h("small", {}, hint) : null);
}

export function errorText(error) {
  const body = error && error.body ? error.body : {};
  return (body.field ? `${body.field}: ` : "") + (error.message || String(error)).replace(new RegExp(`^${body.field}: `), "");
}

// A field refused, shown where it is typed (the template words form and the campaign planner alike):
// the input marked ``invalid`` and the reason in the <small class="field-problem"> right after it
// (made on first use); ``problem`` empty clears both.
export function showProblem(input, problem) {
  let message = input.nextElementSibling;
  if (!message || !message.classList.contains("field-problem")) {
    message = h("small", { class: "field-problem" });
    input.after(message);
  }
  message.textContent = problem || "";
  input.classList.toggle("invalid", !!problem);
}

// The reason of an API error without the field's name it starts with ("send_at: … has passed" → "… has passed").
export function reasonOf(error) {
  const field = error && error.body && error.body.field;
  const text = (error && error.body && error.body.message) || (error && error.message) || String(error);
  return field && text.startsWith(`${field}: `) ? text.slice(field.length + 2) : text;
}

// A 400 that names a field (``error.body.field``: pydantic's loc joined by dots) shown at its input:
// ``inputFor(name)`` gives the input of a field name, or nothing; a name the form has no input for
// is looked up without its last parts ("segment.rules.0.value" → "segment"). False: no input here.
export function markServerProblem(error, inputFor) {
  const name = error && error.body && error.body.field;
  if (!name) return false;
  for (let parts = String(name).split("."); parts.length; parts.pop()) {
    const input = inputFor(parts.join("."));
    if (input) { showProblem(input, reasonOf(error)); return true; }
  }
  return false;
}

export function notice(el, text, kind = "ok") { clear(el, h("div", { class: `notice ${kind}`, role: "status" }, text)); }

// The answer to the request made last, and only that one: each call of the returned function takes
// a ticket; ``isLatest(ticket)`` says whether no newer call was made since. A slow answer to an
// older request (the previous campaign clicked, the plan checked before an edit) is dropped.
export function latestOnly() {
  let issued = 0;
  return { take: () => ++issued, isLatest: (ticket) => ticket === issued };
}

// Shows in ``target`` the answer of ``request()`` as ``render`` draws it, or the error in plain words
// (a <p> of ``errorClass``), unless a newer ticket of ``latest`` was taken meanwhile: then nothing
// changes and it returns false (the newer call shows its own answer).
export async function showLatest(latest, ticket, target, request, render, errorClass = "error") {
  let drawn;
  try {
    const answer = await request();
    if (!latest.isLatest(ticket)) return false;
    drawn = render(answer);
  } catch (error) {
    if (!latest.isLatest(ticket)) return false;
    drawn = h("p", { class: errorClass }, errorText(error));
  }
  clear(target, drawn);
  return true;
}
