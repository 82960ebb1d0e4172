// Workstations page, pipelines and the queue: the limits in force, each running pipeline with
// the clients it serves, and the clients waiting for a place (GET /workstations/pipelines).
import { get } from "../api.js";
import { h } from "../dom.js";
import { table } from "./kit.js";

/**
 * The pipelines section; ``load`` re-reads it (the page polls it).
 * @param {{clients: object[]}} state the page's clients (names for the ids)
 */
export function pipelinesSection(state) {
  const limits = h("p", { class: "legend ws-limits" });
  const body = h("div", {});
  const queue = h("div", { class: "ws-queue" });
  const nameOf = (id) => state.clients.find((c) => c.id === id)?.name ?? id;
  async function load() {
    const capacity = await get("/workstations/pipelines");
    const l = capacity.limits;
    limits.textContent = `Up to ${l.max_pipelines} pipelines of ${l.max_clients_per_pipeline} clients each; `
      + `${l.max_queue} may wait; an idle client leaves after ${l.idle_seconds} s.`;
    body.replaceChildren(capacity.pipelines.length
      ? table("Pipelines", ["Pipeline", "Clients", "Frames analysed here"], capacity.pipelines.map((p) =>
        h("tr", { "data-pipeline": String(p.id) }, h("td", {}, `#${p.id}`),
          h("td", {}, p.clients.map(nameOf).join(", ") || "none"),
          h("td", {}, p.analysed_here === null ? "— (another server)" : String(p.analysed_here)))))
      : h("p", { class: "muted" }, "No pipeline is running (no client is connected)."));
    queue.replaceChildren(h("h3", {}, `Queue (${capacity.queue.length})`), capacity.queue.length
      ? h("ol", { class: "ws-queue-list" }, capacity.queue.map((id) => h("li", {}, nameOf(id))))
      : h("p", { class: "muted" }, "Nobody is waiting."));
  }
  const node = h("section", { class: "card ws-section", "aria-label": "Pipelines and queue" },
    h("h2", {}, "Pipelines and queue"), limits, body, queue);
  return { node, load };
}
