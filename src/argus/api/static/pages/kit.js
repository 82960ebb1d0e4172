// Helpers shared by the settings-like pages (notifications, settings, privacy).
import { h } from "../dom.js";

/** An API error as a sentence (422 details become "field: message" lines). */
export function explain(err) {
  try {
    const detail = JSON.parse(err.message);
    if (Array.isArray(detail)) {
      return detail.map((d) => `${(d.loc ?? []).filter((p) => p !== "body").join(".") || "request"}: ${d.msg}`).join("; ");
    }
  } catch { /* plain text */ }
  return err.message;
}

const GAP_TEXT = { shed: "capture queue full", no_frames: "no video buffered", failed: "capture failed" };

/** The note an alert card or detail shows for evidence that was never stored (``/evidence`` gaps). */
export const gapNote = (gap) => h("p", { class: "evidence-gap", role: "note", "data-gap": gap.reason },
  `Evidence missing (${GAP_TEXT[gap.reason] ?? gap.reason}): ${gap.detail}`);

/** An audit name as people say it: ``user:ana`` → "ana", ``apikey:k1`` → "API key k1", system → "Argus". */
export function actorName(actor) {
  if (!actor) return "?";
  if (actor.startsWith("user:")) return actor.slice(5);
  if (actor.startsWith("apikey:")) return `API key ${actor.slice(7)}`;
  return actor === "system" ? "Argus" : actor;
}

/** A tick box with its label after it. */
export const check = (label, input) => h("label", { class: "check" }, input, label);

/** "a, b ,c" as ["a", "b", "c"]. */
export const words = (text) => text.split(/[,\n]/).map((s) => s.trim()).filter(Boolean);

/** A datetime-local input's value (local time) as an ISO instant; "" → null. */
export function isoOf(localValue) {
  if (!localValue) return null;
  const at = new Date(localValue);
  if (Number.isNaN(at.getTime())) throw new Error(`not a time: ${localValue}`);
  return at.toISOString();
}

/** An ISO instant as a datetime-local input's value (local time, minutes). */
export function localOf(iso) {
  const at = iso ? new Date(iso) : new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

/** Choices for how long a snooze lasts (seconds). */
export const SNOOZE_FOR = [["15 min", 900], ["1 hour", 3600], ["4 hours", 14_400], ["8 hours", 28_800], ["24 hours", 86_400]];

/** A status line for a form: ok (green) or an error (red), announced. */
export function statusLine() {
  const line = h("p", { class: "form-status", role: "status" });
  return {
    node: line,
    ok(text) { line.dataset.ok = "true"; line.textContent = text; },
    fail(err) { line.dataset.ok = "false"; line.textContent = typeof err === "string" ? err : explain(err); },
    clear() { delete line.dataset.ok; line.textContent = ""; },
  };
}

/** Runs ``action`` for a form's submit, showing its outcome in ``status``. */
export function onSubmit(form, status, action) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.clear();
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    try { await action(); } catch (err) { status.fail(err); } finally { if (button) button.disabled = false; }
  });
}

/** A table with a caption-like label, a header row and body rows. */
export function table(label, columns, rows) {
  return h("div", { class: "scroll" }, h("table", { "aria-label": label },
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows)));
}
