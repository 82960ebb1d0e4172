// The account's two-factor page: enrol TOTP (QR code or secret), and new recovery codes while
// MFA is on. Recovery codes are shown once, with Copy and Download buttons.
import { post, replacingTokens } from "../api.js";
import { field, h } from "../dom.js";

/** The codes as a text file's content: a heading, one code a line. */
export function recoveryText(codes, username, at = new Date()) {
  return [`Argus recovery codes for ${username}`, `Made ${at.toISOString()}; each works once.`, "", ...codes, ""].join("\n");
}

/** Copies ``text``: the Clipboard API where the page may use it, else a selected textarea. */
async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h("textarea", { "aria-hidden": "true", readonly: true, class: "offscreen" });
    area.value = text;
    document.body.append(area);
    area.select();
    const done = document.execCommand("copy");
    area.remove();
    return done;
  }
}

/** The recovery codes with Copy and Download buttons (and what they did, announced). */
export function recoveryCodesBox(codes, username) {
  const said = h("p", { class: "form-status", role: "status" });
  const text = recoveryText(codes, username);
  const copy = h("button", { type: "button", onclick: async () => {
    const ok = await copyText(codes.join("\n"));
    said.dataset.ok = String(ok);
    said.textContent = ok ? "Copied to the clipboard." : "Could not copy: select the codes and copy them by hand.";
  } }, "Copy codes");
  const download = h("button", { type: "button", onclick: () => {
    const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    const link = h("a", { href: url, download: `argus-recovery-codes-${username}.txt`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    said.dataset.ok = "true";
    said.textContent = "Downloaded as a text file.";
  } }, "Download codes");
  return h("div", { class: "recovery" },
    h("p", {}, "Keep these recovery codes safe: each signs you in once without the app. They are shown only now."),
    h("pre", { class: "recovery-codes", "aria-label": "Recovery codes", "data-testid": "recovery-codes" }, codes.join("\n")),
    h("div", { class: "actions" }, copy, download), said);
}

/** New recovery codes (the old ones stop working): needs the password and a current code. */
function newCodesForm(me) {
  const error = h("p", { class: "error", role: "alert" });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const otp = h("input", { name: "otp", inputmode: "numeric", autocomplete: "one-time-code", required: true, maxlength: "32" });
  const form = h("form", { class: "new-codes", "aria-label": "New recovery codes" },
    h("h2", {}, "New recovery codes"),
    h("p", { class: "muted" }, "Lost or used up your codes? New ones replace them all."),
    field("Your password", password), field("Code from the app or a recovery code", otp), error,
    h("button", { type: "submit", class: "primary" }, "Make new codes"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      const result = await post("/auth/mfa/recovery-codes", { password: password.value, otp: otp.value.trim() });
      form.replaceWith(recoveryCodesBox(result.recovery_codes, me.user.username));
    } catch (err) { error.textContent = err.message; }
  });
  return form;
}

export function mfaView(me) {
  const out = h("div", { class: "card account" }, h("h1", {}, "Two-factor authentication"));
  const error = h("p", { class: "error", role: "alert" });
  const start = h("button", { class: "primary", type: "button" }, "Start enrolment");
  start.addEventListener("click", async () => {
    const enrolment = await post("/auth/mfa/enrol");
    const code = h("input", { name: "code", inputmode: "numeric", required: true, minlength: "6", maxlength: "8" });
    const form = h("form", { "aria-label": "Confirm MFA" },
      h("img", { src: `data:image/png;base64,${enrolment.qr_png_base64}`, alt: "QR code for your authenticator app", width: "200" }),
      h("p", {}, "Or type this secret: ", h("code", { "data-testid": "mfa-secret" }, enrolment.secret)),
      field("Code from the app", code), error,
      h("button", { class: "primary", type: "submit" }, "Confirm"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const result = await replacingTokens(
          post("/auth/mfa/confirm", { code: code.value.trim() }), (body) => body.tokens);
        if (me.user) me.user.mfa_enabled = true;
        form.replaceWith(h("div", {}, h("p", {}, "MFA is on."),
          recoveryCodesBox(result.recovery_codes, me.user?.username ?? "you"),
          h("a", { href: "#/live" }, "Continue")));
      } catch (err) { error.textContent = err.message; }
    });
    start.replaceWith(form);
  });
  if (me.user?.mfa_enabled) out.append(h("p", {}, "MFA is already on for this account."), newCodesForm(me));
  else out.append(start);
  return { node: out };
}
