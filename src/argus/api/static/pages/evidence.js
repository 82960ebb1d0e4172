// Evidence (viewers browse; operators lock, unlock and export): every stored snapshot, clip and
// document, filtered by camera, alert, incident and lock; verify one item's integrity; select
// items and export them as one signed bundle (a zip that `argus evidence verify` checks offline).
// #/evidence?alert_id=<id> or ?incident_id=<id> opens the list filtered.
import { blobUrl, get, post, postRaw } from "../api.js";
import { field, h, hashRoute, human, timeAgo, toast } from "../dom.js";
import { actorName, onSubmit, statusLine, table } from "./kit.js";
import { adminPage, bytes, copyable, download, pager } from "./admin_kit.js";

const PAGE = 50;
const MAX_EXPORT = 1000;

function verifyCell(item) {
  const out = h("span", { class: "integrity", role: "status" });
  const button = h("button", { type: "button", class: "verify" }, "Verify");
  button.addEventListener("click", async () => {
    button.disabled = true;
    out.textContent = "checking…";
    try {
      await get(`/evidence/${encodeURIComponent(item.id)}/verify`);
      out.dataset.ok = "true";
      out.textContent = "✓ intact";
      out.title = "Decrypted, HMAC and sha256 verified";
    } catch (err) {
      out.dataset.ok = "false";
      out.textContent = `✗ ${err.message}`;
    } finally { button.disabled = false; }
  });
  return h("span", { class: "verify-cell" }, button, " ", out);
}

function viewButton(item) {
  return h("button", {
    type: "button", class: "view", onclick: async (event) => {
      try {
        const url = await blobUrl(`/evidence/${encodeURIComponent(item.id)}/content`);
        const media = item.content_type.startsWith("video") ? h("video", { src: url, controls: true, "aria-label": `${item.kind} evidence` })
          : item.content_type.startsWith("image") ? h("img", { src: url, alt: `${item.kind} evidence` })
            : h("a", { href: url, download: item.id }, "Download the file");
        event.target.replaceWith(h("div", { class: "evidence-media" }, media));
      } catch (err) { toast(`Evidence: ${err.message}`); }
    },
  }, "View");
}

function lockButton(item, reload) {
  const verb = item.locked ? "unlock" : "lock";
  return h("button", {
    type: "button", class: verb, onclick: async () => {
      try {
        const id = encodeURIComponent(item.id);
        if (item.locked) await post(`/evidence/${id}/unlock`); else await post(`/evidence/${id}/lock`);
        toast(`Evidence ${item.locked ? "unlocked" : "locked"}.`);
        await reload();
      } catch (err) { toast(err.message); }
    },
  }, item.locked ? "Unlock" : "Lock");
}

function links(item) {
  const parts = [];
  if (item.alert_id) parts.push(h("a", { href: `#/alerts/${encodeURIComponent(item.alert_id)}`, class: "alert-link" }, "alert"));
  if (item.incident_id) parts.push(h("a", { href: `#/incidents/${encodeURIComponent(item.incident_id)}`, class: "incident-link" }, "incident"));
  return parts.length ? parts.flatMap((p, i) => (i ? [" · ", p] : [p])) : "—";
}

export async function evidenceView(me) {
  const route = hashRoute();
  const canAct = me.can("act");
  const cameras = (await get("/cameras?limit=1000").catch(() => ({ items: [] }))).items;
  const cameraName = (id) => cameras.find((c) => c.id === id)?.name ?? id ?? "—";
  const selected = new Set();
  const camera = h("select", { name: "camera_id" }, h("option", { value: "" }, "Any camera"),
    cameras.map((c) => h("option", { value: c.id }, c.name)));
  const locked = h("select", { name: "locked" }, h("option", { value: "" }, "Any"),
    h("option", { value: "true" }, "Locked"), h("option", { value: "false" }, "Not locked"));
  const alertId = h("input", { name: "alert_id", maxlength: "200", value: route.query.get("alert_id") ?? "", autocomplete: "off" });
  const incidentId = h("input", { name: "incident_id", maxlength: "64", value: route.query.get("incident_id") ?? "", autocomplete: "off" });
  const status = statusLine();
  const filters = h("form", { class: "filters evidence-filters", "aria-label": "Filter evidence" },
    field("Camera", camera), field("Alert id", alertId), field("Incident id", incidentId), field("Lock", locked),
    h("button", { type: "submit", class: "primary" }, "Filter"));
  const body = h("div", { class: "evidence-list" });
  const chosen = h("span", { class: "chosen", role: "status" });
  const exportStatus = statusLine();
  const paging = pager(PAGE, () => load().catch((err) => status.fail(err)));
  const showChosen = () => { chosen.textContent = `${selected.size} selected`; exportButton.disabled = !selected.size; };

  async function load() {
    const params = new URLSearchParams({ limit: String(PAGE), offset: String(paging.offset) });
    for (const [name, value] of [["camera_id", camera.value], ["alert_id", alertId.value.trim()], ["incident_id", incidentId.value.trim()], ["locked", locked.value]]) {
      if (value) params.set(name, value);
    }
    const page = await get(`/evidence?${params}`);
    const rows = page.items.map((item) => {
      const box = h("input", { type: "checkbox", "aria-label": `Select ${item.kind} ${item.id}`, checked: selected.has(item.id), disabled: item.tampered });
      box.addEventListener("change", () => { if (box.checked) selected.add(item.id); else selected.delete(item.id); showChosen(); });
      return h("tr", { "data-evidence": item.id, "data-tampered": String(item.tampered) },
        h("td", { "data-label": "Select" }, box),
        h("td", { "data-label": "Stored" }, timeAgo(item.created_at)),
        h("td", { "data-label": "Kind" }, human(item.kind), item.tampered ? h("strong", { class: "off" }, " (tampered)") : ""),
        h("td", { "data-label": "Camera" }, cameraName(item.camera_id)),
        h("td", { "data-label": "Size" }, bytes(item.size)),
        h("td", { "data-label": "sha256" }, h("code", { title: item.sha256 }, `${item.sha256.slice(0, 12)}…`)),
        h("td", { "data-label": "Of" }, links(item)),
        h("td", { "data-label": "Lock" }, item.locked ? h("span", { title: `by ${actorName(item.locked_by)}` }, "locked") : "—"),
        h("td", { "data-label": "" }, h("div", { class: "actions" }, verifyCell(item), item.tampered ? "" : viewButton(item),
          canAct && !item.tampered ? lockButton(item, load) : "")));
    });
    body.replaceChildren(rows.length
      ? table("Evidence", ["", "Stored", "Kind", "Camera", "Size", "sha256", "Of", "Lock", ""], rows)
      : h("p", {}, "No evidence matches."));
    paging.show(page.total, page.items.length);
    status.ok(`${page.total} item(s) match.`);
  }
  onSubmit(filters, status, async () => { paging.reset(); await load(); });

  const exportButton = h("button", { type: "button", class: "primary export", disabled: true }, "Export selected as a signed bundle");
  exportButton.addEventListener("click", async () => {
    exportStatus.clear();
    if (selected.size > MAX_EXPORT) { exportStatus.fail(`Export at most ${MAX_EXPORT} items at once.`); return; }
    exportButton.disabled = true;
    try {
      const res = await postRaw("/evidence-bundles", { ids: [...selected] });
      download(await res.blob(), "argus-evidence.zip");
      exportStatus.ok(`Bundle of ${selected.size} item(s) downloaded (argus-evidence.zip).`);
    } catch (err) { exportStatus.fail(err); } finally { exportButton.disabled = !selected.size; }
  });
  const clear = h("button", { type: "button", onclick: () => { selected.clear(); showChosen(); load().catch((err) => status.fail(err)); } }, "Clear selection");
  const key = await get("/evidence/keys/signing").catch(() => null);
  const exportSection = canAct ? h("section", { class: "card export-bundle", "aria-label": "Export" },
    h("h2", {}, "Export"),
    h("p", { class: "legend" }, "The bundle holds the decrypted items, their metadata and audit records, signed with this "
      + "installation's Ed25519 key. Anyone can check it offline with `argus evidence verify argus-evidence.zip`."),
    key ? h("p", {}, "Signing key fingerprint: ", copyable(key.fingerprint, "Copy the key fingerprint")) : "",
    h("div", { class: "actions" }, chosen, exportButton, clear), exportStatus.node)
    : h("p", { class: "legend" }, "Operators and admins can lock items and export signed bundles.");

  await load();
  showChosen();
  return { node: adminPage("evidence-page", "Evidence",
    "Snapshots, clips and documents, encrypted at rest; each read checks the item's integrity first.",
    exportSection, h("section", { class: "card", "aria-label": "Evidence items" }, filters, status.node, body, paging.node)) };
}
