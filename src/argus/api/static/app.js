// Entry point: hash router, sign-in and MFA pages, the signed-in frame.
import { ApiError, get, post, replacingTokens, session, signIn, signOut, whenExpired } from "./api.js";
import { close as closeLive } from "./live.js";
import { field, h, hashRoute, toast } from "./dom.js";
import { liveView } from "./pages/live.js";
import { alertsView, startAlertBadge } from "./pages/alerts.js";
import { startHighAlertSignal } from "./pages/detail_signal.js";
import { incidentsView } from "./pages/incidents.js";
import { analyticsView } from "./pages/analytics.js";
import { configView } from "./pages/config.js";
import { nodesView } from "./pages/nodes.js";
import { notifyView } from "./pages/notify.js";
import { settingsView } from "./pages/settings.js";
import { privacyView } from "./pages/privacy.js";
import { mfaView } from "./pages/account.js";
import { workstationsView } from "./pages/workstations.js";
import { auditView } from "./pages/audit.js";
import { keysView } from "./pages/apikeys.js";
import { evidenceView } from "./pages/evidence.js";
import { reviewView } from "./pages/review.js";
import { examplesView } from "./pages/examples.js";
import { modelsView } from "./pages/models.js";
import { searchView } from "./pages/search.js";
import { recordingsView } from "./pages/recordings.js";

const view = document.getElementById("view");
const top = document.getElementById("top");
export const me = { user: null, can(action) { return can(this.user, action); } };

const ACTIONS = { viewer: [], operator: ["act"], admin: ["act", "configure", "admin"] };
function can(user, action) { return Boolean(user && ACTIONS[user.role]?.includes(action)); }

const PAGES = {
  live: liveView, alerts: alertsView, incidents: incidentsView,
  analytics: analyticsView, nodes: nodesView, config: configView,
  settings: settingsView, notify: notifyView, privacy: privacyView,
  workstations: workstationsView, audit: auditView, keys: keysView,
  evidence: evidenceView, review: reviewView,
  search: searchView, examples: examplesView, models: modelsView,
  recordings: recordingsView,
};
/** Pages only some roles may open (their links are hidden from the others). */
const NEEDS = {
  settings: "act", notify: "configure", privacy: "admin",
  workstations: "admin", audit: "admin", keys: "admin",
  examples: "act",
};

function notAllowed() {
  return { node: h("div", { class: "card", role: "alert" }, h("h1", {}, "Not available"),
    h("p", {}, "Your role does not give access to this page.")) };
}
let cleanup = null;
let routing = 0;

function loginView() {
  const error = h("p", { class: "error", role: "alert" });
  const otp = h("input", { name: "otp", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "32" });
  const otpField = field("Authentication code", otp);
  otpField.hidden = true;
  const form = h("form", { class: "card login", "aria-label": "Sign in" },
    h("h1", {}, "Argus"),
    field("Username", h("input", { name: "username", autocomplete: "username", required: true })),
    field("Password", h("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
    otpField, error,
    h("button", { class: "primary", type: "submit" }, "Sign in"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      await signIn(form.username.value, form.password.value, otp.value || null);
      go(landing());
    } catch (err) {
      if (err instanceof ApiError && err.code === "mfa_required") {
        otpField.hidden = false;
        otp.focus();
        error.textContent = "Enter the code from your authenticator app.";
      } else {
        error.textContent = err.message;
      }
    }
  });
  return { node: form };
}

/** Show the page of `hash`; setting an unchanged hash fires no hashchange, so route here. */
function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

/** Where a fresh sign-in goes: a restricted one must first change its password or enrol MFA. */
function landing() {
  return { password_change: "#/password", mfa_enrolment: "#/mfa" }[session.restricted] ?? "#/live";
}

function passwordView() {
  const forced = session.restricted === "password_change";
  const error = h("p", { class: "error", role: "alert" });
  const input = (name, autocomplete) => h("input", { name, type: "password", autocomplete, required: true, minlength: "12", maxlength: "1024" });
  const current = input("current_password", "current-password");
  const fresh = input("new_password", "new-password");
  const again = input("new_password_again", "new-password");
  const form = h("form", { class: "card login", "aria-label": "Change password" },
    h("h1", {}, "Change password"),
    forced ? h("p", {}, "This is a one-time password: choose your own before you go on.") : "",
    field("Current password", current), field("New password (12 characters or more)", fresh),
    field("New password again", again), error,
    h("button", { class: "primary", type: "submit" }, "Change password"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (fresh.value !== again.value) { error.textContent = "The new passwords differ."; return; }
    try {
      await replacingTokens(post("/auth/password", { current_password: current.value, new_password: fresh.value }));
      me.user = null;  // reload the account (no longer flagged)
      toast("Password changed; your other sessions were signed out.");
      go(landing());
    } catch (err) { error.textContent = err.message; }
  });
  return { node: form };
}

async function loadMe() {
  me.user = await get("/auth/me");
  document.getElementById("whoami").textContent = `${me.user.username} (${me.user.role})`;
  document.body.dataset.role = me.user.role;
  for (const link of top.querySelectorAll("nav a[data-needs]")) link.hidden = !me.can(link.dataset.needs);
}

export async function route() {
  cleanup?.();
  cleanup = null;
  const name = hashRoute().page || "live";
  if (!session.access) {
    top.hidden = true;
    view.replaceChildren(loginView().node);
    return;
  }
  top.hidden = false;
  if (!me.user) {
    try { await loadMe(); } catch { return; }
    if (!session.restricted) {  // the socket needs an unrestricted sign-in
      startAlertBadge();
      startHighAlertSignal();  // gives a signal only when the user turned it on
    }
  }
  // A restricted sign-in sees only the page that lifts the restriction.
  const target = { password_change: "password", mfa_enrolment: "mfa" }[session.restricted] ?? name;
  for (const link of top.querySelectorAll("nav a")) {
    if (link.hash === `#/${target}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const allowed = !NEEDS[target] || me.can(NEEDS[target]);
  const page = { mfa: () => mfaView(me), password: passwordView }[target] ?? (allowed ? PAGES[target] : notAllowed) ?? liveView;
  const mine = ++routing;
  let result;
  try {
    result = await page(me);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;  // back at sign-in already
    result = { node: h("div", { class: "card", role: "alert" }, h("h1", {}, "This page could not load"),
      h("p", {}, err.message), h("button", { type: "button", onclick: () => route() }, "Try again")) };
  }
  if (mine !== routing) { result.cleanup?.(); return; }  // a newer navigation won meanwhile
  view.replaceChildren(result.node);
  cleanup = result.cleanup ?? null;
}

function toLogin() {
  me.user = null;
  closeLive();
  toast("Your session ended; please sign in again.");
  go("#/login");
}

whenExpired(toLogin);
document.getElementById("logout").addEventListener("click", async () => {
  // The socket first: the server closes it (4401) when the session ends, and that close must
  // not be taken for an expiry to renew from.
  closeLive();
  await signOut();
  me.user = null;
  go("#/login");
});
document.getElementById("mfa-link").addEventListener("click", () => { openMenu(false); go("#/mfa"); });
document.getElementById("password-link").addEventListener("click", () => { openMenu(false); go("#/password"); });

// The phone's menu: the navigation and account buttons fold behind "Menu" (app.css); it closes
// on navigation, Escape, or a tap outside. The button repeats the unread-alerts badge.
const menuButton = document.getElementById("menu-button");
function openMenu(open) {
  top.classList.toggle("open", open);
  menuButton.setAttribute("aria-expanded", String(open));
}
menuButton.addEventListener("click", () => openMenu(!top.classList.contains("open")));
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && top.classList.contains("open")) { openMenu(false); menuButton.focus(); }
});
document.addEventListener("click", (event) => {
  if (!top.contains(event.target) || event.target.closest("nav a")) openMenu(false);
});
const unread = document.getElementById("alert-badge");
new MutationObserver(() => { document.getElementById("menu-badge").textContent = unread.textContent; })
  .observe(unread, { childList: true, characterData: true, subtree: true });
window.addEventListener("hashchange", () => { openMenu(false); route(); });
route();
