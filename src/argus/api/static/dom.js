// Small DOM helpers: h() builds elements, text always goes through textContent.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function toast(message) {
  const box = document.getElementById("toast");
  box.textContent = message;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.textContent = ""; }, 4000);
}

export const when = (iso) => new Date(iso).toLocaleString();

/**
 * A labelled control. A select also gets the label as its aria-label: inside a
 * <label> its accessible name would otherwise be the label plus the chosen option.
 */
export function field(label, input) {
  if (input.tagName === "SELECT") input.setAttribute("aria-label", label);
  return h("label", {}, label, input);
}

/**
 * The page's hash route: ``#/alerts/ID?camera=c1`` gives
 * ``{ page: "alerts", rest: ["ID"], query: URLSearchParams("camera=c1") }``.
 */
export function hashRoute(hash = location.hash) {
  const [path, search = ""] = hash.replace(/^#\/?/, "").split("?", 2);
  const [page = "", ...rest] = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { page, rest, query: new URLSearchParams(search) };
}

const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const STEPS = [["second", 60], ["minute", 60], ["hour", 24], ["day", 7], ["week", 4.35], ["month", 12], ["year", Infinity]];

/** "3 minutes ago", "in 2 hours": ``iso`` relative to ``now`` (ms since the epoch). */
export function ago(iso, now = Date.now()) {
  let amount = (Date.parse(iso) - now) / 1000;
  for (const [unit, size] of STEPS) {
    if (Math.abs(amount) < size) return RELATIVE.format(Math.round(amount), unit);
    amount /= size;
  }
  return when(iso);
}

/** A ``<time>`` showing ``ago(iso)`` with the full local time as its title and datetime. */
export function timeAgo(iso) {
  return h("time", { datetime: iso, title: when(iso) }, ago(iso));
}

/** A stored state or kind for people: ``in_progress`` → "in progress", ``false_positive`` → "false positive". */
export const human = (value) => String(value ?? "").replaceAll("_", " ");
