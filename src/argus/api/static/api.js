// REST client: bearer tokens in sessionStorage, one refresh on 401, then back to login.
const API = "/api/v1";
const store = window.sessionStorage;

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail ? String(typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail)) : `HTTP ${status}`);
    this.status = status;
    this.code = body?.code ?? null;
  }
}

export const session = {
  get access() { return store.getItem("argus.access"); },
  get refresh() { return store.getItem("argus.refresh"); },
  save(tokens) {
    store.setItem("argus.access", tokens.access_token);
    if (tokens.refresh_token) store.setItem("argus.refresh", tokens.refresh_token);
    store.setItem("argus.restricted", tokens.restricted ?? "");
  },
  get restricted() { return store.getItem("argus.restricted") || null; },
  clear() { ["argus.access", "argus.refresh", "argus.restricted"].forEach((k) => store.removeItem(k)); },
};

let onExpired = () => {};
export function whenExpired(callback) { onExpired = callback; }

export async function signIn(username, password, otp) {
  const form = new URLSearchParams({ username, password });
  if (otp) form.set("otp", otp);
  const res = await fetch(`${API}/auth/token`, { method: "POST", body: form });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body);
  session.save(body);
  return body;
}

let refreshing = null;
async function refreshTokens() {
  if (!session.refresh) return false;
  refreshing ??= fetch(`${API}/auth/refresh`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ refresh_token: session.refresh }),
  }).then(async (res) => {
    if (!res.ok) return false;
    session.save(await res.json());
    return true;
  }).finally(() => { refreshing = null; });
  return refreshing;
}

// A password change or MFA confirmation ends every session of the user, this one too: the
// server closes this page's socket and video at once, maybe before the answer with the new
// tokens arrives. Renewals wait for such a request and use its tokens, rather than refreshing
// the old (revoked) ones and signing the page out.
let replacing = null;

/** Runs a request whose answer carries the session's new tokens (``tokensOf``); saves them. */
export function replacingTokens(request, tokensOf = (body) => body) {
  const running = request.then((body) => {
    const tokens = body ? tokensOf(body) : null;
    if (tokens?.access_token) session.save(tokens);
    return body;
  });
  const settled = running.then(() => {}, () => {});
  replacing = settled;
  settled.then(() => { if (replacing === settled) replacing = null; });
  return running;
}

/** True when there is a usable access token other than ``used`` (replaced, or refreshed). */
async function renewed(used) {
  if (replacing) await replacing;
  if (session.access && session.access !== used) return true;
  return refreshTokens();
}

/** A fresh access token after ``used`` was refused elsewhere (the socket); false: signed out. */
export async function renew(used = session.access) {
  if (await renewed(used)) return true;
  // Signed in anew while the old token's renewal failed: that session is not this one's to end.
  if (session.access && session.access !== used) return true;
  session.clear();
  onExpired();
  return false;
}

const BUSY_RETRIES = 3;  // a read refused for the caller's work budget (429) is tried again

async function send(method, path, body, retry = true, signal = undefined, busy = 0) {
  const headers = {};
  const used = session.access;
  if (used) headers.authorization = `Bearer ${used}`;
  const form = body instanceof FormData;  // multipart: the browser sets the content type
  if (body !== undefined && !form) headers["content-type"] = "application/json";
  const res = await fetch(`${API}${path}`, {
    method, headers, body: body === undefined || form ? body : JSON.stringify(body), signal,
  });
  if (res.status === 429 && method === "GET" && busy < BUSY_RETRIES) {
    // The server caps each user's concurrent analytics queries; a page that asks for several
    // at once waits as long as the answer says (Retry-After) and asks again.
    const seconds = Math.min(5, Number(res.headers.get("retry-after")) || 1);
    await new Promise((resolve) => { setTimeout(resolve, seconds * 1000); });
    return send(method, path, body, retry, signal, busy + 1);
  }
  if (res.status === 401 && retry) {
    if (await renewed(used)) return send(method, path, body, false, signal);
    session.clear();
    onExpired();
  }
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
  return res;
}

export const get = async (path) => (await send("GET", path)).json();
export const post = async (path, body = {}) => {
  const res = await send("POST", path, body);
  return res.status === 204 ? null : res.json();
};
export const patch = async (path, body) => (await send("PATCH", path, body)).json();
export const put = async (path, body) => {
  const res = await send("PUT", path, body);
  return res.status === 204 ? null : res.json();
};
/** A POST whose answer the caller reads itself (a download: blob or JSON); a FormData body
 * goes as multipart (an upload). */
export const postRaw = (path, body = {}) => send("POST", path, body);
export const del = async (path) => { await send("DELETE", path); };
/** A binary resource as a blob URL (img src cannot carry the bearer header). */
export async function blobUrl(path) {
  const res = await send("GET", path);
  return URL.createObjectURL(await res.blob());
}
/** A streaming GET (the response body is read by the caller); aborted through signal. */
export const stream = (path, signal) => send("GET", path, undefined, true, signal);
/** End the session on the server (its refresh token and the bearer's session), then forget it. */
export async function signOut() {
  const body = session.refresh ? { refresh_token: session.refresh } : {};
  try { await send("POST", "/auth/logout", body, false); } catch { /* signing out anyway */ }
  session.clear();
}
