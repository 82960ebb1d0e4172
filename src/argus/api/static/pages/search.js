// Search in words over events, alerts and incidents (GET /search). The chips show
// what the question became (time, camera, zone, line, class, kind); the words left
// rank the results by meaning. #/search?q=<question> opens with a question asked.
import { get } from "../api.js";
import { h, hashRoute, human, when } from "../dom.js";
import { statusLine } from "./kit.js";

const EXAMPLES = [
  "person loitering at night",
  "cars crossing the kerb line on Sunday",
  "people entering yesterday",
  "dismissed alerts last week",
];
const LABELS = {
  time: "When", hours: "Hours", camera: "Camera", zone: "Zone", line: "Line",
  class: "Class", direction: "Direction", type: "Kind", kind: "Only",
};
const RANKING = {
  similarity: "Ranked by how close each description is to the words left over.",
  recency: "Every word became a filter: newest first.",
  keyword: "The text model is unavailable: the words were matched literally.",
};

function link(item) {
  const id = encodeURIComponent(item.id);
  if (item.kind === "alert") return h("a", { href: `#/alerts/${id}` }, "Open alert");
  if (item.kind === "incident") return h("a", { href: `#/incidents/${id}` }, "Open incident");
  return null;
}

function chips(understood, text) {
  const parts = understood.map((u) => h("li", { class: "chip", title: u.value },
    h("strong", {}, `${LABELS[u.field] ?? u.field}: `), u.words));
  if (text) parts.push(h("li", { class: "chip chip-text", title: "Matched by meaning" }, h("strong", {}, "Words: "), text));
  return h("ul", { class: "search-chips", "aria-label": "What the question became" }, parts);
}

function hit(item) {
  const score = item.score === null ? null : h("span", { class: "search-score", title: "Similarity" }, item.score.toFixed(2));
  return h("li", { class: "search-hit", "data-kind": item.kind },
    h("div", { class: "search-hit-head" },
      h("span", { class: `badge kind-${item.kind}` }, item.kind),
      h("time", { datetime: item.occurred_at }, when(item.occurred_at)),
      item.camera_id ? h("span", { class: "search-camera" }, item.camera_id) : null,
      score),
    h("p", { class: "search-description" }, item.description),
    item.event_type ? h("p", { class: "muted" }, human(item.event_type)) : null,
    link(item));
}

/** The page: a search box, example questions, the parsed chips and the results. */
export async function searchView() {
  const initial = hashRoute().query.get("q") ?? "";
  const input = h("input", {
    type: "search", name: "q", value: initial, maxlength: "300", required: true,
    placeholder: "e.g. person loitering at the north gate last night", "aria-label": "Question",
  });
  const status = statusLine();
  const out = h("div", { class: "search-results" });

  async function ask(question) {
    input.value = question;
    status.clear();
    out.replaceChildren(h("p", { class: "muted" }, "Searching…"));
    try {
      const result = await get(`/search?q=${encodeURIComponent(question)}&limit=50`);
      const items = result.items.map(hit);
      out.replaceChildren(chips(result.understood, result.text),
        h("p", { class: "muted search-ranking" }, RANKING[result.ranking]),
        items.length ? h("ol", { class: "search-hits" }, items)
          : h("p", { class: "empty" }, "Nothing matched. Try fewer filters or other words."));
      status.ok(`${items.length} result${items.length === 1 ? "" : "s"}.`);
      history.replaceState(null, "", `#/search?q=${encodeURIComponent(question)}`);
    } catch (err) {
      out.replaceChildren();
      status.fail(err);
    }
  }

  const form = h("form", { class: "search-form", role: "search", "aria-label": "Search in words" },
    input, h("button", { class: "primary", type: "submit" }, "Search"));
  form.addEventListener("submit", (event) => { event.preventDefault(); ask(input.value.trim()); });
  const examples = h("p", { class: "search-examples" }, "Try: ",
    ...EXAMPLES.map((q) => h("button", { type: "button", class: "link", onclick: () => ask(q) }, q)));
  if (initial) ask(initial);
  return {
    node: h("div", { class: "card search-page" }, h("h1", {}, "Search"),
      h("p", {}, "Ask for events, alerts and incidents in words. Times, cameras, zones, lines, "
        + "classes and kinds of event become filters; the rest is matched by meaning."),
      form, examples, status.node, out),
  };
}
