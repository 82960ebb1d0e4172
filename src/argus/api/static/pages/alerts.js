// Alerts inbox: live over /ws, sorted by severity then time, with actions per role.
import { blobUrl, get, post } from "../api.js";
import { on, subscribe } from "../live.js";
import { field, h, toast, when } from "../dom.js";

const RANK = { high: 0, medium: 1, low: 2 };
const OPEN = ["new", "notified", "acknowledged", "escalated"];
let badgeCount = 0;

export function startAlertBadge() {
  subscribe(["alerts"]);
  on("alert.created", () => {
    badgeCount += 1;
    document.getElementById("alert-badge").textContent = String(badgeCount);
  });
}

function order(a, b) {
  return (RANK[a.severity] - RANK[b.severity]) || b.created_at.localeCompare(a.created_at);
}

async function evidence(alert, box) {
  try {
    const list = await get(`/evidence?alert_id=${encodeURIComponent(alert.id)}`);
    for (const item of list.items) {
      const url = await blobUrl(`/evidence/${item.id}/content`);
      box.append(item.content_type.startsWith("video")
        ? h("video", { src: url, controls: true, "aria-label": "Alert clip", preload: "metadata" })
        : h("img", { src: url, alt: `Alert ${item.kind}` }));
    }
  } catch { /* evidence may not be stored yet */ }
}

function alertCard(alert, me, refresh) {
  const escalated = alert.state === "escalated" || alert.escalation_level > 0;
  const explain = h("details", {}, h("summary", {}, `Risk ${alert.risk_score.toFixed(2)}: why`),
    h("ul", {}, alert.risk_components.filter((c) => c.weight > 0)
      .map((c) => h("li", {}, `${c.name}: ${c.value.toFixed(2)} × ${c.weight} — ${c.reason}`))));
  const media = h("div", { class: "media" });
  evidence(alert, media);
  const act = (label, call, states) => h("button", {
    type: "button", disabled: !me.can("act") || !states.includes(alert.state),
    title: me.can("act") ? "" : "Viewers cannot act on alerts",
    onclick: async () => {
      try { await call(); toast(`${label}: done`); refresh(); }
      catch (err) { toast(`${label}: ${err.message}`); }
    },
  }, label);
  return h("li", {
    class: `alert${escalated ? " escalated" : ""}`, "data-severity": alert.severity,
    "data-state": alert.state, "data-alert": alert.id, "aria-label": `${alert.severity} alert ${alert.rule_name}`,
  },
  h("div", {}, h("span", { class: "sev" }, alert.severity), " ",
    h("strong", {}, alert.rule_name), ` · ${alert.event_type} · ${alert.class_name ?? ""}`,
    alert.track_id === null ? "" : ` #${alert.track_id}`,
    ` · camera ${alert.camera_id} · ${when(alert.created_at)} · `, h("em", { class: "state" }, alert.state),
    escalated ? h("strong", {}, ` · ESCALATED ×${alert.escalation_level}`) : ""),
  explain, media,
  h("div", { class: "actions" },
    act("Acknowledge", () => post(`/alerts/${alert.id}/acknowledge`, { note: "" }), ["new", "notified", "escalated"]),
    act("Confirm", () => post(`/alerts/${alert.id}/confirm`, { title: `${alert.rule_name} on ${alert.camera_id}` }), ["new", "notified", "acknowledged", "escalated"]),
    act("False positive", () => post(`/alerts/${alert.id}/dismiss`, { note: "false positive" }), ["new", "notified", "acknowledged", "escalated"]),
    alert.incident_id ? h("a", { href: `#/incidents/${alert.incident_id}` }, "Incident") : ""));
}

export async function alertsView(me) {
  badgeCount = 0;
  document.getElementById("alert-badge").textContent = "";
  const cameras = (await get("/cameras")).items;
  const camera = h("select", { name: "camera" }, h("option", { value: "" }, "All"),
    cameras.map((c) => h("option", { value: c.id }, c.name)));
  const severity = h("select", { name: "severity" }, ["", "high", "medium", "low"].map((s) => h("option", { value: s }, s || "All")));
  const state = h("select", { name: "state" }, h("option", { value: "open" }, "Open"),
    ["new", "notified", "acknowledged", "escalated", "confirmed", "false_positive"].map((s) => h("option", { value: s }, s)),
    h("option", { value: "" }, "All"));
  const list = h("ul", { class: "list", "aria-label": "Alerts", "aria-live": "polite" });
  async function refresh() {
    const q = new URLSearchParams({ limit: "100" });
    if (camera.value) q.set("camera_id", camera.value);
    if (severity.value) q.set("severity", severity.value);
    for (const s of state.value === "open" ? OPEN : state.value ? [state.value] : []) q.append("state", s);
    const page = await get(`/alerts?${q}`);
    list.replaceChildren(...page.items.sort(order).map((a) => alertCard(a, me, refresh)));
    if (!page.items.length) list.append(h("li", {}, "No alerts."));
  }
  [camera, severity, state].forEach((s) => s.addEventListener("change", refresh));
  await refresh();
  let pending = null;
  const soon = () => { pending ??= setTimeout(() => { pending = null; refresh(); }, 300); };
  const stops = ["alert.created", "alert.updated", "alert.escalated", "alert.evidence"].map((t) => on(t, soon));
  const node = h("div", {}, h("h1", {}, "Alerts"),
    h("form", { class: "filters", "aria-label": "Filter alerts", onsubmit: (e) => e.preventDefault() },
      field("Camera", camera), field("Severity", severity), field("State", state)), list);
  return { node, cleanup() { stops.forEach((s) => s()); clearTimeout(pending); } };
}
