// Alerts inbox, live over /ws. Repeats of one rule on one camera (and zone or line) are
// shown as one alert group: its count, first and last seen, its latest alert's card, the
// group's actions (acknowledge all, dismiss, snooze the rule or the camera) and, on demand,
// all its alerts. "Single alerts" lists alerts one by one. Both lists page by cursor
// ("Load more", with the total); every alert card has its delivery log.
import { blobUrl, del, get, post } from "../api.js";
import { on, subscribe } from "../live.js";
import { field, h, toast, when } from "../dom.js";
import { deliveryLog } from "./deliveries.js";
import { SNOOZE_FOR } from "./kit.js";

const PAGE = 20;
const CLOSED = ["confirmed", "false_positive", "cleared"];
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
  alert.suppressed ? h("p", { class: "suppressed", role: "note" }, `Not notified: ${alert.suppressed}`) : "",
  explain, media, deliveryLog(alert, me),
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

/** Snoozes the group's rule or camera for the chosen time (operators and admins). */
function snoozeControls(group, me, done) {
  const span = h("select", { name: "snooze_for" }, SNOOZE_FOR.map(([label, s]) => h("option", { value: String(s) }, label)));
  const snooze = (what, body) => h("button", { type: "button", onclick: async () => {
    const until = new Date(Date.now() + Number(span.value) * 1000).toISOString();
    try {
      await post("/snoozes", { ...body, until, reason: `snoozed from the Alerts page (${group.rule_name})` });
      toast(`${what} snoozed until ${when(until)}`);
      done();
    } catch (err) { toast(`Snooze: ${err.message}`); }
  } }, `Snooze ${what}`);
  if (!me.can("act")) return "";
  return h("span", { class: "snooze" }, field("Snooze for", span),
    snooze("rule", { rule_id: group.rule_id }), snooze("camera", { camera_id: group.camera_id }));
}

/** A group's card; ``update(group, latestNode)`` refreshes it in place (open sections kept). */
function groupCard(groupId, me, ctx) {
  const head = h("div", { class: "group-head" });
  const latest = h("ul", { class: "list latest", "aria-label": "Latest alert" });
  const all = h("ul", { class: "list", "aria-label": "Alerts of the group" });
  const more = h("button", { type: "button", hidden: true }, "More alerts of the group");
  let cursor = null;
  const loadAlerts = async (append) => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (append && cursor) q.set("cursor", cursor);
    try {
      const page = await get(`/alert-groups/${encodeURIComponent(groupId)}/alerts?${q}`);
      const nodes = page.items.map((a) => alertCard(a, me, ctx.refresh, ctx.cameraName));
      if (append) all.append(...nodes); else all.replaceChildren(...nodes);
      cursor = page.next_cursor ?? null;
      more.hidden = !cursor;
    } catch (err) { all.replaceChildren(h("li", { class: "error" }, err.message)); }
  };
  more.addEventListener("click", () => loadAlerts(true));
  const history = h("details", { class: "group-alerts" }, h("summary", {}, "All alerts of the group"), all, more);
  history.addEventListener("toggle", () => { if (history.open) loadAlerts(false); });
  const note = h("input", { name: "dismiss_note", placeholder: "why these are false positives", maxlength: "500" });
  const actions = h("div", { class: "actions group-actions" });
  const node = h("article", { class: "group card", "data-group": groupId }, head, actions, latest, history);
  let shown = "";

  function update(group, latestNode) {
    const key = JSON.stringify(group);
    if (key !== shown) {
      shown = key;
      node.dataset.state = group.state;
      node.dataset.severity = group.max_severity;
      node.setAttribute("aria-label", `Group ${group.rule_name} on ${ctx.cameraName(group.camera_id)}`);
      head.replaceChildren(
        h("span", { class: "sev" }, group.max_severity), " ", h("strong", {}, group.rule_name),
        ` · ${ctx.cameraName(group.camera_id)}${group.subject ? ` · ${group.subject}` : ""} · `,
        h("span", { class: "count", "data-count": String(group.count) }, `×${group.count}`),
        ` · ${group.open_count} open · `, h("em", { class: "state" }, group.state),
        h("div", { class: "seen muted" }, `first seen ${when(group.first_seen)} · last seen `,
          h("time", { datetime: group.last_seen }, when(group.last_seen))));
      const can = me.can("act");
      const groupAct = (label, call, enabled = true) => h("button", {
        type: "button", disabled: !can || !enabled, onclick: async () => {
          try { await call(); toast(`${label}: done`); ctx.refresh(); } catch (err) { toast(`${label}: ${err.message}`); }
        },
      }, label);
      actions.replaceChildren(
        groupAct(`Acknowledge group (${group.open_count})`,
          () => post(`/alert-groups/${group.id}/acknowledge`, { note: "" }), group.open_count > 0),
        can && group.open_count > 0 ? field("Dismissal reason", note) : "",
        groupAct("Dismiss group", async () => {
          if (!note.value.trim()) throw new Error("give a reason first");
          try { await post(`/alert-groups/${group.id}/acknowledge`, { note: "" }); } catch { /* already taken */ }
          await post(`/alert-groups/${group.id}/dismiss`, { note: note.value.trim() });
        }, group.open_count > 0),
        snoozeControls(group, me, ctx.refreshSnoozes));
      if (history.open) loadAlerts(false);
    }
    // No open alert left (Open view): the card keeps the group, without an alert.
    if (latest.firstChild !== latestNode) latest.replaceChildren(...(latestNode ? [latestNode] : []));
  }
  return { node, update };
}

/** Active snoozes and maintenance windows: what is not notified now; snoozes can be lifted. */
function snoozeStrip(me, ruleName, cameraName) {
  const box = h("section", { class: "snoozes", "aria-label": "Active snoozes" });
  async function load() {
    const [snoozes, windows] = await Promise.all([
      get("/snoozes").then((p) => p.items ?? [], () => []),
      get("/maintenance-windows").then((p) => p.items ?? [], () => [])]);
    const now = Date.now();
    const active = snoozes.filter((s) => Date.parse(s.until) > now);
    const maintenance = windows.filter((w) => Date.parse(w.start) <= now && Date.parse(w.end) > now)
      .map((w) => h("p", { class: "maintenance", "data-window": w.id },
        `Maintenance "${w.name}" (${w.camera_ids?.length ? w.camera_ids.map(cameraName).join(", ") : "all cameras"}) until ${when(w.end)}: alerts are kept, not notified`));
    box.replaceChildren(...maintenance, ...active.map((s) => h("p", { class: "snoozed", "data-snooze": s.id },
      `Snoozed: ${[s.rule_id ? `rule ${ruleName(s.rule_id)}` : "", s.camera_id ? `camera ${cameraName(s.camera_id)}` : ""].filter(Boolean).join(" on ")} until ${when(s.until)} `,
      me.can("act") ? h("button", { type: "button", onclick: async () => {
        try { await del(`/snoozes/${s.id}`); toast("Snooze lifted"); load(); } catch (err) { toast(`Snooze: ${err.message}`); }
      } }, "Lift snooze") : "")));
  }
  return { node: box, load };
}

const RANK = { high: 0, medium: 1, low: 2 };
const bySeverity = (a, b) => (RANK[a.severity] - RANK[b.severity]) || b.created_at.localeCompare(a.created_at);
const groupOrder = (a, b) => (RANK[a.max_severity] - RANK[b.max_severity]) || b.last_seen.localeCompare(a.last_seen);

export async function alertsView(me) {
  badgeCount = 0;
  viewing = true;
  showBadge();
  const [cameras, rules] = await Promise.all([get("/cameras?limit=1000"), get("/rules?limit=1000").catch(() => ({ items: [] }))]);
  const names = new Map(cameras.items.map((c) => [c.id, c.name]));
  const ruleNames = new Map(rules.items.map((r) => [r.id, r.name]));
  const cameraName = (id) => names.get(id) ?? `camera ${id}`;
  const ruleName = (id) => ruleNames.get(id) ?? id;
  const mode = h("select", { name: "mode" }, h("option", { value: "groups" }, "Groups"), h("option", { value: "alerts" }, "Single alerts"));
  const camera = h("select", { name: "camera" }, h("option", { value: "" }, "All"),
    cameras.items.map((c) => h("option", { value: c.id }, c.name)));
  const severity = h("select", { name: "severity" }, ["", "high", "medium", "low"].map((s) => h("option", { value: s }, s || "All")));
  const state = h("select", { name: "state" }, h("option", { value: "open" }, "Open"),
    ["new", "notified", "acknowledged", "escalated", ...CLOSED].map((s) => h("option", { value: s }, s)),
    h("option", { value: "" }, "All"));
  const list = h("div", { class: "alert-list", "aria-live": "polite" });
  const shown = h("p", { class: "shown muted", role: "status" });
  const more = h("button", { type: "button", class: "load-more", hidden: true }, "Load more");
  const snoozes = snoozeStrip(me, ruleName, cameraName);
  // Cards of unchanged alerts are kept (with their decrypted media) across refreshes.
  const cards = new Map();
  const headlines = new Map();  // group id -> {key, alert}: the alert its card shows
  const groups = new Map();
  // After an action here the alerts are read again (not only from the socket's messages).
  const ctx = { cameraName, refresh: () => { headlines.clear(); soon(); }, refreshSnoozes: () => snoozes.load() };
  const card = (alert) => {
    const key = JSON.stringify(alert);
    const kept = cards.get(alert.id);
    if (kept?.key === key) return kept.node;
    const node = alertCard(alert, me, ctx.refresh, cameraName);
    cards.set(alert.id, { key, node });
    return node;
  };
  let cursor = null;
  let loaded = PAGE;
  let latest = 0;
  // Groups hold alerts of every state: a specific alert state lists single alerts.
  const grouped = () => mode.value === "groups" && ["open", ""].includes(state.value);
  const openStates = (q) => OPEN.forEach((s) => q.append("state", s));

  function query(limit, from) {
    const q = new URLSearchParams({ limit: String(limit) });
    if (from) q.set("cursor", from);
    if (camera.value) q.set("camera_id", camera.value);
    if (severity.value) q.set("severity", severity.value);
    if (grouped()) {
      if (state.value) q.set("state", state.value);
    } else if (state.value === "open") openStates(q);
    else if (state.value) q.append("state", state.value);
    return q;
  }

  /** The alert a group's card shows: its newest open one (Open), else its latest. */
  async function headline(g) {
    const key = `${state.value}|${JSON.stringify(g)}`;
    const kept = headlines.get(g.id);
    if (kept?.key === key) return kept.alert;
    let alert = null;
    try {
      if (state.value === "open") {
        const q = new URLSearchParams({ group_id: g.id, limit: "1" });
        openStates(q);
        alert = (await get(`/alerts?${q}`)).items[0] ?? null;
      } else {
        alert = await get(`/alerts/${encodeURIComponent(g.latest_alert_id)}`);
      }
    } catch { alert = null; }
    headlines.set(g.id, { key, alert });
    return alert;
  }

  async function groupNodes(items) {
    const shownAlerts = await Promise.all(items.map(headline));
    return items.map((g, i) => {
      if (!groups.has(g.id)) groups.set(g.id, groupCard(g.id, me, ctx));
      const entry = groups.get(g.id);
      entry.update(g, shownAlerts[i] ? card(shownAlerts[i]) : null);
      return entry.node;
    });
  }

  /** Reads the first ``loaded`` items again (or the next page: ``append``) and shows them. */
  async function refresh(append = false) {
    const mine = ++latest;  // a slower, older answer must not overwrite a newer one
    const asGroups = grouped();
    const q = query(append ? PAGE : loaded, append ? cursor : null);
    const page = asGroups ? await get(`/alert-groups?${q}`) : await get(`/alerts?${q}`);
    if (mine !== latest) return;
    const sorted = [...page.items].sort(asGroups ? groupOrder : bySeverity);
    const nodes = asGroups ? await groupNodes(sorted) : sorted.map(card);
    if (mine !== latest) return;
    const kind = asGroups ? "groups" : "alerts";
    let target = list.firstChild;
    if (target?.dataset.kind !== kind) {
      target = asGroups ? h("div", { class: "groups", "data-kind": kind, "aria-label": "Alert groups" })
        : h("ul", { class: "list", "data-kind": kind, "aria-label": "Alerts" });
      list.replaceChildren(target);
    }
    if (append) target.append(...nodes); else target.replaceChildren(...nodes);
    cursor = page.next_cursor ?? null;
    const count = target.children.length;
    if (!append) loaded = Math.max(PAGE, count);
    more.hidden = !cursor;
    shown.textContent = count ? `Showing ${count} of ${page.total ?? count} ${kind === "groups" ? "alert groups" : "alerts"}` : "";
    if (!count) target.append(h(asGroups ? "p" : "li", {}, "No alerts."));
  }
  const reset = () => { loaded = PAGE; cursor = null; refresh().catch((err) => toast(err.message)); };
  [mode, camera, severity, state].forEach((s) => s.addEventListener("change", reset));
  more.addEventListener("click", () => {
    // Counted first: a live refresh starting meanwhile (which drops this answer) reads them too.
    loaded = (list.firstChild?.children.length ?? 0) + PAGE;
    refresh(true).catch((err) => toast(err.message));
  });
  await Promise.all([refresh(), snoozes.load()]);
  let pending = null;
  const soon = () => { pending ??= setTimeout(() => { pending = null; refresh().catch(() => {}); }, 300); };
  const changed = (m) => { if (m.alert?.group_id) headlines.delete(m.alert.group_id); else headlines.clear(); soon(); };
  const stops = ["alert.created", "alert.updated", "alert.escalated"].map((t) => on(t, changed));
  // The group rides in the message's "alert" field (the alerts channel's one payload field).
  stops.push(on("alert_group.updated", (m) => { headlines.delete((m.alert ?? m.group)?.id); soon(); }));
  stops.push(on("alert.evidence", (m) => { cards.delete(m.alert?.id); changed(m); }));
  const node = h("div", {}, h("h1", {}, "Alerts"),
    h("form", { class: "filters", "aria-label": "Filter alerts", onsubmit: (e) => e.preventDefault() },
      field("Show", mode), field("Camera", camera), field("Severity", severity), field("State", state)),
    snoozes.node, shown, list, more);
  return { node, cleanup() { viewing = false; stops.forEach((s) => s()); clearTimeout(pending); } };
}
