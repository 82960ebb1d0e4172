// Incidents: list, and a detail page with linked alerts, evidence, notes and status.
import { blobUrl, get, post } from "../api.js";
import { field, h, toast, when } from "../dom.js";

const STATUSES = ["open", "in_progress", "resolved", "closed"];

async function evidenceItem(item) {
  const li = h("li", {}, `${item.kind} · ${item.content_type} · sha256 ${item.sha256.slice(0, 16)}… `);
  const integrity = h("span", { class: "integrity" }, "checking…");
  li.append(integrity);
  get(`/evidence/${item.id}/verify`)
    .then(() => { integrity.textContent = "✓ intact (hash verified)"; })
    .catch((err) => { integrity.textContent = `✗ ${err.message}`; });
  li.append(h("button", {
    type: "button", onclick: async (event) => {
      const url = await blobUrl(`/evidence/${item.id}/content`);
      event.target.replaceWith(item.content_type.startsWith("video")
        ? h("video", { src: url, controls: true, "aria-label": `${item.kind} evidence` })
        : h("img", { src: url, alt: `${item.kind} evidence`, style: "max-width:100%" }));
    },
  }, "View (decrypt)"));
  return li;
}

async function detail(id, me) {
  const incident = await get(`/incidents/${id}`);
  const evidence = [];
  for (const alertId of incident.alert_ids) {
    evidence.push(...(await get(`/evidence?alert_id=${encodeURIComponent(alertId)}`)).items);
  }
  const own = (await get(`/evidence?incident_id=${encodeURIComponent(id)}`)).items;
  for (const item of own) if (!evidence.some((e) => e.id === item.id)) evidence.push(item);
  const status = h("select", { name: "status", disabled: !me.can("act") },
    STATUSES.map((s) => h("option", { value: s, selected: s === incident.status }, s)));
  const note = h("textarea", { name: "note", rows: "2", disabled: !me.can("act") });
  const rerender = async () => { document.getElementById("view").replaceChildren(await detail(id, me)); };
  return h("article", { class: "card", "aria-label": `Incident ${incident.title}` },
    h("p", {}, h("a", { href: "#/incidents" }, "← All incidents")),
    h("h1", {}, incident.title),
    h("p", {}, `Status ${incident.status} · opened ${when(incident.created_at)} by ${incident.confirmed_by ?? "?"}`),
    h("p", {}, incident.description),
    h("h2", {}, "Linked alerts"),
    h("ul", {}, incident.alert_ids.map((a) => h("li", {}, h("code", {}, a)))),
    h("h2", {}, "Evidence"),
    h("ul", { "aria-label": "Evidence" }, await Promise.all(evidence.map(evidenceItem))),
    h("h2", {}, "Status"),
    h("form", { class: "filters", onsubmit: async (e) => {
      e.preventDefault();
      try { await post(`/incidents/${id}/status`, { status: status.value }); await rerender(); } catch (err) { toast(err.message); }
    } }, field("Status", status), h("button", { type: "submit", disabled: !me.can("act") }, "Change status")),
    h("h2", {}, "Notes"),
    h("ul", {}, incident.notes.map((n) => h("li", {}, `${when(n.at)} ${n.author}: ${n.text}`))),
    h("form", { onsubmit: async (e) => {
      e.preventDefault();
      try { await post(`/incidents/${id}/notes`, { text: note.value }); await rerender(); } catch (err) { toast(err.message); }
    } }, field("Add a note", note), h("button", { type: "submit", disabled: !me.can("act") }, "Add note")),
    h("h2", {}, "History"),
    h("ul", {}, incident.history.map((t) => h("li", {}, `${when(t.at)} ${t.actor}: ${t.from_state} → ${t.to_state} ${t.note}`))));
}

export async function incidentsView(me) {
  const id = location.hash.split("/")[2];
  if (id) return { node: await detail(id, me) };
  const page = await get("/incidents?limit=100");
  const rows = page.items.map((i) => h("tr", {},
    h("td", {}, h("a", { href: `#/incidents/${i.id}` }, i.title)), h("td", {}, i.status),
    h("td", {}, i.camera_id ?? ""), h("td", {}, String(i.alert_ids.length)), h("td", {}, when(i.created_at))));
  return { node: h("div", {}, h("h1", {}, "Incidents"),
    h("table", { "aria-label": "Incidents" },
      h("thead", {}, h("tr", {}, ["Title", "Status", "Camera", "Alerts", "Opened"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: "5" }, "No incidents."))))) };
}
