// The inbox's totals (GET /alerts/summary with the list's filters): how many alerts match, per
// severity and per state. The numbers follow live changes (they move no card); a severity's
// number is a button that shows only that severity.
import { get } from "../api.js";
import { h, human } from "../dom.js";

const SEVERITIES = ["high", "medium", "low"];
const STATES = ["new", "notified", "escalated", "acknowledged", "confirmed", "false_positive", "cleared"];

/** totalsStrip(query() (URLSearchParams of the filters), pickSeverity(severity)) → { node, load() }. */
export function totalsStrip(query, pickSeverity) {
  const node = h("section", { class: "totals", "aria-label": "Totals" });
  let latest = 0;
  async function load() {
    const mine = ++latest;
    let summary;
    try { summary = await get(`/alerts/summary?${query()}`); } catch { return; }
    if (mine !== latest) return;
    const severities = SEVERITIES.map((s) => h("button", {
      type: "button", class: "total", "data-total": `severity-${s}`, "data-count": String(summary.by_severity[s] ?? 0),
      "data-severity": s, "aria-label": `${summary.by_severity[s] ?? 0} ${s}: filter to ${s} alerts`,
      onclick: () => pickSeverity(s),
    }, h("span", { class: "sev" }, s), ` ${summary.by_severity[s] ?? 0}`));
    const states = STATES.filter((s) => summary.by_state[s]).map((s) => h("span", {
      class: "total", "data-total": `state-${s}`, "data-count": String(summary.by_state[s]),
    }, `${human(s)} ${summary.by_state[s]}`));
    node.dataset.total = String(summary.total);
    node.replaceChildren(h("strong", { class: "all" }, `${summary.total} alerts`), ...severities,
      h("span", { class: "states" }, ...states));
  }
  return { node, load };
}
