// Incidents: list (filtered by status), and a detail page with linked alerts,
// evidence (decrypted on view, integrity checked), notes and status changes.
import { blobUrl, get, post } from "../api.js";
import { field, h, toast, when } from "../dom.js";

const STATUSES = ["open", "in_progress", "resolved", "closed"];

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
    h("div", {}, `${item.kind} · ${item.content_type} · ${when(item.created_at)} · sha256 `,
      h("code", {}, `${item.sha256.slice(0, 16)}…`), " ", integrity),
    view);
}

async function linkedAlert(alertId) {
  try {
    const alert = await get(`/alerts/${encodeURIComponent(alertId)}`);
    return h("li", { "data-alert": alert.id }, h("span", { class: "sev" }, alert.severity), " ",
      `${alert.rule_name} · ${alert.event_type} · camera ${alert.camera_id} · ${when(alert.created_at)} · ${alert.state} · risk ${alert.risk_score.toFixed(2)} `,
      h("code", {}, alert.id));
  } catch (err) {
    return h("li", { "data-alert": alertId }, h("code", {}, alertId), ` (${err.message})`);
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
  const incident = await get(`/incidents/${encodeURIComponent(id)}`);
  const [alerts, evidence] = await Promise.all([Promise.all(incident.alert_ids.map(linkedAlert)), evidenceOf(incident)]);
  const status = h("select", { name: "status", disabled: !me.can("act") },
    STATUSES.map((s) => h("option", { value: s, selected: s === incident.status }, s.replace("_", " "))));
  const note = h("textarea", { name: "note", rows: "2", required: true, maxlength: "4000", disabled: !me.can("act") });
  const rerender = async () => { document.getElementById("view").replaceChildren(await detail(id, me)); };
  const submit = (call) => async (event) => {
    event.preventDefault();
    try { await call(); await rerender(); } catch (err) { toast(err.message); }
  };
  return h("article", { class: "card", "aria-label": `Incident ${incident.title}`, "data-status": incident.status },
    h("p", {}, h("a", { href: "#/incidents" }, "← All incidents")),
    h("h1", {}, incident.title),
    h("p", { class: "incident-status" }, `Status ${incident.status.replace("_", " ")} · camera ${incident.camera_id ?? "—"} · opened ${when(incident.created_at)} by ${incident.confirmed_by ?? "?"}`),
    incident.description ? h("p", {}, incident.description) : "",
    h("h2", {}, "Linked alerts"),
    h("ul", { "aria-label": "Linked alerts" }, alerts),
    h("h2", {}, "Evidence"),
    evidence.length ? h("ul", { class: "evidence", "aria-label": "Evidence" }, evidence.map(evidenceItem)) : h("p", {}, "No evidence stored yet."),
    h("h2", {}, "Status"),
    h("form", { class: "filters", "aria-label": "Change status", onsubmit: submit(() => post(`/incidents/${id}/status`, { status: status.value })) },
      field("Status", status), h("button", { type: "submit", disabled: !me.can("act") }, "Change status")),
    h("h2", {}, "Notes"),
    h("ul", { "aria-label": "Notes" }, incident.notes.map((n) => h("li", {}, `${when(n.at)} ${n.author}: ${n.text}`))),
    h("form", { "aria-label": "Add a note", onsubmit: submit(() => post(`/incidents/${id}/notes`, { text: note.value })) },
      field("Note", note), h("button", { type: "submit", disabled: !me.can("act") }, "Add note")),
    h("h2", {}, "History"),
    h("ul", { "aria-label": "History" }, incident.history.map((t) => h("li", {}, `${when(t.at)} ${t.actor}: ${t.from_state} → ${t.to_state}${t.note ? ` (${t.note})` : ""}`))));
}

export async function incidentsView(me) {
  const id = location.hash.split("/")[2];
  if (id) return { node: await detail(decodeURIComponent(id), me) };
  const filter = h("select", { name: "status" }, h("option", { value: "" }, "All"),
    STATUSES.map((s) => h("option", { value: s }, s.replace("_", " "))));
  const body = h("tbody", {});
  let latest = 0;
  async function load() {
    const mine = ++latest;
    const q = new URLSearchParams({ limit: "100" });
    if (filter.value) q.set("status", filter.value);
    const page = await get(`/incidents?${q}`);
    if (mine !== latest) return;
    const rows = page.items.map((i) => h("tr", { "data-status": i.status },
      h("td", {}, h("a", { href: `#/incidents/${encodeURIComponent(i.id)}` }, i.title)), h("td", {}, i.status.replace("_", " ")),
      h("td", {}, i.camera_id ?? ""), h("td", {}, String(i.alert_ids.length)), h("td", {}, when(i.created_at))));
    body.replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", { colspan: "5" }, "No incidents."))]));
  }
  filter.addEventListener("change", load);
  await load();
  return { node: h("div", {}, h("h1", {}, "Incidents"),
    h("form", { class: "filters", "aria-label": "Filter incidents", onsubmit: (e) => e.preventDefault() }, field("Status", filter)),
    h("div", { class: "scroll" }, h("table", { "aria-label": "Incidents" },
      h("thead", {}, h("tr", {}, ["Title", "Status", "Camera", "Alerts", "Opened"].map((t) => h("th", { scope: "col" }, t)))),
      body))) };
}
