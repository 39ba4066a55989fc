// The JSON admin API, called with the session cookie; every change carries the CSRF token.
const base = location.pathname.replace(/admin\/?$/, "");
let csrf = null;

export const SESSION_ENDED = "workspace-session-ended";

export function setCsrf(token) { csrf = token; }

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  const response = await fetch(base + path.replace(/^\//, ""), {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  // A 401 to any call but the sign-in's own: the session is over (12 hours passed, signed out in
  // another tab, the key revoked). The page says so and shows the sign-in form (main.js) instead of
  // a raw "sign in first" under a workspace that looks signed in.
  if (response.status === 401 && !path.startsWith("/admin/session")) window.dispatchEvent(new CustomEvent(SESSION_ENDED));
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// "@" may stand in a path as is; chalice local (like API Gateway) hands path parameters over undecoded.
export const enc = (value) => encodeURIComponent(value).replace(/%40/g, "@");
