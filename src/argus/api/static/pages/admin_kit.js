// Helpers shared by the admin console pages (audit trail, API keys, evidence, review).
import { h, toast } from "../dom.js";

/** Saves ``blob`` as a file through a temporary link (no inline script needed). */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: name, hidden: true }, name);
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Puts ``text`` on the clipboard; falls back to selecting it in ``node`` when that is refused. */
export async function copyText(text, node = null) {
  try {
    await navigator.clipboard.writeText(text);
    toast("Copied.");
    return true;
  } catch {
    if (node) {
      const range = document.createRange();
      range.selectNodeContents(node);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    toast("Copying was refused by the browser: the text is selected, press Ctrl+C.");
    return false;
  }
}

/** A ``<code>`` with a Copy button after it (``label`` names the button for screen readers). */
export function copyable(text, label) {
  const code = h("code", { class: "copy-text" }, text);
  const button = h("button", { type: "button", class: "copy", "aria-label": label, onclick: () => copyText(text, code) }, "Copy");
  return h("span", { class: "copyable" }, code, button);
}

/**
 * A button that asks again in place: the first click shows "Sure? Yes / No", "Yes" runs
 * ``action`` (errors are toasted). No browser dialog, so keyboards and tests see it.
 */
export function confirmButton(label, question, action, { danger = true } = {}) {
  const first = h("button", { type: "button", class: danger ? "danger" : "" }, label);
  const yes = h("button", { type: "button", class: "danger" }, "Yes");
  const no = h("button", { type: "button" }, "No");
  const ask = h("span", { class: "confirm", role: "group", "aria-label": question, hidden: true },
    h("span", {}, question), yes, no);
  const box = h("span", { class: "confirm-box" }, first, ask);
  first.addEventListener("click", () => { first.hidden = true; ask.hidden = false; yes.focus(); });
  no.addEventListener("click", () => { ask.hidden = true; first.hidden = false; first.focus(); });
  yes.addEventListener("click", async () => {
    yes.disabled = true;
    try { await action(); } catch (err) { toast(err.message); first.hidden = false; ask.hidden = true; } finally { yes.disabled = false; }
  });
  return box;
}

/**
 * Offset paging for a list: ``pager.node`` shows "1–50 of 130" with Previous/Next;
 * ``pager.show(total)`` after each load, ``pager.offset`` for the next request.
 */
export function pager(limit, load) {
  const text = h("span", { class: "page-of", role: "status" });
  const prev = h("button", { type: "button" }, "Previous");
  const next = h("button", { type: "button" }, "Next");
  const state = { offset: 0, limit, total: 0 };
  prev.addEventListener("click", () => { state.offset = Math.max(0, state.offset - limit); load(); });
  next.addEventListener("click", () => { state.offset += limit; load(); });
  return {
    node: h("div", { class: "pager" }, prev, text, next),
    get offset() { return state.offset; },
    reset() { state.offset = 0; },
    show(total, shown) {
      state.total = total;
      text.textContent = total ? `${state.offset + 1}–${state.offset + shown} of ${total}` : "None";
      prev.disabled = state.offset === 0;
      next.disabled = state.offset + shown >= total;
    },
  };
}

/** A byte count for people: 2048 → "2.0 KiB". */
export function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return unit ? `${value.toFixed(1)} ${units[unit]}` : `${n} B`;
}

/** A share 0..1 as a percentage with a bar (the bar is decoration; the text says it). */
export function shareBar(share) {
  const percent = Math.round(share * 1000) / 10;
  return h("span", { class: "share" },
    h("span", { class: "bar", "aria-hidden": "true" }, h("span", { style: `width:${Math.min(100, percent)}%` })),
    h("span", {}, `${percent}%`));
}

/** An admin page's frame: a heading, a line saying what it is for, then its sections. */
export function adminPage(name, title, intro, ...sections) {
  return h("div", { class: `config admin ${name}` }, h("h1", {}, title), h("p", { class: "legend" }, intro), ...sections);
}
