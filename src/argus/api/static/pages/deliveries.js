// The delivery log of one alert (GET /alerts/{id}/deliveries): each notification that went
// out for it (channel, kind, level, state) and each attempt (time, result, latency, error,
// the channel's breaker state). Read when the card's "Deliveries" section is opened.
import { get, post } from "../api.js";
import { h, toast, when } from "../dom.js";

let channelNames = null;  // id -> name, read once per page load by those who may list channels

async function namesOf(me) {
  if (channelNames) return channelNames;
  channelNames = new Map();
  if (me.can("configure")) {
    try {
      for (const c of (await get("/channels?limit=1000")).items) channelNames.set(c.id, `${c.name} (${c.kind})`);
    } catch { /* ids are shown instead */ }
  }
  return channelNames;
}

/** Forget the channel names (a channel was created or renamed). */
export function forgetChannelNames() { channelNames = null; }

const ms = (v) => (v === null || v === undefined ? "—" : `${Math.round(Number(v))} ms`);

function attemptRow(attempt) {
  return h("li", { class: "attempt", "data-ok": String(attempt.ok) },
    `#${attempt.number} · ${when(attempt.at)} · `,
    h("strong", {}, attempt.ok ? "ok" : "failed"), ` · ${ms(attempt.latency_ms)}`,
    attempt.breaker && attempt.breaker !== "closed" ? ` · breaker ${attempt.breaker}` : "",
    attempt.error ? ` · ${attempt.error}` : "");
}

function notificationItem(entry, names, me, reload) {
  const n = entry.notification;
  const retry = n.state === "dead" && me.can("configure")
    ? h("button", { type: "button", onclick: async () => {
      try { await post(`/notifications/${n.id}/retry`); toast("Delivery queued again"); reload(); }
      catch (err) { toast(`Retry: ${err.message}`); }
    } }, "Retry")
    : "";
  const to = (n.recipients ?? []).length ? ` → ${n.recipients.join(", ")}` : "";
  return h("li", { class: "delivery", "data-notification": n.id, "data-state": n.state },
    h("div", {}, h("span", { class: "delivery-state", "data-state": n.state }, n.state), " ",
      h("strong", {}, names.get(n.channel_id) ?? `channel ${n.channel_id}`),
      ` · ${n.kind} · level ${n.level ?? 0}${to} · ${n.attempts} attempt${n.attempts === 1 ? "" : "s"}`,
      n.delivered_at ? ` · delivered ${when(n.delivered_at)}` : "",
      n.state !== "delivered" && n.last_error ? ` · ${n.last_error}` : "", " ", retry),
    h("ol", { class: "attempts" }, (entry.attempts ?? []).map(attemptRow)));
}

/** A closed <details> that loads the alert's delivery log each time it is opened. */
export function deliveryLog(alert, me) {
  const body = h("div", { class: "delivery-log" });
  const summary = h("summary", {}, "Deliveries");
  const box = h("details", { class: "deliveries", "data-alert": alert.id }, summary, body);
  async function load() {
    body.replaceChildren(h("p", { class: "muted" }, "loading…"));
    try {
      const [log, names] = await Promise.all([get(`/alerts/${encodeURIComponent(alert.id)}/deliveries`), namesOf(me)]);
      const items = log.items ?? [];
      const delivered = items.filter((e) => e.notification.state === "delivered").length;
      summary.textContent = items.length ? `Deliveries: ${delivered} of ${items.length} delivered` : "Deliveries: none";
      body.replaceChildren(items.length
        ? h("ul", { class: "delivery-list", "aria-label": `Deliveries of alert ${alert.id}` },
          items.map((e) => notificationItem(e, names, me, load)))
        : h("p", { class: "muted" }, alert.suppressed ? `Not notified: ${alert.suppressed}`
          : alert.repeat ? "A repeat within its group: not notified on its own." : "No notifications for this alert."));
    } catch (err) {
      body.replaceChildren(h("p", { class: "error" }, `Delivery log: ${err.message}`));
    }
  }
  box.addEventListener("toggle", () => { if (box.open) load(); });
  return box;
}
