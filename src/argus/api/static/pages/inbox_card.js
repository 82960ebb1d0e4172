// One alert's card in the inbox, built once and then updated in place: a live change (state,
// escalation, evidence) rewrites only the fields that changed, so an open risk explanation, a
// playing clip, a ticked checkbox and keyboard focus survive it. Every action names the alert by
// the id the card was built for, never by its position in a list. When the alert no longer
// belongs in the view (dismissed, confirmed, cleared in the Open view), the card gives way to a
// "gone" row of the same height, so nothing below it moves under the pointer.
//
// alertCard(alert, me, ctx) → { id, node, alert, update(alert), reloadMedia(), remove() } where
// ctx = { cameraName(id), matches(alert) (does it belong in this list), selection (a Set of ids,
// or null where cards are not selectable), onSelect(), onChanged(alert) (after an action here),
// track(promise) (an action in flight) }.
import { blobUrl, get, post } from "../api.js";
import { h, human, timeAgo, toast } from "../dom.js";
import { deliveryLog } from "./deliveries.js";
import { gapNote } from "./kit.js";

export const WAITING = ["new", "notified", "escalated"];
export const OPEN = [...WAITING, "acknowledged"];
export const CLOSED = ["confirmed", "false_positive", "cleared"];
const ACKABLE = ["notified", "escalated"];  // a "new" alert is being notified: not yet
const DECIDABLE = [...ACKABLE, "acknowledged"];

/** Takes the alert first when nobody has yet (confirming or dismissing is one click). */
async function taken(id, state) {
  if (ACKABLE.includes(state)) await post(`/alerts/${encodeURIComponent(id)}/acknowledge`, { note: "" });
}

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
async function evidence(alertId, box) {
  try {
    const list = await get(`/evidence?alert_id=${encodeURIComponent(alertId)}`);
    const parts = [];
    const pair = { before: null, after: null };
    parts.push(...(list.gaps ?? []).map(gapNote));
    for (const item of list.items) {
      if (item.tampered) {
        parts.push(h("p", { class: "evidence-gap", role: "note", "data-tampered": item.id },
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
        parts.push(play);
      } else {
        parts.push(h("img", { src: await blobUrl(`/evidence/${item.id}/content`), alt: `Alert ${item.kind}` }));
      }
    }
    if (pair.before || pair.after) parts.push(await beforeAfter(pair));
    // A clip already playing is kept: new evidence never restarts it.
    if (!box.querySelector("video")) box.replaceChildren(...parts);
  } catch { /* evidence may not be stored yet: alert.evidence reloads it */ }
}

const escalatedNow = (alert) => alert.escalation_level > 0 && WAITING.includes(alert.state);

export function alertCard(first, me, ctx) {
  const id = first.id;
  let alert = first;
  const can = me.can("act");
  const stateText = h("em", { class: "state" });
  const escalation = h("span", { class: "escalation-slot" });
  const when = h("span", { class: "when" });
  const suppressed = h("p", { class: "suppressed", role: "note", hidden: true });
  const risk = h("details", { class: "why" }, h("summary", {}, `Risk ${first.risk_score.toFixed(2)}: why`),
    h("ul", {}, first.risk_components.filter((c) => c.weight > 0)
      .map((c) => h("li", {}, `${c.name}: ${c.value.toFixed(2)} × ${c.weight} — ${c.reason}`))));
  const media = h("div", { class: "media" });
  const incident = h("span", { class: "incident-slot" });
  const buttons = [];
  let busy = false;

  const act = (label, states, call) => {
    const button = h("button", { type: "button", "data-states": states.join(" "),
      title: can ? "" : "Viewers cannot act on alerts",
      onclick: async () => {
        if (busy) return;
        busy = true;
        sync();
        try {
          const step = call(alert.state);
          ctx.track?.(step);  // a list read waits for it: the list shows its outcome
          const next = await step;
          toast(`${label}: done`);
          ctx.onChanged?.(next);
          update(next);
        } catch (err) { toast(`${label}: ${err.message}`); }
        finally { busy = false; sync(); }
      } }, label);
    buttons.push(button);
    return button;
  };
  const ref = encodeURIComponent(id);
  // A false positive needs a reason (asked for in place; Undo is offered once it is done).
  const reason = h("input", { name: "fp_reason", maxlength: "500", placeholder: "why it is a false positive",
    "aria-label": `Why alert ${first.rule_name} is a false positive` });
  const ask = h("span", { class: "fp-reason", hidden: true }, reason,
    act("Dismiss as false positive", DECIDABLE, async (state) => {
      const note = reason.value.trim();
      if (!note) { reason.focus(); throw new Error("give a reason first"); }
      await taken(id, state);
      return post(`/alerts/${ref}/dismiss`, { note });
    }),
    h("button", { type: "button", onclick: () => { ask.hidden = true; } }, "Cancel"));
  const falsePositive = h("button", { type: "button", "data-states": DECIDABLE.join(" "),
    onclick: () => { ask.hidden = false; reason.focus(); } }, "False positive");
  buttons.push(falsePositive);
  const actions = h("div", { class: "actions" },
    act("Acknowledge", ACKABLE, () => post(`/alerts/${ref}/acknowledge`, { note: "" })),
    act("Confirm", DECIDABLE, async (state) => {
      await taken(id, state);
      const done = await post(`/alerts/${ref}/confirm`, { title: `${alert.rule_name} on ${ctx.cameraName(alert.camera_id)}` });
      return done.alert;
    }),
    falsePositive,
    h("a", { href: `#/alerts/${encodeURIComponent(id)}`, class: "details-link", "aria-label": `Details of alert ${first.rule_name}` }, "Details"),
    incident);
  const pick = ctx.selection && can ? h("input", { type: "checkbox", class: "pick", name: "select",
    "aria-label": `Select alert ${first.rule_name} ${first.id}`,
    onchange: () => { if (pick.checked) ctx.selection.add(id); else ctx.selection.delete(id); ctx.onSelect?.(); } }) : "";
  const what = [first.event_type,
    [first.class_name, first.track_id === null ? null : `#${first.track_id}`].filter(Boolean).join(" "),
    ctx.cameraName(first.camera_id)].filter(Boolean).join(" · ");
  const node = h("li", { class: "alert", "data-alert": id },
    h("div", { class: "head" }, pick, h("span", { class: "sev" }, first.severity), " ",
      h("strong", {}, first.rule_name), ` · ${what} · `, when, " · ", stateText, escalation),
    suppressed, risk, media, deliveryLog(first, me), actions, ask);
  const gone = h("li", { class: "alert-gone", "data-gone": id });

  function sync() {
    for (const button of buttons) button.disabled = busy || !can || !button.dataset.states.split(" ").includes(alert.state);
  }

  function fill() {
    node.dataset.severity = alert.severity;
    node.dataset.state = alert.state;
    node.dataset.escalation = String(alert.escalation_level);
    node.classList.toggle("escalated", escalatedNow(alert));
    node.setAttribute("aria-label", `${alert.severity} alert ${alert.rule_name}`);
    stateText.textContent = human(alert.state);
    escalation.replaceChildren(escalatedNow(alert)
      ? h("strong", { class: "escalation" }, ` · ESCALATED ×${alert.escalation_level}`)
      : alert.escalation_level > 0 ? ` · was escalated ×${alert.escalation_level}` : "");
    when.replaceChildren(timeAgo(alert.created_at));
    suppressed.hidden = !alert.suppressed;
    suppressed.textContent = alert.suppressed ? `Not notified: ${alert.suppressed}` : "";
    incident.replaceChildren(alert.incident_id ? h("a", { href: `#/incidents/${alert.incident_id}` }, "Incident") : "");
    if (pick) pick.checked = ctx.selection.has(id);
    sync();
  }

  /** The "gone" row: what happened, an undo for a dismissal, the incident of a confirmation. */
  function fillGone() {
    const undo = alert.state === "false_positive" && can ? h("button", { type: "button", onclick: async () => {
      try {
        const back = await post(`/alerts/${ref}/undo-dismiss`, { note: "undone from the inbox" });
        toast("Dismissal undone");
        ctx.onChanged?.(back);
        update(back);
      } catch (err) { toast(`Undo: ${err.message}`); }
    } }, "Undo") : "";
    gone.replaceChildren(h("span", { class: "sev" }, alert.severity), " ", h("strong", {}, alert.rule_name),
      ` is now ${human(alert.state)}: it leaves this list when it is refreshed. `,
      alert.incident_id ? h("a", { href: `#/incidents/${alert.incident_id}` }, "Incident") : "", " ", undo);
  }

  function update(next) {
    if (!next || next.id !== id || (next.version ?? 0) < (alert.version ?? 0)) return;
    alert = { ...alert, ...next };
    fill();
    const belongs = ctx.matches(alert);
    if (!belongs && node.isConnected) {
      gone.style.minHeight = `${node.offsetHeight}px`;  // the rows below stay where they are
      fillGone();
      node.replaceWith(gone);
      if (ctx.selection?.delete(id)) ctx.onSelect?.();
    } else if (!belongs && gone.isConnected) {
      fillGone();
    } else if (belongs && gone.isConnected) {
      gone.replaceWith(node);
    }
  }

  fill();
  evidence(id, media);
  return {
    id,
    get alert() { return alert; },
    get node() { return gone.isConnected ? gone : node; },
    card: node,
    update,
    reloadMedia: () => evidence(id, media),
  };
}
