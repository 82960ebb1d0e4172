// One alert, in full: snapshot and clip with the object's box and the rule's line or zone drawn
// on them, the risk explanation, the history (who did what, escalations), acknowledge with a
// note, confirm (then a link to the incident), false positive with a reason and an undo, and
// the acknowledgement deadline counting down. The view stays open through live changes: every
// field is updated in place (a note being typed, a playing clip and focus are kept).
//
// alertDetailView(me, alertId, { cameraName, onClose }) → { node, cleanup }, like a page;
// the Alerts page opens it for #/alerts/<alert id>.
import { get, post } from "../api.js";
import { on, subscribe } from "../live.js";
import { ago, field, h, human, timeAgo, when } from "../dom.js";
import { deliveryLog } from "./deliveries.js";
import { mediaPanel } from "./detail_overlay.js";
import { highAlertToggle, startHighAlertSignal } from "./detail_signal.js";
import { explain } from "./kit.js";

const WAITING = ["notified", "escalated"];
const DECIDABLE = [...WAITING, "acknowledged"];

/** "user:ann" → "ann"; "system" → "Argus (automatic)"; "apikey:ID" → the key's name. */
function actorName(actor, keys) {
  if (actor === "system") return "Argus (automatic)";
  if (actor.startsWith("user:")) return actor.slice(5);
  if (actor.startsWith("apikey:")) return `API key ${keys.get(actor.slice(7)) ?? actor.slice(7)}`;
  return actor;
}

/** "1:05", "0:09", "2:03:10": seconds as a clock. */
function clock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  const [hours, minutes, rest] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const pad = (n) => String(n).padStart(2, "0");
  return hours ? `${hours}:${pad(minutes)}:${pad(rest)}` : `${minutes}:${pad(rest)}`;
}

function historyItem(step, keys) {
  const escalation = step.to_state === "escalated";
  return h("li", { class: escalation ? "step escalation" : "step", "data-to": step.to_state },
    timeAgo(step.at), " ",
    h("strong", { class: "actor" }, actorName(step.actor, keys)), " ",
    h("span", { class: "move" }, escalation ? "escalated it" : `${human(step.from_state)} → ${human(step.to_state)}`),
    step.note ? h("q", { class: "note" }, step.note) : "");
}

function riskTable(alert) {
  const used = alert.risk_components.filter((c) => c.weight > 0);
  const unused = alert.risk_components.filter((c) => c.weight <= 0).map((c) => c.name);
  return h("div", { class: "risk" },
    h("p", {}, `Risk ${alert.risk_score.toFixed(2)} (${alert.severity}): the weighted mean of these parts.`),
    h("div", { class: "scroll" }, h("table", { "aria-label": "Risk explanation" },
      h("thead", {}, h("tr", {}, ["Part", "Value", "Weight", "Why"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, used.map((c) => h("tr", { "data-component": c.name },
        h("td", {}, human(c.name)), h("td", {}, c.value.toFixed(2)), h("td", {}, String(c.weight)), h("td", {}, c.reason)))))),
    unused.length ? h("p", { class: "muted" }, `Not applicable here: ${unused.map(human).join(", ")}.`) : "");
}

async function namesOf(me, given) {
  const [cameras, keys] = await Promise.all([
    given ? null : get("/cameras?limit=1000").catch(() => ({ items: [] })),
    me.can("admin") ? get("/api-keys").catch(() => ({ items: [] })) : { items: [] },
  ]);
  const cams = new Map((cameras?.items ?? []).map((c) => [c.id, c.name]));
  return {
    cameraName: given ?? ((id) => cams.get(id) ?? `camera ${id}`),
    keys: new Map((keys.items ?? []).map((k) => [k.id, k.name])),
  };
}

export async function alertDetailView(me, alertId, { cameraName: given, onClose } = {}) {
  let alert = await get(`/alerts/${encodeURIComponent(alertId)}`);
  const { cameraName, keys } = await namesOf(me, given);
  const can = me.can("act");

  // --- the parts that change in place --------------------------------------------------------
  const title = h("h1", {}, alert.rule_name);
  const sev = h("span", { class: "sev" });
  const state = h("span", { class: "state-badge" });
  const escalation = h("span", { class: "escalation-badge" });
  const facts = h("dl", { class: "facts" });
  const countdown = h("p", { class: "countdown", role: "timer", "aria-live": "off" });
  const history = h("ol", { class: "history", "aria-label": "History" });
  const status = h("p", { class: "form-status", role: "status" });
  const incident = h("p", { class: "incident-link" });
  const undoText = h("span", { class: "until" });
  const media = mediaPanel(alert);

  const note = h("textarea", { name: "note", rows: "2", maxlength: "2000", placeholder: "what you saw, what you did" });
  const reason = h("input", { name: "reason", maxlength: "2000", placeholder: "why this is not real" });
  const say = (text, ok = true) => { status.dataset.ok = String(ok); status.textContent = text; };
  const acknowledged = async () => {
    if (alert.state !== "acknowledged") alert = await post(`/alerts/${encodeURIComponent(alertId)}/acknowledge`, { note: "" });
  };
  const act = (label, run) => h("button", { type: "button", "data-action": label, onclick: async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      const text = await run();
      say(text ?? `${label}: done`);
      await reload();
    } catch (err) {
      say(`${label}: ${explain(err)}`, false);
      button.disabled = false;
      reload().catch(() => {});  // a first step may have gone through (or someone else acted)
    }
  } }, label);

  const acknowledge = act("Acknowledge", async () => {
    alert = await post(`/alerts/${encodeURIComponent(alertId)}/acknowledge`, { note: note.value.trim() });
    note.value = "";
    return "Acknowledged: the escalation stopped.";
  });
  const confirm = act("Confirm", async () => {
    await acknowledged();
    const done = await post(`/alerts/${encodeURIComponent(alertId)}/confirm`, {
      note: note.value.trim(), title: `${alert.rule_name} on ${cameraName(alert.camera_id)}`,
    });
    alert = done.alert;
    note.value = "";
    return "Confirmed: an incident was opened.";
  });
  const dismiss = act("False positive", async () => {
    const why = reason.value.trim();
    if (!why) {
      reason.focus();
      throw new Error("give a reason first (kept as feedback for tuning the rule)");
    }
    await acknowledged();
    alert = await post(`/alerts/${encodeURIComponent(alertId)}/dismiss`, { note: why });
    reason.value = "";
    return "Dismissed as a false positive. You can undo it for 10 minutes.";
  });
  const undo = act("Undo false positive", async () => {
    alert = await post(`/alerts/${encodeURIComponent(alertId)}/undo-dismiss`, { note: note.value.trim() || "dismissal undone" });
    note.value = "";
    return "Dismissal undone: the alert is acknowledged again.";
  });
  const undoLine = h("p", { class: "undo", hidden: true }, undo, undoText);

  const actions = can
    ? h("form", { class: "detail-actions", "aria-label": "Act on this alert", onsubmit: (e) => e.preventDefault() },
      field("Note (kept in the history)", note),
      h("div", { class: "buttons" }, acknowledge, confirm),
      field("False-positive reason (required)", reason),
      h("div", { class: "buttons" }, dismiss),
      undoLine, incident, status)
    : h("div", { class: "detail-actions" }, h("p", { class: "muted" }, "Viewers cannot act on alerts."), incident);

  // --- filling them -----------------------------------------------------------------------------
  let shownSteps = 0;
  function update() {
    root.dataset.state = alert.state;
    root.dataset.severity = alert.severity;
    root.dataset.escalationLevel = String(alert.escalation_level);
    title.textContent = alert.rule_name;
    sev.textContent = alert.severity;
    state.textContent = human(alert.state);
    state.dataset.state = alert.state;
    const waiting = WAITING.includes(alert.state);
    escalation.textContent = alert.escalation_level
      ? (waiting ? `Escalated ×${alert.escalation_level}` : `was escalated ×${alert.escalation_level}`) : "";
    escalation.hidden = !alert.escalation_level;
    escalation.classList.toggle("live", waiting && alert.escalation_level > 0);
    const what = [alert.class_name, alert.track_id === null ? null : `#${alert.track_id}`].filter(Boolean).join(" ");
    facts.replaceChildren(...[
      ["Camera", cameraName(alert.camera_id)],
      ["Object", what || "—"],
      ["Event", [human(alert.event_type), " · ", timeAgo(alert.event_time)]],
      ["Raised", timeAgo(alert.created_at)],
      ["Notified", alert.suppressed ? `no: ${alert.suppressed}` : alert.repeat ? "no: a repeat within its group" : "yes"],
    ].flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
    // The history only grows: new steps are appended (an open tooltip or selection survives).
    if (alert.history.length < shownSteps) { history.replaceChildren(); shownSteps = 0; }
    history.append(...alert.history.slice(shownSteps).map((t) => historyItem(t, keys)));
    shownSteps = alert.history.length;
    acknowledge.disabled = !WAITING.includes(alert.state);
    confirm.disabled = !DECIDABLE.includes(alert.state);
    dismiss.disabled = !DECIDABLE.includes(alert.state);
    reason.disabled = !DECIDABLE.includes(alert.state);
    incident.replaceChildren(...(alert.incident_id
      ? [h("a", { href: `#/incidents/${encodeURIComponent(alert.incident_id)}`, "data-incident": alert.incident_id }, "Open the incident this alert confirmed")]
      : []));
    tick();
  }

  /** The deadline and the undo window, once a second. */
  function tick() {
    const now = Date.now();
    const waiting = WAITING.includes(alert.state) || alert.state === "new";
    if (waiting && alert.ack_deadline) {
      const left = (Date.parse(alert.ack_deadline) - now) / 1000;
      countdown.dataset.deadline = alert.ack_deadline;
      countdown.dataset.overdue = String(left <= 0);
      countdown.textContent = left > 0
        ? `Acknowledge within ${clock(left)} or it escalates${alert.escalation_level ? " again" : ""} (at ${new Date(alert.ack_deadline).toLocaleTimeString()}).`
        : "Acknowledgement overdue: escalating now.";
    } else {
      delete countdown.dataset.deadline;
      countdown.dataset.overdue = "false";
      countdown.textContent = waiting ? `Waiting for an operator${alert.escalation_level ? ` (escalated ${alert.escalation_level} times, no further escalation)` : ""}.`
        : alert.state === "acknowledged" ? "Acknowledged: no deadline runs." : `Closed (${human(alert.state)}).`;
    }
    const until = alert.dismissal_undo_until ? Date.parse(alert.dismissal_undo_until) : 0;
    const undoable = can && alert.state === "false_positive" && until > now;
    undoLine.hidden = !undoable;
    undo.disabled = !undoable;
    undoText.textContent = undoable
      ? ` possible until ${new Date(until).toLocaleTimeString()} (${ago(alert.dismissal_undo_until, now)})` : "";
  }

  let reading = 0;
  async function reload() {
    const mine = ++reading;
    const fresh = await get(`/alerts/${encodeURIComponent(alertId)}`);
    if (mine !== reading) return;  // a newer read is on its way
    alert = fresh;
    update();
  }

  const back = h("a", { href: "#/alerts", class: "back", onclick: (event) => {
    if (!onClose) return;
    event.preventDefault();
    onClose();
  } }, "← All alerts");
  const root = h("article", { class: "alert-detail", "data-alert": alert.id, "aria-label": `Alert ${alert.rule_name}` },
    h("nav", { class: "detail-nav", "aria-label": "Alert detail" }, back,
      h("a", { href: `#/recordings?camera=${encodeURIComponent(alert.camera_id)}&at=${encodeURIComponent(alert.event_time)}`,
        class: "recording-link" }, "Play the recording"), highAlertToggle()),
    h("header", { class: "detail-head" }, h("div", { class: "badges" }, sev, state, escalation), title, countdown),
    h("div", { class: "detail-body" },
      h("div", { class: "detail-main" }, media.node, facts),
      h("aside", { class: "detail-side" }, actions,
        h("section", { "aria-label": "Why this risk" }, h("h2", {}, "Why this risk"), riskTable(alert)),
        h("section", { "aria-label": "What happened" }, h("h2", {}, "History"), history),
        deliveryLog(alert, me))),
    h("p", { class: "muted alert-id" }, `Alert ${alert.id} · raised ${when(alert.created_at)}`));
  update();
  await Promise.all([media.load(), media.refreshOverlay()]);

  // --- live: this alert's changes, its evidence, and its box once the minute's log is stored ---
  subscribe(["alerts"]);
  startHighAlertSignal();
  const mine = (m) => (m.alert?.id ?? m.alert_id) === alertId;
  const stops = ["alert.updated", "alert.escalated", "alert.created"].map((t) => on(t, (m) => {
    if (mine(m)) reload().catch(() => {});
  }));
  stops.push(on("alert.evidence", (m) => { if (mine(m)) media.load(); }));
  const timer = setInterval(tick, 1000);
  // The trajectory log of the event's minute is stored when the minute ends: ask again until
  // the box is known, for a few minutes after the event.
  const boxTimer = setInterval(async () => {
    const age = Date.now() - Date.parse(alert.event_time);
    if (media.overlay.box || alert.track_id === null || age > 5 * 60_000) { clearInterval(boxTimer); return; }
    await media.refreshOverlay();
  }, 15_000);
  return { node: root, cleanup() { stops.forEach((s) => s()); clearInterval(timer); clearInterval(boxTimer); media.stop(); } };
}
