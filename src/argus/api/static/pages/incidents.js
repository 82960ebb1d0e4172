// Incidents: list (filtered by status and camera, paged), and a detail page with linked alerts
// (links to their detail view), evidence (decrypted on view, integrity checked), notes and
// status changes. Cameras and people by name, states in words, times relative (full on hover).
import { blobUrl, get, post } from "../api.js";
import { field, h, hashRoute, human, timeAgo, toast } from "../dom.js";
import { actorName } from "./kit.js";

const STATUSES = ["open", "in_progress", "resolved", "closed"];
const PAGE = 50;

/** Camera ids to names (the caller's cameras); an unknown id stays as it is. */
async function cameraNames() {
  const cameras = (await get("/cameras?limit=1000")).items;
  const names = new Map(cameras.map((c) => [c.id, c.name]));
  return { cameras, name: (id) => (id ? names.get(id) ?? id : "—") };
}

/** An event type in words: ``line.crossed`` → "line crossed". */
const eventName = (type) => human(type).replaceAll(".", " ");

const statusChip = (status) => h("span", { class: "incident-state", "data-status": status }, human(status));

function evidenceItem(item) {
  const integrity = h("span", { class: "integrity", role: "status" }, "checking integrity…");
  get(`/evidence/${item.id}/verify`)
    .then(() => { integrity.dataset.ok = "true"; integrity.textContent = "✓ intact (decrypted and sha256 verified)"; })
    .catch((err) => { integrity.dataset.ok = "false"; integrity.textContent = `✗ ${err.message}`; });
  const view = h("button", {
    type: "button", onclick: async (event) => {
      try {
        const url = await blobUrl(`/evidence/${item.id}/content`);
        event.target.replaceWith(item.content_type.startsWith("video")
          ? h("video", { src: url, controls: true, "aria-label": `${item.kind} evidence` })
          : h("img", { src: url, alt: `${item.kind} evidence` }));
      } catch (err) { toast(`Evidence: ${err.message}`); }
    },
  }, `View ${item.kind} (decrypt)`);
  return h("li", { "data-evidence": item.id },
    h("div", {}, `${item.kind} · ${item.content_type} · `, timeAgo(item.created_at), " · sha256 ",
      h("code", {}, `${item.sha256.slice(0, 16)}…`), " ", integrity),
    view);
}

async function linkedAlert(alertId, names) {
  const href = `#/alerts/${encodeURIComponent(alertId)}`;
  try {
    const alert = await get(`/alerts/${encodeURIComponent(alertId)}`);
    return h("li", { "data-alert": alert.id, "data-severity": alert.severity },
      h("span", { class: "sev" }, alert.severity), " ",
      h("a", { href, class: "alert-link" }, alert.rule_name),
      ` · ${eventName(alert.event_type)} · ${names.name(alert.camera_id)} · `, timeAgo(alert.created_at),
      ` · ${human(alert.state)} · risk ${alert.risk_score.toFixed(2)} `,
      h("code", { class: "muted", title: "Alert id" }, alert.id));
  } catch (err) {
    return h("li", { "data-alert": alertId }, h("a", { href }, h("code", {}, alertId)), ` (${err.message})`);
  }
}

async function evidenceOf(incident) {
  const items = [];
  const seen = new Set();
  const add = (list) => list.forEach((item) => { if (!seen.has(item.id)) { seen.add(item.id); items.push(item); } });
  for (const alertId of incident.alert_ids) {
    add((await get(`/evidence?alert_id=${encodeURIComponent(alertId)}`)).items);
  }
  add((await get(`/evidence?incident_id=${encodeURIComponent(incident.id)}`)).items);
  return items;
}

async function detail(id, me) {
  const [incident, names] = await Promise.all([get(`/incidents/${encodeURIComponent(id)}`), cameraNames()]);
  const [alerts, evidence] = await Promise.all([
    Promise.all(incident.alert_ids.map((a) => linkedAlert(a, names))), evidenceOf(incident)]);
  const status = h("select", { name: "status", disabled: !me.can("act") },
    STATUSES.map((s) => h("option", { value: s, selected: s === incident.status }, human(s))));
  const note = h("textarea", { name: "note", rows: "2", required: true, maxlength: "4000", disabled: !me.can("act") });
  const rerender = async () => { document.getElementById("view").replaceChildren(await detail(id, me)); };
  const submit = (call) => async (event) => {
    event.preventDefault();
    try { await call(); await rerender(); } catch (err) { toast(err.message); }
  };
  const camera = incident.camera_id
    ? h("a", { href: `#/alerts?camera=${encodeURIComponent(incident.camera_id)}`, title: "The camera's alerts" }, names.name(incident.camera_id))
    : "no camera";
  return h("article", { class: "card incident", "aria-label": `Incident ${incident.title}`, "data-status": incident.status },
    h("p", {}, h("a", { href: "#/incidents" }, "← All incidents")),
    h("h1", {}, incident.title),
    h("p", { class: "incident-status" }, "Status ", statusChip(incident.status), " · camera ", camera,
      " · opened ", timeAgo(incident.created_at), ` by ${actorName(incident.confirmed_by)}`,
      incident.updated_at !== incident.created_at ? [" · changed ", timeAgo(incident.updated_at)] : ""),
    incident.legal_hold ? h("p", { class: "legal-hold" }, `Under legal hold: ${incident.legal_hold}`) : "",
    incident.description ? h("p", {}, incident.description) : "",
    h("h2", {}, "Linked alerts"),
    alerts.length ? h("ul", { class: "linked-alerts", "aria-label": "Linked alerts" }, alerts)
      : h("p", { class: "muted" }, "No linked alerts."),
    h("h2", {}, "Evidence"),
    evidence.length ? h("ul", { class: "evidence", "aria-label": "Evidence" }, evidence.map(evidenceItem)) : h("p", {}, "No evidence stored yet."),
    h("h2", {}, "Status"),
    h("form", { class: "filters", "aria-label": "Change status", onsubmit: submit(() => post(`/incidents/${id}/status`, { status: status.value })) },
      field("Status", status), h("button", { type: "submit", disabled: !me.can("act") }, "Change status")),
    h("h2", {}, "Notes"),
    h("ul", { class: "notes", "aria-label": "Notes" }, incident.notes.map((n) => h("li", {},
      timeAgo(n.at), " ", h("strong", {}, actorName(n.author)), `: ${n.text}`))),
    h("form", { "aria-label": "Add a note", onsubmit: submit(() => post(`/incidents/${id}/notes`, { text: note.value })) },
      field("Note", note), h("button", { type: "submit", disabled: !me.can("act") }, "Add note")),
    h("h2", {}, "History"),
    h("ul", { class: "history", "aria-label": "History" }, incident.history.map((t) => h("li", {},
      timeAgo(t.at), " ", h("strong", {}, actorName(t.actor)),
      `: ${human(t.from_state)} → ${human(t.to_state)}${t.note ? ` (${t.note})` : ""}`))));
}

export async function incidentsView(me) {
  const route = hashRoute();
  if (route.rest[0]) return { node: await detail(route.rest[0], me) };
  const names = await cameraNames();
  const filter = h("select", { name: "status" }, h("option", { value: "" }, "All"),
    STATUSES.map((s) => h("option", { value: s }, human(s))));
  const wanted = route.query.get("camera") ?? "";
  const camera = h("select", { name: "camera" }, h("option", { value: "" }, "All"),
    names.cameras.map((c) => h("option", { value: c.id, selected: c.id === wanted }, c.name)));
  const body = h("tbody", {});
  const shown = h("p", { class: "muted shown", role: "status" });
  const more = h("button", { type: "button", class: "load-more", hidden: true, onclick: () => load(true) }, "Show more");
  let latest = 0;
  let offset = 0;
  function row(i) {
    return h("tr", { "data-status": i.status, "data-incident": i.id },
      h("td", { "data-label": "Title" }, h("a", { href: `#/incidents/${encodeURIComponent(i.id)}` }, i.title)),
      h("td", { "data-label": "Status" }, statusChip(i.status)),
      h("td", { "data-label": "Camera" }, names.name(i.camera_id)),
      h("td", { "data-label": "Alerts" }, String(i.alert_ids.length),
        h("span", { class: "unit" }, i.alert_ids.length === 1 ? " alert" : " alerts")),
      h("td", { "data-label": "Opened" }, timeAgo(i.created_at)));
  }
  async function load(append = false) {
    const mine = ++latest;
    offset = append ? offset : 0;
    const q = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    if (filter.value) q.set("status", filter.value);
    if (camera.value) q.set("camera_id", camera.value);
    const page = await get(`/incidents?${q}`);
    if (mine !== latest) return;
    const rows = page.items.map(row);
    if (append) body.append(...rows);
    else body.replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", { colspan: "5" }, "No incidents."))]));
    offset += page.items.length;
    shown.textContent = page.total ? `${offset} of ${page.total} incidents` : "";
    more.hidden = offset >= page.total;
  }
  filter.addEventListener("change", () => load());
  camera.addEventListener("change", () => load());
  await load();
  return { node: h("div", { class: "incidents" }, h("h1", {}, "Incidents"),
    h("form", { class: "filters", "aria-label": "Filter incidents", onsubmit: (e) => e.preventDefault() },
      field("Status", filter), field("Camera", camera)),
    shown,
    h("div", { class: "scroll" }, h("table", { class: "incident-table", "aria-label": "Incidents" },
      h("thead", {}, h("tr", {}, ["Title", "Status", "Camera", "Alerts", "Opened"].map((t) => h("th", { scope: "col" }, t)))),
      body)),
    more) };
}
