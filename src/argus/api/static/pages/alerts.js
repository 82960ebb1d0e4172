// Alerts inbox: live over /ws, sorted by severity then time, with actions per role.
import { blobUrl, get, post } from "../api.js";
import { on, subscribe } from "../live.js";
import { field, h, toast, when } from "../dom.js";

const RANK = { high: 0, medium: 1, low: 2 };
const OPEN = ["new", "notified", "acknowledged", "escalated"];
const WAITING = ["notified", "escalated"];
const DECIDABLE = [...WAITING, "acknowledged"];
const acknowledged = async (alert) => {
  if (alert.state !== "acknowledged") await post(`/alerts/${alert.id}/acknowledge`, { note: "" });
};
let badgeCount = 0;
let viewing = false;

function showBadge() {
  const badge = document.getElementById("alert-badge");
  badge.textContent = badgeCount ? String(badgeCount) : "";
  badge.setAttribute("aria-label", badgeCount ? `${badgeCount} new` : "");
}

/** Counts alerts raised while the inbox is not on screen; opening it clears the count. */
let stopBadge = null;
export function startAlertBadge() {
  stopBadge?.();
  badgeCount = 0;
  showBadge();
  subscribe(["alerts"]);
  stopBadge = on("alert.created", () => {
    if (viewing) return;
    badgeCount += 1;
    showBadge();
  });
}

function order(a, b) {
  return (RANK[a.severity] - RANK[b.severity]) || b.created_at.localeCompare(a.created_at);
}

const GAP_TEXT = { shed: "capture queue full", no_frames: "no video buffered", failed: "capture failed" };

/** Tamper and offline alerts: the view before the change and after it, side by side. */
async function beforeAfter(pair) {
  const side = async (kind) => {
    const item = pair[kind];
    const picture = item
      ? h("img", { src: await blobUrl(`/evidence/${item.id}/content`), alt: `Alert ${kind}` })
      : h("div", { class: "no-video" }, "not received yet");
    return h("figure", { "data-kind": kind }, picture, h("figcaption", {}, kind));
  };
  return h("div", { class: "before-after" }, await side("before"), await side("after"));
}

/** The alert's snapshot at once; its clip (larger) when asked for. Both decrypted by the server. */
async function evidence(alert, box) {
  try {
    const list = await get(`/evidence?alert_id=${encodeURIComponent(alert.id)}`);
    const pair = { before: null, after: null };
    for (const gap of list.gaps ?? []) {
      box.append(h("p", { class: "evidence-gap", role: "note", "data-gap": gap.reason },
        `Evidence missing (${GAP_TEXT[gap.reason] ?? gap.reason}): ${gap.detail}`));
    }
    for (const item of list.items) {
      if (item.tampered) {
        box.append(h("p", { class: "evidence-gap", role: "note", "data-tampered": item.id },
          `Evidence ${item.kind} failed its integrity check and is not shown`));
      } else if (item.kind === "before" || item.kind === "after") {
        pair[item.kind] ??= item;
      } else if (item.content_type.startsWith("video")) {
        const play = h("button", { type: "button", class: "clip", onclick: async () => {
          try {
            const url = await blobUrl(`/evidence/${item.id}/content`);
            play.replaceWith(h("video", { src: url, controls: true, autoplay: true, muted: true, "aria-label": "Alert clip" }));
          } catch (err) { toast(`Clip: ${err.message}`); }
        } }, `▶ Play clip (${Math.max(1, Math.round(item.size / 1024))} KiB)`);
        box.append(play);
      } else {
        box.append(h("img", { src: await blobUrl(`/evidence/${item.id}/content`), alt: `Alert ${item.kind}` }));
      }
    }
    if (pair.before || pair.after) box.append(await beforeAfter(pair));
  } catch { /* evidence may not be stored yet: alert.evidence redraws the card */ }
}

function alertCard(alert, me, refresh, cameraName) {
  // Escalated and still waiting: it stands out until someone takes it.
  const escalated = alert.escalation_level > 0 && WAITING.includes(alert.state);
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
  const what = [alert.event_type,
    [alert.class_name, alert.track_id === null ? null : `#${alert.track_id}`].filter(Boolean).join(" "),
    cameraName(alert.camera_id), when(alert.created_at)].filter(Boolean).join(" · ");
  return h("li", {
    class: `alert${escalated ? " escalated" : ""}`, "data-severity": alert.severity,
    "data-state": alert.state, "data-alert": alert.id, "aria-label": `${alert.severity} alert ${alert.rule_name}`,
  },
  h("div", {}, h("span", { class: "sev" }, alert.severity), " ",
    h("strong", {}, alert.rule_name), ` · ${what} · `, h("em", { class: "state" }, alert.state.replace("_", " ")),
    escalated ? h("strong", { class: "escalation" }, ` · ESCALATED ×${alert.escalation_level}`)
      : alert.escalation_level > 0 ? ` · was escalated ×${alert.escalation_level}` : ""),
  explain, media,
  h("div", { class: "actions" },
    act("Acknowledge", () => post(`/alerts/${alert.id}/acknowledge`, { note: "" }), WAITING),
    // Confirming or dismissing takes the alert first when nobody has yet (one click).
    act("Confirm", async () => {
      await acknowledged(alert);
      await post(`/alerts/${alert.id}/confirm`, { title: `${alert.rule_name} on ${cameraName(alert.camera_id)}` });
    }, DECIDABLE),
    act("False positive", async () => {
      await acknowledged(alert);
      await post(`/alerts/${alert.id}/dismiss`, { note: "false positive" });
    }, DECIDABLE),
    alert.incident_id ? h("a", { href: `#/incidents/${alert.incident_id}` }, "Incident") : ""));
}

export async function alertsView(me) {
  badgeCount = 0;
  viewing = true;
  showBadge();
  const cameras = (await get("/cameras")).items;
  const camera = h("select", { name: "camera" }, h("option", { value: "" }, "All"),
    cameras.map((c) => h("option", { value: c.id }, c.name)));
  const severity = h("select", { name: "severity" }, ["", "high", "medium", "low"].map((s) => h("option", { value: s }, s || "All")));
  const state = h("select", { name: "state" }, h("option", { value: "open" }, "Open"),
    ["new", "notified", "acknowledged", "escalated", "confirmed", "false_positive", "cleared"].map((s) => h("option", { value: s }, s)),
    h("option", { value: "" }, "All"));
  const names = new Map(cameras.map((c) => [c.id, c.name]));
  const cameraName = (id) => names.get(id) ?? `camera ${id}`;
  const list = h("ul", { class: "list", "aria-label": "Alerts", "aria-live": "polite" });
  // Cards of unchanged alerts are kept (with their decrypted media) across refreshes.
  const cards = new Map();
  const card = (alert) => {
    const key = JSON.stringify(alert);
    const kept = cards.get(alert.id);
    if (kept?.key === key) return kept.node;
    const node = alertCard(alert, me, refresh, cameraName);
    cards.set(alert.id, { key, node });
    return node;
  };
  let latest = 0;
  async function refresh() {
    const mine = ++latest;  // a slower, older answer must not overwrite a newer one
    const q = new URLSearchParams({ limit: "100" });
    if (camera.value) q.set("camera_id", camera.value);
    if (severity.value) q.set("severity", severity.value);
    for (const s of state.value === "open" ? OPEN : state.value ? [state.value] : []) q.append("state", s);
    const page = await get(`/alerts?${q}`);
    if (mine !== latest) return;
    list.replaceChildren(...page.items.sort(order).map(card));
    if (!page.items.length) list.append(h("li", {}, "No alerts."));
  }
  [camera, severity, state].forEach((s) => s.addEventListener("change", refresh));
  await refresh();
  let pending = null;
  const soon = () => { pending ??= setTimeout(() => { pending = null; refresh(); }, 300); };
  const stops = ["alert.created", "alert.updated", "alert.escalated"].map((t) => on(t, soon));
  stops.push(on("alert.evidence", (m) => { cards.delete(m.alert?.id); soon(); }));
  const node = h("div", {}, h("h1", {}, "Alerts"),
    h("form", { class: "filters", "aria-label": "Filter alerts", onsubmit: (e) => e.preventDefault() },
      field("Camera", camera), field("Severity", severity), field("State", state)), list);
  return { node, cleanup() { viewing = false; stops.forEach((s) => s()); clearTimeout(pending); } };
}
