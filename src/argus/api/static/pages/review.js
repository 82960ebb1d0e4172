// False-positive review: operators' verdicts (dismissed as false positive, or confirmed) per rule
// and per camera over a time range, with each one's false-positive share and the reasons given;
// "Show alerts" drills down to the dismissed alerts of that rule or camera.
import { get } from "../api.js";
import { field, h, timeAgo } from "../dom.js";
import { actorName, table } from "./kit.js";
import { adminPage, shareBar } from "./admin_kit.js";
import { suggestionsSection } from "./suggestions.js";

const RANGES = [["7", "Last 7 days"], ["30", "Last 30 days"], ["90", "Last 90 days"], ["", "All time"]];
const DRILL = 50;

function reasonsText(reasons) {
  if (!reasons.length) return "—";
  return reasons.map((r) => `${r.reason || "(no reason given)"} ×${r.count}`).join("; ");
}

function dismissal(alert) {
  return [...alert.history].reverse().find((t) => t.to_state === "false_positive") ?? null;
}

/** The dismissed alerts of one rule or camera, newest first. */
async function drill(kind, group, since) {
  const params = new URLSearchParams({ state: "false_positive", limit: String(DRILL) });
  params.set(kind === "rule" ? "rule_id" : "camera_id", group.key);
  if (since) params.set("since", since);
  const page = await get(`/alerts?${params}`);
  const rows = page.items.map((a) => {
    const step = dismissal(a);
    return h("tr", { "data-alert": a.id },
      h("td", { "data-label": "Alert" }, h("a", { href: `#/alerts/${encodeURIComponent(a.id)}` }, a.rule_name)),
      h("td", { "data-label": "Raised" }, timeAgo(a.created_at)),
      h("td", { "data-label": "Dismissed by" }, step ? actorName(step.actor) : "?"),
      h("td", { "data-label": "Reason", class: "wrap" }, step?.note || "(no reason given)"));
  });
  return h("div", { class: "drill", "aria-label": `False positives of ${group.name}` },
    h("h3", {}, `False positives of ${group.name}`, page.total > page.items.length ? ` (newest ${page.items.length} of ${page.total})` : ""),
    rows.length ? table(`False positives of ${group.name}`, ["Alert", "Raised", "Dismissed by", "Reason"], rows) : h("p", {}, "None."));
}

function groupTable(kind, label, groups, since, detail) {
  if (!groups.length) return h("p", {}, "No reviewed alerts in this range.");
  return table(label, [kind === "rule" ? "Rule" : "Camera", "False positives", "Confirmed", "False-positive share", "Reasons", ""],
    groups.map((g) => h("tr", { [`data-${kind}`]: g.key },
      h("td", { "data-label": kind === "rule" ? "Rule" : "Camera" }, g.name),
      h("td", { "data-label": "False positives", class: "num fp" }, String(g.false_positives)),
      h("td", { "data-label": "Confirmed", class: "num" }, String(g.confirmed)),
      h("td", { "data-label": "Share" }, shareBar(g.share)),
      h("td", { "data-label": "Reasons", class: "wrap" }, reasonsText(g.reasons)),
      h("td", { "data-label": "" }, g.false_positives ? h("button", {
        type: "button", class: "drill-down", "aria-label": `Show the false positives of ${g.name}`,
        onclick: async () => {
          try { detail.replaceChildren(await drill(kind, g, since)); } catch (err) { detail.replaceChildren(h("p", { class: "error" }, err.message)); }
          detail.scrollIntoView({ block: "nearest" });
        },
      }, "Show alerts") : ""))));
}

export async function reviewView(me) {
  const range = h("select", { name: "range" }, RANGES.map(([v, label]) => h("option", { value: v, selected: v === "30" }, label)));
  const totals = h("p", { class: "review-totals", role: "status" });
  const byRule = h("div", { class: "by-rule" });
  const byCamera = h("div", { class: "by-camera" });
  const detail = h("div", { class: "review-detail" });
  async function load() {
    const days = Number(range.value);
    const since = range.value ? new Date(Date.now() - days * 86_400_000).toISOString() : null;
    const summary = await get(`/feedback/summary?${new URLSearchParams(since ? { since } : {})}`);
    const reviewed = summary.false_positives + summary.confirmed;
    totals.textContent = reviewed
      ? `${summary.false_positives} of ${reviewed} reviewed alerts were false positives (${Math.round((summary.false_positives / reviewed) * 1000) / 10}%).`
        + (summary.truncated ? " Only the newest were counted: narrow the range." : "")
      : "No reviewed alerts in this range.";
    byRule.replaceChildren(groupTable("rule", "Verdicts by rule", summary.by_rule, since, detail));
    byCamera.replaceChildren(groupTable("camera", "Verdicts by camera", summary.by_camera, since, detail));
    detail.replaceChildren();
  }
  range.addEventListener("change", () => { load().catch((err) => { totals.textContent = err.message; }); });
  await load();
  return { node: adminPage("review-page", "False-positive review",
    "What operators said about alerts: dismissed as false positive or confirmed as real. "
      + "A rule or camera with a high share needs tuning (a zone, a schedule, a class, a threshold).",
    h("div", { class: "filters" }, field("Range", range)), totals,
    h("section", { class: "card", "aria-label": "By rule" }, h("h2", {}, "By rule"), byRule),
    h("section", { class: "card", "aria-label": "By camera" }, h("h2", {}, "By camera"), byCamera),
    detail, await suggestionsSection(me)) };
}
