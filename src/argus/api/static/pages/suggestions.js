// Rule suggestions (issue 21): changes of a rule that operators' false-positive verdicts call for
// (a higher confidence threshold, a schedule that stays silent when false positives cluster, an
// area of the frame where they cluster), each with what it would have done to the reviewed alerts.
// Admins recompute them, apply one (the rule changes, audited) or dismiss it; others read.
import { get, post } from "../api.js";
import { h, human, toast, when } from "../dom.js";
import { table } from "./kit.js";
import { confirmButton } from "./admin_kit.js";

const KINDS = { threshold: "Confidence threshold", schedule: "Schedule", exclusion_zone: "Exclusion zone" };

function effectText(e) {
  return `${e.false_positives} of ${e.false_positive_total} false positives suppressed · `
    + `${e.confirmed_lost} of ${e.confirmed_total} confirmed alerts lost`;
}

/** Where in the frame an exclusion zone lies: a box drawn on a 16:9 outline (numbers only). */
function zonePreview(polygon) {
  const xs = polygon.map((p) => Number(p[0])), ys = polygon.map((p) => Number(p[1]));
  const pct = (v) => `${Math.round(Math.min(1, Math.max(0, v)) * 1000) / 10}%`;
  const box = h("span", { class: "zone-box" });
  box.style.left = pct(Math.min(...xs));
  box.style.top = pct(Math.min(...ys));
  box.style.width = pct(Math.max(...xs) - Math.min(...xs));
  box.style.height = pct(Math.max(...ys) - Math.min(...ys));
  return h("span", { class: "zone-frame", role: "img", "aria-label": "Where the false positives cluster in the frame" }, box);
}

function actions(me, s, reload) {
  if (s.state !== "open") return h("span", { class: "decided" }, `${human(s.state)} by ${s.decided_by ?? "?"}`, s.decided_at ? ` · ${when(s.decided_at)}` : "");
  if (!me.can("admin")) return "";
  const id = encodeURIComponent(s.id);
  const apply = async () => { await post(`/suggestions/${id}/apply`); toast(`Applied to ${s.rule_name}`); await reload(); };
  const question = s.kind === "exclusion_zone"
    ? `Exclude this area from ${s.rule_name}? (Events without a position still match.)`
    : `Change ${s.rule_name}?`;
  const dismiss = h("button", { type: "button", class: "dismiss-suggestion" }, "Dismiss");
  dismiss.addEventListener("click", async () => {
    try { await post(`/suggestions/${id}/dismiss`, { note: "" }); toast("Dismissed"); await reload(); } catch (err) { toast(err.message); }
  });
  return h("span", { class: "suggestion-actions" },
    s.applicable
      ? confirmButton("Apply", question, apply, { danger: false })
      : h("span", { class: "legend" }, "Not applicable: recompute the suggestions."),
    dismiss);
}

/** The suggestions card for the false-positive review page. */
export async function suggestionsSection(me) {
  const list = h("div", { class: "suggestion-list" });
  const state = h("select", { name: "state", "aria-label": "Which suggestions" },
    [["open", "Open"], ["", "All"], ["applied", "Applied"], ["dismissed", "Dismissed"]].map(([v, label]) => h("option", { value: v }, label)));
  const note = h("p", { class: "legend", role: "status" });
  async function load(items = null) {
    const found = items ?? (await get(`/suggestions?${new URLSearchParams(state.value ? { state: state.value } : {})}`)).items;
    const shown = state.value ? found.filter((s) => s.state === state.value) : found;
    note.textContent = shown.length ? `Computed ${when(shown[0].computed_at)}.` : "No suggestions. Admins compute them from the reviewed alerts.";
    list.replaceChildren(shown.length ? table("Rule suggestions", ["Rule", "Change", "Effect on the reviewed alerts", ""],
      shown.map((s) => h("tr", { "data-suggestion": s.id, "data-kind": s.kind, "data-state": s.state },
        h("td", { "data-label": "Rule" }, h("a", { href: "#/rules" }, s.rule_name)),
        h("td", { "data-label": "Change", class: "wrap" }, h("div", {}, h("strong", {}, KINDS[s.kind] ?? human(s.kind)), " — ", s.summary,
          s.kind === "exclusion_zone" && Array.isArray(s.change.polygon) ? zonePreview(s.change.polygon) : "")),
        h("td", { "data-label": "Effect", class: "wrap effect" }, effectText(s.effect)),
        h("td", { "data-label": "" }, actions(me, s, () => load()))))) : "");
  }
  state.addEventListener("change", () => { load().catch((err) => toast(err.message)); });
  const refresh = h("button", { type: "button", class: "refresh-suggestions" }, "Recompute");
  refresh.addEventListener("click", async () => {
    refresh.disabled = true;
    try { state.value = "open"; await load((await post("/suggestions/refresh")).items); } catch (err) { toast(err.message); } finally { refresh.disabled = false; }
  });
  await load();
  return h("section", { class: "card suggestions", "aria-label": "Rule suggestions" },
    h("h2", {}, "Rule suggestions"),
    h("p", { class: "legend" }, "Changes the false positives call for, each with what it would have done to the reviewed alerts "
      + "(false positives suppressed, confirmed alerts lost)."),
    h("div", { class: "filters" }, state, me.can("admin") ? refresh : ""), note, list);
}
