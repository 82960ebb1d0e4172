// API keys (admins): create a key for an edge node or an integration (its secret is shown this
// once: copy or download it, then it is gone from the page), list keys, revoke one.
import { del, get, post } from "../api.js";
import { field, h, timeAgo, toast } from "../dom.js";
import { actorName, check, onSubmit, statusLine, table, words } from "./kit.js";
import { adminPage, confirmButton, copyable, download, pager } from "./admin_kit.js";

const PAGE = 50;
const PERMISSIONS = [
  ["view", "View: read cameras, events, alerts, evidence"],
  ["operate", "Operate: acknowledge, confirm, dismiss; lock and export evidence"],
  ["configure", "Configure: cameras, lines, zones, rules"],
  ["ingest", "Ingest: post events"],
  ["edge", "Edge: an edge node's registration and sync"],
];

/** The one-time view of a new key's secret; "Done" removes it from the page for good. */
function secretPanel(created, onDone) {
  const panel = h("div", { class: "secret", role: "alert", "data-key-id": created.id },
    h("h3", {}, `Key “${created.name}” created`),
    h("p", {}, h("strong", {}, "Copy or download the secret now: it is shown only this once. "),
      "Argus keeps only its hash; a lost secret cannot be shown again (revoke the key and create another)."),
    h("p", {}, copyable(created.key, "Copy the secret")),
    h("p", { class: "legend" }, "Send it as the header X-API-Key: <secret> (or Authorization: Bearer <secret>)."));
  const save = h("button", { type: "button", onclick: () => download(new Blob([`${created.key}\n`], { type: "text/plain" }), `argus-key-${created.name.replace(/[^\w.-]+/g, "_")}.txt`) }, "Download");
  const done = h("button", { type: "button", class: "primary", onclick: () => { panel.remove(); onDone(); } }, "Done, I have saved it");
  panel.append(h("div", { class: "actions" }, save, done));
  return panel;
}

function createSection(reload) {
  const status = statusLine();
  const shown = h("div", { class: "secret-slot" });
  const boxes = PERMISSIONS.map(([value, label]) => check(label, h("input", { type: "checkbox", name: "permission", value, checked: value === "view" })));
  const form = h("form", { class: "card add-key", "aria-label": "Create an API key" },
    h("h2", {}, "Create a key"),
    h("div", { class: "form-grid" },
      field("Name", h("input", { name: "name", required: true, maxlength: "200", placeholder: "gate edge node" })),
      field("Cameras (ids, comma separated; empty: all)", h("input", { name: "cameras", maxlength: "2000" }))),
    h("fieldset", { class: "scope" }, h("legend", {}, "What the key may do (never admin)"), boxes),
    status.node, h("button", { type: "submit", class: "primary" }, "Create key"), shown);
  onSubmit(form, status, async () => {
    const permissions = [...form.querySelectorAll("input[name=permission]:checked")].map((i) => i.value);
    if (!permissions.length) { status.fail("Choose at least one permission."); return; }
    const cameras = words(form.elements.cameras.value);
    const created = await post("/api-keys", {
      name: form.elements.name.value.trim(), permissions, cameras: cameras.length ? cameras : null,
    });
    form.reset();
    status.ok(`Key ${created.name} created.`);
    shown.replaceChildren(secretPanel(created, () => { status.clear(); form.elements.name.focus(); }));
    await reload();
  });
  return form;
}

function keyRow(key, reload) {
  const revoked = Boolean(key.revoked_at);
  return h("tr", { "data-key": key.id, "data-revoked": String(revoked) },
    h("td", { "data-label": "Name" }, key.name),
    h("td", { "data-label": "Id" }, h("code", {}, key.id)),
    h("td", { "data-label": "May" }, key.permissions.join(", ")),
    h("td", { "data-label": "Cameras" }, key.cameras ? key.cameras.join(", ") : "all"),
    h("td", { "data-label": "Created" }, timeAgo(key.created_at), ` by ${actorName(key.created_by)}`),
    h("td", { "data-label": "State" }, revoked ? h("span", { class: "off" }, "revoked ", timeAgo(key.revoked_at)) : h("span", { class: "on" }, "active")),
    h("td", { "data-label": "" }, revoked ? "" : confirmButton("Revoke", `Revoke ${key.name}? Callers using it are refused at once.`, async () => {
      await del(`/api-keys/${encodeURIComponent(key.id)}`);
      toast(`Key ${key.name} revoked.`);
      await reload();
    })));
}

export async function keysView() {
  const list = h("div", { class: "keys" });
  const paging = pager(PAGE, () => load().catch((err) => toast(err.message)));
  async function load() {
    const page = await get(`/api-keys?limit=${PAGE}&offset=${paging.offset}`);
    list.replaceChildren(page.items.length
      ? table("API keys", ["Name", "Id", "May", "Cameras", "Created", "State", ""], page.items.map((k) => keyRow(k, load)))
      : h("p", {}, "No API keys yet."));
    paging.show(page.total, page.items.length);
  }
  await load();
  return { node: adminPage("keys-page", "API keys",
    "Keys let edge nodes and other systems call the API without a person's sign-in.",
    createSection(load),
    h("section", { class: "card", "aria-label": "Keys" }, h("h2", {}, "Keys"), list, paging.node)) };
}
