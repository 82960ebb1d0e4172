// Workstations page, decision history: every non-allow decision sent to a client (lock screen,
// sign out, block), newest first, with its reasons and scores; a decision that saved the frame
// shows it on demand, with its evidence record (hash, size) and an integrity check.
import { blobUrl, get } from "../api.js";
import { field, h, human, timeAgo, when } from "../dom.js";
import { table } from "./kit.js";

const PAGE = 20;
const evidencePath = (id) => `/evidence/${encodeURIComponent(id)}`;

const scoreText = (scores) => Object.entries(scores ?? {})
  .map(([k, v]) => `${human(k)} ${Number(v).toFixed(2)}`).join(" · ") || "—";

/** The evidence of one decision: its record, the frame, and an integrity check (on demand),
 * in a full-width row under the decision's. Returns the button's cell and that row. */
function evidenceCell(decision, urls) {
  if (!decision.evidence_id) return { cell: h("td", { class: "muted" }, "no frame saved"), extra: null };
  const panel = h("div", { class: "ws-evidence" });
  const extra = h("tr", { class: "ws-evidence-row", "data-evidence-of": decision.id, hidden: true },
    h("td", { colspan: "6" }, panel));
  const show = h("button", { type: "button", "aria-expanded": "false",
    "aria-label": `Show the evidence of the decision at ${when(decision.at)}` }, "Show evidence");
  let loaded = false;
  show.addEventListener("click", async () => {
    const open = extra.hidden;
    extra.hidden = !open;
    show.setAttribute("aria-expanded", String(open));
    show.textContent = open ? "Hide evidence" : "Show evidence";
    if (!open || loaded) return;
    loaded = true;
    panel.replaceChildren(h("p", { class: "muted" }, "Loading…"));
    try {
      const record = await get(evidencePath(decision.evidence_id));
      const img = h("img", { alt: `Frame ${decision.frame_seq} of ${decision.client_id}, the evidence of this decision` });
      const integrity = h("p", { class: "integrity", role: "status" });
      const verify = h("button", { type: "button" }, "Check integrity");
      verify.addEventListener("click", async () => {
        try {
          const checked = await get(`${evidencePath(decision.evidence_id)}/verify`);
          integrity.dataset.ok = String(!checked.tampered);
          integrity.textContent = checked.tampered ? "Tampered: do not trust it." : "Intact: the content matches its sha256.";
        } catch (err) { integrity.dataset.ok = "false"; integrity.textContent = `Not intact: ${err.message}`; }
      });
      panel.replaceChildren(img, h("dl", { class: "ws-evidence-meta" },
        h("dt", {}, "Evidence"), h("dd", {}, record.id),
        h("dt", {}, "Saved"), h("dd", {}, when(record.created_at)),
        h("dt", {}, "Kind"), h("dd", {}, `${record.kind}, ${record.content_type}, ${record.size} bytes`),
        h("dt", {}, "sha256"), h("dd", { class: "ws-hash" }, record.sha256)),
      h("div", { class: "actions" }, verify), integrity);
      const url = await blobUrl(`${evidencePath(decision.evidence_id)}/content`);
      urls.push(url);
      img.src = url;
    } catch (err) {
      panel.replaceChildren(h("p", { class: "error" }, `The evidence could not be read: ${err.message}`));
      loaded = false;
    }
  });
  return { cell: h("td", {}, show), extra };
}

/**
 * The decisions section; ``load`` reads the current page (filtered by client when chosen).
 * @param {{clients: object[]}} state the page's clients (names and the filter)
 */
export function decisionsSection(state) {
  const urls = [];
  let offset = 0;
  const client = h("select", { name: "client" }, h("option", { value: "" }, "All clients"));
  const body = h("div", {});
  const count = h("p", { class: "muted", role: "status" });
  const older = h("button", { type: "button" }, "Older");
  const newer = h("button", { type: "button" }, "Newer");
  const again = h("button", { type: "button" }, "Refresh decisions");
  const nameOf = (id) => state.clients.find((c) => c.id === id)?.name ?? id;
  async function load() {
    for (const url of urls.splice(0)) URL.revokeObjectURL(url);
    const query = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    if (client.value) query.set("client_id", client.value);
    const page = await get(`/workstations/decisions?${query}`);
    count.textContent = page.total
      ? `${offset + 1}–${offset + page.items.length} of ${page.total} decisions` : "";
    older.disabled = offset + page.items.length >= page.total;
    newer.disabled = offset === 0;
    body.replaceChildren(page.items.length
      ? table("Decisions", ["When", "Client", "Action", "Reasons", "Scores", "Evidence"], page.items.flatMap((d) => {
        const evidence = evidenceCell(d, urls);
        return [h("tr", { "data-decision": d.id, "data-action": d.action }, h("td", {}, timeAgo(d.at)),
          h("td", {}, nameOf(d.client_id)), h("td", {}, h("strong", {}, human(d.action))),
          h("td", {}, d.reasons.map(human).join(", ")), h("td", { class: "ws-scores" }, scoreText(d.scores)),
          evidence.cell), evidence.extra];
      }))
      : h("p", { class: "muted" }, "No decision yet: allowed frames are not kept, only locks, sign-outs and blocks."));
  }
  function render() {
    const chosen = client.value;
    client.replaceChildren(h("option", { value: "" }, "All clients"),
      ...state.clients.map((c) => h("option", { value: c.id }, c.name)));
    client.value = state.clients.some((c) => c.id === chosen) ? chosen : "";
  }
  const reload = () => load().catch((err) => { count.textContent = `Could not load: ${err.message}`; });
  client.addEventListener("change", () => { offset = 0; reload(); });
  older.addEventListener("click", () => { offset += PAGE; reload(); });
  newer.addEventListener("click", () => { offset = Math.max(0, offset - PAGE); reload(); });
  again.addEventListener("click", () => { offset = 0; reload(); });
  const node = h("section", { class: "card ws-section", "aria-label": "Decision history" },
    h("h2", {}, "Decision history"), h("div", { class: "filters" }, field("Client", client), again),
    body, h("div", { class: "actions ws-pager" }, newer, older, count));
  return { node, load, render, cleanup: () => { for (const url of urls.splice(0)) URL.revokeObjectURL(url); } };
}
