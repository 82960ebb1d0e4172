// Dwell panel of the Analytics page (issue 23, part H6: analytics data truth).
//
// For pages/analytics.js (H4):
//   import { dwellPanel } from "./dwell.js";
//   const node = await dwellPanel({ cameraId, since, until });  // since, until: ISO strings
//   container.replaceChildren(node);
// Returns a <section class="dwell-panel"> with one row per zone and class: visits, mean, median,
// 90th percentile and longest stay. The figures are per visit (GET /analytics/dwell?per=visit):
// one per person's stay, with the tracker's fragments of one person joined and short absences
// merged, not one per zone.exited event (which counted every track fragment: "272 exits, mean
// 2.3 s" for a dozen people). Shows a "no visits" state, or the error text, instead of throwing.
import { get } from "../api.js";
import { h } from "../dom.js";
import { duration } from "./heatmap.js";

/** The dwell panel of one camera and period (see the top of this file). */
export async function dwellPanel({ cameraId, since, until }) {
  const query = new URLSearchParams({ camera_id: cameraId, since, until, per: "visit" });
  const title = h("h2", {}, "Dwell per visit");
  let items;
  try {
    items = (await get(`/analytics/dwell?${query}`)).items;
  } catch (e) {
    return h("section", { class: "dwell-panel", "aria-label": "Dwell", "data-state": "error" }, title,
      h("p", { role: "status" }, `Dwell could not be loaded: ${e.message}`));
  }
  if (!items.length) {
    return h("section", { class: "dwell-panel", "aria-label": "Dwell", "data-state": "empty" }, title,
      h("p", { role: "status" }, "No visits to this camera's zones in this period."));
  }
  const columns = ["Zone", "Class", "Visits", "Mean", "Median", "90 % under", "Longest"];
  return h("section", { class: "dwell-panel", "aria-label": "Dwell", "data-state": "ready" }, title,
    h("p", { class: "dwell-note" }, "One visit is one person's stay in the zone, however often the tracker lost and found them."),
    h("div", { class: "scroll" }, h("table", { "aria-label": "Dwell per visit" },
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, items.map((d) => h("tr", { "data-zone": d.zone },
        h("th", { scope: "row" }, d.zone), h("td", {}, d.class_name), h("td", {}, String(d.count)),
        h("td", {}, duration(d.mean_seconds)), h("td", {}, duration(d.p50_seconds)),
        h("td", {}, duration(d.p90_seconds)), h("td", {}, duration(d.max_seconds))))))));
}
