// Alert groups in the inbox: repeats of one rule on one camera (and zone or line) shown as one
// card with its count, first and last seen, its newest open alert's card, the group's actions
// (acknowledge all, dismiss with a reason, snooze the rule or the camera) and, on demand, all its
// alerts. A group card is updated in place; a group that leaves the view (dismissed in the Open
// view) gives way to a "gone" row of the same height. Also the strip of active snoozes.
import { del, get, post } from "../api.js";
import { field, h, human, toast, when } from "../dom.js";
import { alertCard, OPEN } from "./inbox_card.js";
import { SNOOZE_FOR } from "./kit.js";

const PAGE = 20;

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

/**
 * A group's card. ``ctx``: { cameraName, showOpen() (the Open view: the card shows the newest
 * open alert), matches(group), cardFor(alert, list) (a registered alert card), refreshSnoozes() }.
 * Returns { node, update(group, force) }.
 */
export function groupCard(groupId, me, ctx) {
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
      const nodes = page.items.map((a) => ctx.cardFor(a, `history:${groupId}`).node);
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
  const gone = h("article", { class: "group-gone card", "data-gone-group": groupId });
  let shown = "";
  let headlineKey = "";

  /**
   * The alert the card shows: its newest open one (Open view), else its latest. Once shown it
   * stays (updated in place, or as a "gone" row once it left the view), so a newer alert of the
   * group never takes its place under the pointer; ``force`` (a refreshed list, a group step
   * here) reads it again.
   */
  let headCard = null;
  let headCount = 0;  // the group's count when its headline was read
  let reading = 0;
  async function headline(group, force) {
    if (!force && headCard) return;
    const mine = ++reading;
    headCount = group.count;
    let alert = null;
    try {
      if (ctx.showOpen()) {
        const q = new URLSearchParams({ group_id: group.id, limit: "1" });
        OPEN.forEach((s) => q.append("state", s));
        alert = (await get(`/alerts?${q}`)).items[0] ?? null;
      } else {
        alert = await get(`/alerts/${encodeURIComponent(group.latest_alert_id)}`);
      }
    } catch { alert = null; }
    if (mine !== reading) return;  // a newer read overtook this answer
    headCard = alert ? ctx.cardFor(alert, `latest:${groupId}`) : null;
    if (latest.firstChild !== headCard?.node) latest.replaceChildren(...(headCard ? [headCard.node] : []));
  }

  async function step(label, call) {
    try {
      const done = await call();
      toast(`${label}: done`);
      update(done.group, true);
      if (history.open) loadAlerts(false);
    } catch (err) { toast(`${label}: ${err.message}`); }
  }

  function fill(group) {
    node.dataset.state = group.state;
    node.dataset.severity = group.max_severity;
    node.setAttribute("aria-label", `Group ${group.rule_name} on ${ctx.cameraName(group.camera_id)}`);
    head.replaceChildren(
      h("span", { class: "sev" }, group.max_severity), " ", h("strong", {}, group.rule_name),
      ` · ${ctx.cameraName(group.camera_id)}${group.subject ? ` · ${group.subject}` : ""} · `,
      h("span", { class: "count", "data-count": String(group.count) }, `×${group.count}`),
      ` · ${group.open_count} open · `, h("em", { class: "state" }, human(group.state)),
      h("div", { class: "seen muted" }, `first seen ${when(group.first_seen)} · last seen `,
        h("time", { datetime: group.last_seen }, when(group.last_seen))));
    const can = me.can("act");
    const ref = encodeURIComponent(group.id);
    const groupAct = (label, call, enabled = true) => h("button", {
      type: "button", disabled: !can || !enabled, onclick: () => step(label, call),
    }, label);
    // The controls are rebuilt only when the group changed: a reason being typed stays (note).
    actions.replaceChildren(
      groupAct(`Acknowledge group (${group.open_count})`,
        () => post(`/alert-groups/${ref}/acknowledge`, { note: "" }), group.open_count > 0),
      can && group.open_count > 0 ? field("Dismissal reason", note) : "",
      groupAct("Dismiss group", async () => {
        if (!note.value.trim()) throw new Error("give a reason first");
        try { await post(`/alert-groups/${ref}/acknowledge`, { note: "" }); } catch { /* already taken */ }
        return post(`/alert-groups/${ref}/dismiss`, { note: note.value.trim() });
      }, group.open_count > 0),
      snoozeControls(group, me, ctx.refreshSnoozes));
  }

  /** Shows ``group`` in place; true when the card's alert is not the one to show any more. */
  function update(group, force = false) {
    const key = JSON.stringify(group);
    if (key !== shown) {
      shown = key;
      fill(group);
      if (history.open) loadAlerts(false);
    }
    headline(group, force);
    const belongs = ctx.matches(group);
    if (!belongs && node.isConnected) {
      gone.style.minHeight = `${node.offsetHeight}px`;
      gone.replaceChildren(h("strong", {}, group.rule_name),
        ` on ${ctx.cameraName(group.camera_id)} is now ${human(group.state)}: it leaves this list when it is refreshed.`);
      node.replaceWith(gone);
    } else if (belongs && gone.isConnected) {
      gone.replaceWith(node);
    }
    const left = headCard !== null && headCard.node !== headCard.card;
    return !force && group.state === "open" && (group.count > headCount || left);
  }
  return { get node() { return gone.isConnected ? gone : node; }, update };
}

/** Active snoozes and maintenance windows: what is not notified now; snoozes can be lifted. */
export function snoozeStrip(me, ruleName, cameraName) {
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
