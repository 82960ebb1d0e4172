// The alarm inbox, live over /ws, that cannot hide or shift alerts. The server sorts and pages
// (order=triage: high first, then escalated alerts still waiting, then the oldest), so an open
// high alert is never left out of the first pages; the totals say how many match per severity
// and state ("Showing 20 of 204"). Live changes update cards in place (inbox_card.js) and never
// reorder the list: new alerts wait behind a "3 new — show" button until the operator asks.
// Repeats of one rule on one camera are shown as one alert group (inbox_groups.js); "Single
// alerts" lists alerts one by one, with a selection and bulk actions (inbox_bulk.js).
// #/alerts?camera=<id> opens the inbox filtered to that camera; #/alerts/<id> one alert in full.
import { get } from "../api.js";
import { on, subscribe } from "../live.js";
import { field, h, hashRoute, human, toast } from "../dom.js";
import { alertDetailView } from "./alert_detail.js";
import { bulkBar } from "./inbox_bulk.js";
import { alertCard, CLOSED, OPEN } from "./inbox_card.js";
import { groupCard, snoozeStrip } from "./inbox_groups.js";
import { totalsStrip } from "./inbox_totals.js";

const PAGE = 20;
const MAX_PAGE = 1000;
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

export async function alertsView(me) {
  badgeCount = 0;
  viewing = true;
  showBadge();
  const route = hashRoute();
  const [cameras, rules] = await Promise.all([get("/cameras?limit=1000"), get("/rules?limit=1000").catch(() => ({ items: [] }))]);
  const names = new Map(cameras.items.map((c) => [c.id, c.name]));
  const ruleNames = new Map(rules.items.map((r) => [r.id, r.name]));
  const cameraName = (id) => names.get(id) ?? `camera ${id}`;
  const ruleName = (id) => ruleNames.get(id) ?? id;
  if (route.rest[0]) {
    const detail = await alertDetailView(me, route.rest[0], { cameraName, onClose: () => { location.hash = "#/alerts"; } });
    return { node: detail.node, cleanup() { viewing = false; detail.cleanup?.(); } };
  }
  return inbox(me, cameras.items, cameraName, ruleName, route.query.get("camera"));
}

function inbox(me, cameraList, cameraName, ruleName, cameraFromRoute) {
  const mode = h("select", { name: "mode" }, h("option", { value: "groups" }, "Groups"), h("option", { value: "alerts" }, "Single alerts"));
  const camera = h("select", { name: "camera" }, h("option", { value: "" }, "All"),
    cameraList.map((c) => h("option", { value: c.id }, c.name)));
  if (cameraFromRoute && cameraList.some((c) => c.id === cameraFromRoute)) camera.value = cameraFromRoute;
  const severity = h("select", { name: "severity" }, ["", "high", "medium", "low"].map((s) => h("option", { value: s }, s || "All")));
  const state = h("select", { name: "state" }, h("option", { value: "open" }, "Open"),
    [...OPEN, ...CLOSED].map((s) => h("option", { value: s }, human(s))), h("option", { value: "" }, "All"));
  const list = h("div", { class: "alert-list" });
  const shown = h("p", { class: "shown muted", role: "status" });
  const fresh = h("button", { type: "button", class: "fresh", hidden: true });
  const more = h("button", { type: "button", class: "load-more", hidden: true }, "Load more");
  const snoozes = snoozeStrip(me, ruleName, cameraName);
  const selection = new Set();

  // Groups hold alerts of every state: a specific alert state lists single alerts.
  const grouped = () => mode.value === "groups" && ["open", ""].includes(state.value);
  const inState = (s) => (state.value === "open" ? OPEN.includes(s) : !state.value || s === state.value);
  const matchesAlert = (a) => (!camera.value || a.camera_id === camera.value)
    && (!severity.value || a.severity === severity.value) && inState(a.state);
  const matchesGroup = (g) => (!camera.value || g.camera_id === camera.value)
    && (!severity.value || g.max_severity === severity.value) && (state.value !== "open" || g.state === "open");

  /** The filters as a query (alert states spelled out for /alerts and /alerts/summary). */
  function filters(forGroups) {
    const q = new URLSearchParams();
    if (camera.value) q.set("camera_id", camera.value);
    if (severity.value) q.set("severity", severity.value);
    if (forGroups) { if (state.value) q.set("state", state.value); }
    else if (state.value === "open") OPEN.forEach((s) => q.append("state", s));
    else if (state.value) q.append("state", state.value);
    return q;
  }
  const totals = totalsStrip(() => filters(false), (s) => { severity.value = s; reset(); });

  // Every card on the page, by list ("main", "latest:<group>", "history:<group>") and alert id:
  // a live change reaches each copy of an alert; a rebuilt list reuses the cards it still shows.
  const cards = new Map();
  const byId = new Map();
  const picked = () => {
    for (const box of list.querySelectorAll("li.alert input.pick")) box.checked = selection.has(box.closest("li").dataset.alert);
    bulk.refresh();
  };
  // The operator's own steps in flight: a list read waits for them, so it shows their outcome.
  const inflight = new Set();
  const track = (step) => {
    inflight.add(step);
    step.catch(() => {}).finally(() => inflight.delete(step));
  };
  const changed = (alert) => { for (const c of byId.get(alert.id) ?? []) c.update(alert); totalsSoon(); };
  function cardFor(alert, slot) {
    const key = `${slot}|${alert.id}`;
    let card = cards.get(key);
    if (card) { card.update(alert); return card; }
    card = alertCard(alert, me, { cameraName, selection, onSelect: picked, onChanged: changed, track,
      matches: slot.startsWith("history:") ? () => true : matchesAlert });
    cards.set(key, card);
    if (!byId.has(alert.id)) byId.set(alert.id, new Set());
    byId.get(alert.id).add(card);
    return card;
  }
  const groups = new Map();
  const groupCtx = { cameraName, cardFor, matches: matchesGroup, showOpen: () => state.value === "open", refreshSnoozes: () => snoozes.load() };
  const shownIds = () => [...new Set([...list.querySelectorAll("li.alert input.pick")].map((b) => b.closest("li").dataset.alert))];
  const bulk = bulkBar(me, { selection, shownIds, picked, track, applied: (alerts) => alerts.forEach(changed) });

  let listed = [];  // ids of the server's list on screen, in its order
  let total = 0;  // how many the server's list holds
  let loaded = PAGE;
  let latest = 0;
  const waiting = new Set();  // new alerts (or groups) not on screen yet: behind the button

  const escalations = new Set();  // of those, the ones that came by an escalation
  function showFresh() {
    fresh.hidden = waiting.size === 0;
    fresh.textContent = `${waiting.size} new${escalations.size ? " or escalated" : ""} — show`;
  }

  /** Reads the first ``loaded`` items in triage order and shows them (``append``: more below). */
  async function load(append = false) {
    const mine = ++latest;
    if (inflight.size) await Promise.allSettled([...inflight]);
    const asGroups = grouped();
    const q = filters(asGroups);
    const want = Math.min(MAX_PAGE, append ? listed.length + PAGE : Math.max(PAGE, loaded));
    q.set("limit", String(want));
    q.set("order", "triage");
    const page = await get(`${asGroups ? "/alert-groups" : "/alerts"}?${q}`);
    if (mine !== latest) return;
    const kind = asGroups ? "groups" : "alerts";
    let target = list.firstChild;
    if (target?.dataset.kind !== kind) {
      target = asGroups ? h("div", { class: "groups", "data-kind": kind, "aria-label": "Alert groups" })
        : h("ul", { class: "list", "data-kind": kind, "aria-label": "Alerts" });
      list.replaceChildren(target);
    }
    const onScreen = new Set(append ? listed : []);
    const items = page.items.filter((item) => !onScreen.has(item.id));
    const nodes = items.map((item) => {
      if (!asGroups) return cardFor(item, "main").card;
      if (!groups.has(item.id)) groups.set(item.id, groupCard(item.id, me, groupCtx));
      const card = groups.get(item.id);
      card.update(item, true);
      return card.node;
    });
    if (append) {
      target.append(...nodes);
      listed = [...listed, ...items.map((i) => i.id)];
    } else {
      target.replaceChildren(...nodes);
      listed = items.map((i) => i.id);
      forgetHidden(asGroups);
    }
    for (const id of listed) { waiting.delete(id); escalations.delete(id); }
    if (!append) { waiting.clear(); escalations.clear(); }
    loaded = Math.max(PAGE, listed.length);
    total = page.total;
    more.hidden = listed.length >= page.total;
    shown.textContent = listed.length ? `Showing ${listed.length} of ${page.total} ${asGroups ? "alert groups" : "alerts"}` : "";
    if (!listed.length) target.append(h(asGroups ? "p" : "li", {}, "No alerts."));
    showFresh();
    picked();
  }

  /** Drops the cards no list shows any more (so live changes stop reaching them). */
  function forgetHidden(asGroups) {
    if (!asGroups) groups.clear();
    for (const [key, card] of cards) {
      if (card.node.isConnected || (key.startsWith("main|") && listed.includes(card.id))) continue;
      cards.delete(key);
      byId.get(card.id)?.delete(card);
    }
  }

  const reset = () => {
    loaded = PAGE;
    waiting.clear();
    escalations.clear();
    const hash = camera.value ? `#/alerts?camera=${encodeURIComponent(camera.value)}` : "#/alerts";
    if (location.hash !== hash) history.replaceState(null, "", hash);
    load().catch((err) => toast(err.message));
    totals.load();
  };
  [mode, camera, severity, state].forEach((s) => s.addEventListener("change", reset));
  // "Show": the list is read again in triage order, as far down as the waiting alerts go (they
  // may sort below older ones), and they are marked; the first of them is scrolled to.
  fresh.addEventListener("click", async () => {
    const arrived = [...waiting];
    totals.load();
    try {
      await load();
      for (let reads = 0; reads < 10 && arrived.some((id) => !listed.includes(id)) && listed.length < total; reads += 1) {
        await load(true);
      }
    } catch (err) { toast(err.message); return; }
    const nodes = arrived.map((id) => list.querySelector(`[data-alert="${CSS.escape(id)}"], [data-group="${CSS.escape(id)}"]`)).filter(Boolean);
    nodes.forEach((n) => n.classList.add("arrived"));
    nodes[0]?.scrollIntoView({ block: "center" });
  });
  more.addEventListener("click", () => load(true).catch((err) => toast(err.message)));

  let pending = null;
  const totalsSoon = () => { pending ??= setTimeout(() => { pending = null; totals.load(); }, 500); };
  const onAlert = (type) => (m) => {
    const alert = m.alert;
    if (!alert?.id) return;
    const copies = byId.get(alert.id);
    if (copies?.size) copies.forEach((c) => c.update(alert));
    else if (type !== "alert.updated" && !grouped() && matchesAlert(alert)) {
      // Raised, or escalated into this view (an Escalated filter, a later page): it waits.
      waiting.add(alert.id);
      if (type === "alert.escalated") escalations.add(alert.id);
    }
    showFresh();
    totalsSoon();
  };
  const stops = ["alert.created", "alert.updated", "alert.escalated"].map((t) => on(t, onAlert(t)));
  // The group rides in the message's "alert" field (the alerts channel's one payload field).
  stops.push(on("alert_group.updated", (m) => {
    const group = m.alert ?? m.group;
    if (!group?.id) return;
    if (groups.has(group.id) && listed.includes(group.id)) {
      // A newer alert joined a group on screen: it waits behind the button too.
      if (groups.get(group.id).update(group)) waiting.add(group.id);
    } else if (grouped() && matchesGroup(group)) waiting.add(group.id);
    showFresh();
  }));
  stops.push(on("alert.evidence", (m) => { for (const c of byId.get(m.alert?.id) ?? []) c.reloadMedia(); }));

  const node = h("div", { class: "inbox" }, h("h1", {}, "Alerts"),
    h("form", { class: "filters", "aria-label": "Filter alerts", onsubmit: (e) => e.preventDefault() },
      field("Show", mode), field("Camera", camera), field("Severity", severity), field("State", state)),
    // The button's slot keeps its height when empty: its appearing moves nothing.
    totals.node, snoozes.node, bulk.node, shown, h("div", { class: "fresh-slot" }, fresh), list, more);
  return Promise.all([load(), totals.load(), snoozes.load()]).then(() => ({
    node,
    cleanup() { viewing = false; stops.forEach((s) => s()); clearTimeout(pending); },
  }));
}
