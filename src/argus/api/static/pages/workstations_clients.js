// Workstations page, clients: register one (its key is shown once), pause, block, unblock or
// delete it; its status, where it is (served, queued, offline), when it was last seen.
import { del, post } from "../api.js";
import { field, h, human, timeAgo, toast } from "../dom.js";
import { check, onSubmit, statusLine, table } from "./kit.js";

const clientPath = (id) => `/workstations/clients/${encodeURIComponent(id)}`;

/** Where the client is now, in words. */
export function connection(client) {
  if (client.connection === "assigned") return `connected (pipeline ${client.pipeline})`;
  if (client.connection === "queued") return `waiting (${client.position} in the queue)`;
  return "not connected";
}

/** The key of a newly registered client, shown this once, with a copy button. */
function secretBox(client) {
  const code = h("code", { class: "ws-secret", "data-secret": "" }, client.key);
  const copy = h("button", { type: "button" }, "Copy key");
  copy.addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(client.key); toast("Key copied."); } catch { toast("Select the key and copy it."); }
  });
  const box = h("div", { class: "ws-secret-box", role: "alert" },
    h("p", {}, h("strong", {}, `Key of ${client.name} (id ${client.id}): `),
      "shown only now. Put it in the workstation's agent; Argus keeps only its hash."),
    code, h("div", { class: "actions" }, copy));
  const done = h("button", { type: "button" }, "I have saved it");
  done.addEventListener("click", () => box.remove());
  box.querySelector(".actions").append(done);
  return box;
}

function actions(client, subjectNames, act) {
  const buttons = [];
  const button = (label, what, run) => {
    const b = h("button", { type: "button", "aria-label": `${label} ${client.name}` }, label);
    b.addEventListener("click", () => act(what, run));
    buttons.push(b);
  };
  if (client.status === "active") {
    button("Pause", "paused", () => post(`${clientPath(client.id)}/pause`));
    button("Block", "blocked", () => post(`${clientPath(client.id)}/block`));
  } else {
    button("Unblock", "unblocked", () => post(`${clientPath(client.id)}/unblock`));
    if (client.status === "paused") button("Block", "blocked", () => post(`${clientPath(client.id)}/block`));
  }
  button("Delete", "deleted", async () => {
    if (!window.confirm(`Delete client ${client.name}? A live session ends; its decision history stays.`)) return false;
    await del(clientPath(client.id));
    return true;
  });
  buttons.at(-1).classList.add("danger");
  const names = client.subjects.map((id) => subjectNames.get(id) ?? id).join(", ") || "nobody";
  return h("tr", { "data-client": client.id, "data-status": client.status },
    h("td", {}, h("strong", {}, client.name), h("div", { class: "muted ws-id" }, client.id)),
    h("td", {}, h("span", { class: "ws-status", "data-status": client.status }, human(client.status))),
    h("td", { "data-field": "connection" }, connection(client)),
    h("td", { "data-field": "seen" }, client.last_seen ? timeAgo(client.last_seen) : "never"),
    h("td", {}, String(client.violations)),
    h("td", {}, names),
    h("td", {}, h("div", { class: "actions" }, buttons)));
}

/**
 * The clients section.
 * @param {{subjects: object[], clients: object[]}} state shared with the other sections
 * @param {() => Promise<void>} changed called after a change (reloads the page's data)
 */
export function clientsSection(state, changed) {
  const status = statusLine();
  const shown = h("div", {});
  const name = h("input", { name: "name", required: true, maxlength: "200", autocomplete: "off" });
  const people = h("fieldset", { class: "ws-people" }, h("legend", {}, "Allowed subjects"));
  const register = h("form", { class: "ws-register", "aria-label": "Register a client" },
    field("Workstation name", name), people,
    h("button", { type: "submit", class: "primary" }, "Register client"), status.node);
  onSubmit(register, status, async () => {
    const subjects = [...people.querySelectorAll("input:checked")].map((box) => box.value);
    const made = await post("/workstations/clients", { name: name.value.trim(), subjects });
    shown.replaceChildren(secretBox(made));
    status.ok(`${made.name} registered.`);
    register.reset();
    await changed();
  });
  const body = h("div", {});
  async function act(what, run) {
    status.clear();
    try {
      if ((await run()) === false) return;
      toast(`Client ${what}.`);
      await changed();
    } catch (err) { status.fail(err); }
  }
  function render() {
    const boxes = state.subjects.map((s) => check(s.name, h("input", { type: "checkbox", name: "subject", value: s.id })));
    people.replaceChildren(h("legend", {}, "Allowed subjects"),
      ...(boxes.length ? boxes : [h("p", { class: "muted" }, "Add a face subject first.")]));
    const names = new Map(state.subjects.map((s) => [s.id, s.name]));
    body.replaceChildren(state.clients.length
      ? table("Workstation clients", ["Client", "Status", "Connection", "Last seen", "Violations", "Allowed", "Actions"],
        state.clients.map((c) => actions(c, names, act)))
      : h("p", { class: "muted" }, "No clients registered yet."));
  }
  /** After a poll: where each client is and when it was seen, updated in place (no focus lost);
   * the table is drawn again only when the clients or their statuses changed. */
  function refresh() {
    const rows = [...body.querySelectorAll("tr[data-client]")];
    const same = rows.length === state.clients.length
      && rows.every((row, i) => row.dataset.client === state.clients[i].id && row.dataset.status === state.clients[i].status);
    if (!same) { render(); return; }
    rows.forEach((row, i) => {
      const c = state.clients[i];
      const where = row.querySelector('[data-field="connection"]');
      if (where.textContent !== connection(c)) where.textContent = connection(c);
      const seen = row.querySelector('[data-field="seen"]');
      const time = seen.querySelector("time");
      if (c.last_seen && time?.getAttribute("datetime") !== c.last_seen) seen.replaceChildren(timeAgo(c.last_seen));
    });
  }
  const node = h("section", { class: "card ws-section", "aria-label": "Clients" }, h("h2", {}, "Clients"),
    h("p", { class: "legend" }, "Workstation agents. A paused or blocked client is refused (a live session ends at once); "
      + "unblock lets it connect again."),
    register, shown, body);
  return { node, render, refresh };
}
