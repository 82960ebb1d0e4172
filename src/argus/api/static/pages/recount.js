// Re-count panel of the Analytics page: a camera's period counted again from its
// trajectory log (look-ahead smoothing and stitching), shown beside the live count.
import { get, post } from "../api.js";
import { field, h, when } from "../dom.js";
import { isoOf, localOf, onSubmit, statusLine, table } from "./kit.js";

const POLL_MS = 1000;
const PERIODS = [["today", "Today"], ["yesterday", "Yesterday"], ["custom", "Custom"]];

/** The chosen period as ISO instants: today so far, yesterday, or the custom inputs. */
function periodOf(choice, from, until) {
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  if (choice === "today") return { start: midnight.toISOString(), end: new Date().toISOString() };
  if (choice === "yesterday") {
    const before = new Date(midnight);
    before.setDate(before.getDate() - 1);
    return { start: before.toISOString(), end: midnight.toISOString() };
  }
  return { start: isoOf(from.value), end: isoOf(until.value) };
}

function results(job) {
  if (!job.lines.length) return h("p", {}, "This camera has no lines to count.");
  const cells = (l) => [l.live.in, l.live.out, l.recounted.in, l.recounted.out].map((n) => h("td", {}, String(n)));
  return table("Live and re-counted crossings",
    ["Line", "Live in", "Live out", "Re-counted in", "Re-counted out"],
    job.lines.map((l) => h("tr", {}, h("th", { scope: "row" }, l.line), ...cells(l))));
}

/** The panel: pick a camera and a period, run, read live beside re-counted per line. */
export function recountPanel(cameras) {
  const camera = h("select", { name: "recount-camera" }, cameras.map((c) => h("option", { value: c.id }, c.name)));
  const choice = h("select", { name: "recount-period" }, PERIODS.map(([v, t]) => h("option", { value: v }, t)));
  const from = h("input", { type: "datetime-local", name: "recount-from", value: localOf(new Date(Date.now() - 3600_000).toISOString()) });
  const until = h("input", { type: "datetime-local", name: "recount-until", value: localOf(null) });
  const custom = h("span", { class: "filters", hidden: true }, field("From", from), field("Until", until));
  choice.addEventListener("change", () => { custom.hidden = choice.value !== "custom"; });
  const status = statusLine();
  const out = h("div", { class: "recount-result" });
  const form = h("form", { class: "filters", "aria-label": "Re-count a period" },
    field("Camera", camera), field("Period", choice), custom,
    h("button", { type: "submit" }, "Run re-count"));
  onSubmit(form, status, async () => {
    out.replaceChildren();
    let job = await post(`/cameras/${camera.value}/recounts`, periodOf(choice.value, from, until));
    while (job.status === "queued" || job.status === "running") {
      status.ok(`Re-count ${job.status}…`);
      await new Promise((resolve) => { setTimeout(resolve, POLL_MS); });
      if (!form.isConnected) return;  // the page was left
      job = await get(`/recounts/${job.id}`);
    }
    if (job.status === "failed") { status.fail(`Re-count failed: ${job.error}`); return; }
    status.ok(`Re-counted ${when(job.start)} – ${when(job.end)} from ${job.samples} trajectory samples.`);
    out.replaceChildren(results(job));
  });
  return h("section", { "aria-label": "Re-count" }, h("h2", {}, "Re-count"),
    h("p", {}, "Counts a recorded period again from the tracks' trajectories, with hindsight: "
      + "people lost and found across a line, and identity switches, are counted once."),
    form, status.node, out);
}
